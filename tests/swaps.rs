//! Swap requests against the real `rota serve`: the flow, validation, who may do what, and racing
//! accepts sent in parallel over HTTP.
//!
//! The server runs on the system clock, so shifts are picked relative to now: the example
//! support-hero rotation (weekly from 2026-11-02 09:00 London, nine members) gives slot `n` to
//! `members[n % 9]`: alice, bob, grace, dave, carol, heidi, erin, frank, ivan.

use std::sync::{Arc, Barrier};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::server::{Server, client, get_json};

/// 2026-11-02T09:00:00Z, the support-hero rotation's first handoff.
const HERO_START: u64 = 1_793_610_000;
const WEEK: u64 = 7 * 24 * 3600;

/// Alice's `k`-th future hero slot, at least two weeks ahead (and clear of the example files'
/// Christmas swap in slots 9 and 10). Bob's is the next one, Grace's the one after.
pub(crate) fn alice_slot(k: u64) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let current = now.saturating_sub(HERO_START) / WEEK;
    (current / 9 + 2).max(2) * 9 + 9 * k
}

fn call(
    c: &Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut r = match method {
        "GET" => c.get(url),
        _ => c.post(url),
    };
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let r = r.send().unwrap();
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{method} {url}"
        );
    }
    (status, r.json().unwrap_or(Value::Null))
}

struct Api<'a> {
    s: &'a Server,
    c: Client,
}

impl Api<'_> {
    fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        call(&self.c, "POST", &self.s.url(path), token, Some(body))
    }

    fn act(&self, id: &str, verb: &str, token: Option<&str>) -> (u16, Value) {
        call(
            &self.c,
            "POST",
            &self.s.url(&format!("/api/v1/swaps/{id}/{verb}")),
            token,
            None,
        )
    }

    fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        call(&self.c, "GET", &self.s.url(path), token, None)
    }

    fn hero_at(&self, at: &str) -> Value {
        let (st, v) = get_json(&self.c, &self.s.url(&format!("/api/v1/whoishero?at={at}")));
        assert_eq!(st, 200);
        v
    }

    fn propose(&self, token: &str, body: Value) -> Value {
        let (st, v) = self.post("/api/v1/swaps", Some(token), &body);
        assert_eq!(st, 201, "{body} -> {v}");
        v
    }
}

fn trade(my_slot: u64, counterpart: &str, their_slot: u64) -> Value {
    json!({"rotation":"support-hero","kind":"trade","my_slot":my_slot,"counterpart":counterpart,"their_slot":their_slot})
}

fn cover(my_slot: u64, counterpart: &str) -> Value {
    json!({"rotation":"support-hero","kind":"cover","my_slot":my_slot,"counterpart":counterpart})
}

#[test]
fn a_trade_and_a_cover_become_overrides_and_leave_the_order_alone() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, bob, grace) = (s.token("alice"), s.token("bob"), s.token("grace"));
    let a = alice_slot(0);

    // Alice offers Bob her week for his.
    let req = api.propose(&alice, trade(a, "bob", a + 1));
    assert_eq!(req["state"], "pending");
    assert_eq!(req["kind"], "trade");
    assert_eq!(
        (req["requester"].as_str(), req["counterpart"].as_str()),
        (Some("alice"), Some("bob"))
    );
    let id = req["id"].as_str().unwrap().to_string();
    let (a_start, b_start) = (
        req["my_slot"]["start"].as_str().unwrap().to_string(),
        req["their_slot"]["start"].as_str().unwrap().to_string(),
    );
    assert_eq!(req["expires_at"].as_str(), Some(a_start.as_str()));
    assert_eq!(api.hero_at(&a_start)["person"]["id"], "alice");
    // Bob sees it in his list, and Grace does not.
    let (st, mine) = api.get("/api/v1/swaps", Some(&bob));
    assert_eq!(st, 200);
    assert_eq!(mine[0]["id"], id.as_str());
    assert_eq!(api.get("/api/v1/swaps", Some(&grace)).1, json!([]));

    let (st, done) = api.act(&id, "accept", Some(&bob));
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["state"], "accepted");
    assert_eq!(done["decided_by"], "bob");
    assert_eq!(done["overrides"].as_array().unwrap().len(), 2);
    // whoishero and oncall show the new people at once ...
    let hero = api.hero_at(&a_start);
    assert_eq!(
        (hero["person"]["id"].as_str(), hero["source"].as_str()),
        (Some("bob"), Some("override"))
    );
    assert_eq!(api.hero_at(&b_start)["person"]["id"], "alice");
    let (_, oncall) = get_json(&api.c, &s.url(&format!("/api/v1/oncall?at={a_start}")));
    let hero_row = oncall
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["rotation"] == "support-hero")
        .unwrap();
    assert_eq!(hero_row["person"]["id"], "bob");
    // ... and the overrides are ordinary API overrides.
    let (_, overrides) = get_json(&api.c, &s.url("/api/v1/overrides?rotation=support-hero"));
    let reasons: Vec<&str> = overrides
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["origin"] == "api")
        .map(|o| o["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{overrides}");
    assert!(
        reasons.iter().all(|r| r.starts_with(&format!("swap {id}"))),
        "{reasons:?}"
    );
    // The order is untouched: nine weeks later Alice and Bob are back in their own places.
    let (_, rotations) = get_json(&api.c, &s.url("/api/v1/rotations"));
    assert_eq!(
        rotations[3]["members"],
        json!([
            "alice", "bob", "grace", "dave", "carol", "heidi", "erin", "frank", "ivan"
        ])
    );
    let next = api.propose(&bob, cover(a + 10, "grace"));
    let next_start = next["my_slot"]["start"].as_str().unwrap().to_string();
    let hero = api.hero_at(&next_start);
    assert_eq!(
        (hero["person"]["id"].as_str(), hero["source"].as_str()),
        (Some("bob"), Some("rotation"))
    );

    // A cover: Grace takes Bob's later week, one override.
    let cid = next["id"].as_str().unwrap();
    assert_eq!(next["their_slot"], Value::Null);
    let (st, done) = api.act(cid, "accept", Some(&grace));
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["overrides"].as_array().unwrap().len(), 1);
    assert_eq!(api.hero_at(&next_start)["person"]["id"], "grace");
    let (_, graces) = get_json(
        &api.c,
        &s.url(&format!("/api/v1/people/grace/shifts?from={next_start}")),
    );
    assert!(
        graces
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rotation"] == "support-hero" && v["start"] == next_start.as_str()),
        "{graces}"
    );

    // The audit log (admins only) has every step, newest first, and pages with before=.
    let (st, log) = api.get("/api/v1/audit?limit=50", Some(&alice));
    assert_eq!(st, 200, "{log}");
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("swap.") || a.starts_with("override."))
        .collect();
    assert_eq!(
        actions,
        [
            "swap.accept",
            "override.create",
            "swap.create",
            "swap.accept",
            "override.create",
            "override.create",
            "swap.create"
        ]
    );
    let first = log[0]["seq"].as_i64().unwrap();
    let (_, page) = api.get(
        &format!("/api/v1/audit?limit=2&before={first}"),
        Some(&alice),
    );
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["seq"].as_i64(), Some(first - 1));
    assert_eq!(page[0]["action"], "override.create");
    assert_eq!(page[0]["actor"], "grace");
    // The schedule page is plain HTML that allows no scripts.
    let page = api.c.get(s.url("/")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = page.text().unwrap();
    assert!(html.contains("Support Hero now: <strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(api.get("/api/v1/audit", Some(&bob)).0, 403);
    assert_eq!(api.get("/api/v1/audit", None).0, 401);
    assert_eq!(api.get("/api/v1/audit?limit=0", Some(&alice)).0, 400);
}

#[test]
fn bad_swap_requests_are_4xx_naming_the_field() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, bob) = (s.token("alice"), s.token("bob"));
    let a = alice_slot(0);
    // An override already covers part of Alice's week a + 9 (the admin wrote it).
    let (st, start_of) = api.get(
        "/api/v1/rotations/support-hero/shifts?from=2026-11-02&to=2028-11-01",
        None,
    );
    assert_eq!(st, 200);
    let week_start = |slot: u64| {
        start_of[slot as usize]["start"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let covered_start = week_start(a + 9);
    let (st, o) = api.post(
        "/api/v1/overrides",
        Some(&alice),
        &json!({"rotation":"support-hero","person":"carol","start":covered_start,"end":week_start(a + 10)}),
    );
    assert_eq!(st, 201, "{o}");

    let cases: Vec<(Value, u16, Option<&str>, &str)> = vec![
        (
            json!({"rotation":"villains","kind":"cover","my_slot":a,"counterpart":"bob"}),
            400,
            Some("rotation"),
            "unknown rotation",
        ),
        (
            json!({"rotation":"support-hero","kind":"cover","my_slot":a,"counterpart":"nobody"}),
            400,
            Some("counterpart"),
            "unknown person",
        ),
        (
            json!({"rotation":"platform-secondary","kind":"cover","my_slot":a,"counterpart":"bob"}),
            400,
            Some("counterpart"),
            "bob is not a member of rotation platform-secondary",
        ),
        (
            json!({"rotation":"support-hero","kind":"cover","my_slot":u64::MAX,"counterpart":"bob"}),
            404,
            Some("my_slot"),
            "has no shift",
        ),
        (cover(0, "bob"), 409, Some("my_slot"), "ended at"),
        (
            cover(a + 1, "bob"),
            409,
            Some("my_slot"),
            "not currently alice's",
        ),
        (
            trade(a, "bob", a + 2),
            409,
            Some("their_slot"),
            "not currently bob's",
        ),
        (
            cover(a + 9, "bob"),
            409,
            Some("my_slot"),
            "already covered by override",
        ),
        (trade(a, "bob", a), 400, Some("their_slot"), "overlapping"),
        (
            json!({"rotation":"support-hero","kind":"trade","my_slot":a,"counterpart":"bob"}),
            400,
            Some("their_slot"),
            "their_slot is required",
        ),
        (
            json!({"rotation":"support-hero","kind":"cover","my_slot":a,"counterpart":"bob","their_slot":a + 1}),
            400,
            Some("their_slot"),
            "leave out their_slot",
        ),
        (cover(a, "alice"), 400, Some("counterpart"), "someone other"),
        (
            json!({"rotation":"support-hero","kind":"cover","my_slot":a,"counterpart":"bob","please":true}),
            400,
            Some("please"),
            "unknown field",
        ),
        (
            json!({"rotation":"support-hero","kind":"swap","my_slot":a,"counterpart":"bob"}),
            400,
            None,
            "unknown variant",
        ),
    ];
    for (body, status, field, detail) in &cases {
        let (st, p) = api.post("/api/v1/swaps", Some(&alice), body);
        assert_eq!(st, *status, "{body} -> {p}");
        if field.is_some() {
            assert_eq!(p["field"].as_str(), *field, "{body} -> {p}");
        }
        assert!(
            p["detail"].as_str().unwrap().contains(detail),
            "{body} -> {p}"
        );
    }
    // A member of the rotation who is not the requester's rotation: Bob in platform-secondary.
    let (st, p) = api.post(
        "/api/v1/swaps",
        Some(&bob),
        &json!({"rotation":"platform-secondary","kind":"cover","my_slot":a,"counterpart":"alice"}),
    );
    assert_eq!(st, 400, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("bob is not a member"),
        "{p}"
    );
    // Only admins act on behalf of others.
    let (st, p) = api.post(
        "/api/v1/swaps",
        Some(&bob),
        &json!({"rotation":"support-hero","kind":"cover","my_slot":a,"counterpart":"grace","on_behalf_of":"alice"}),
    );
    assert_eq!(st, 403, "{p}");
    // Unauthenticated (or a bad token): 401 whatever the body.
    assert_eq!(api.post("/api/v1/swaps", None, &cover(a, "bob")).0, 401);
    assert_eq!(
        api.post("/api/v1/swaps", Some("rota_0000"), &json!({})).0,
        401
    );
    assert_eq!(api.get("/api/v1/swaps", None).0, 401);
    assert_eq!(api.get("/api/v1/swaps/swp_nope", Some(&alice)).0, 404);
    assert_eq!(api.act("swp_nope", "accept", Some(&bob)).0, 404);

    // Stale: the schedule of the shift changes after the request was made.
    let req = api.propose(&alice, cover(a + 18, "bob"));
    let (st, o) = api.post(
        "/api/v1/overrides",
        Some(&alice),
        &json!({"rotation":"support-hero","person":"dave","start":week_start(a + 18),"end":week_start(a + 19)}),
    );
    assert_eq!(st, 201, "{o}");
    let (st, p) = api.act(req["id"].as_str().unwrap(), "accept", Some(&bob));
    assert_eq!(st, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("stale"), "{p}");

    // Deciding a decided request: 409.
    let req = api.propose(&alice, cover(a, "bob"));
    let id = req["id"].as_str().unwrap();
    assert_eq!(api.act(id, "decline", Some(&bob)).0, 200);
    for (verb, who) in [("accept", &bob), ("decline", &bob), ("cancel", &alice)] {
        let (st, p) = api.act(id, verb, Some(who));
        assert_eq!(st, 409, "{verb}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains("already declined"),
            "{p}"
        );
    }
    let req = api.propose(&alice, cover(a, "bob"));
    let id = req["id"].as_str().unwrap();
    let (st, p) = api.act(id, "cancel", Some(&alice));
    assert_eq!((st, p["state"].as_str()), (200, Some("cancelled")));
    assert_eq!(api.act(id, "accept", Some(&bob)).0, 409);
    // Nothing above changed who is on call in Alice's week.
    assert_eq!(api.hero_at(&week_start(a))["person"]["id"], "alice");
}

#[test]
fn people_act_only_for_themselves_and_admins_for_anyone() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, bob, grace, carol) = (
        s.token("alice"),
        s.token("bob"),
        s.token("grace"),
        s.token("carol"),
    );
    let b = alice_slot(0) + 1;
    let req = api.propose(&bob, trade(b, "grace", b + 1));
    let id = req["id"].as_str().unwrap();
    // A third party can neither see nor touch it.
    assert_eq!(api.get(&format!("/api/v1/swaps/{id}"), Some(&carol)).0, 403);
    for verb in ["accept", "decline", "cancel"] {
        assert_eq!(api.act(id, verb, Some(&carol)).0, 403, "{verb}");
        assert_eq!(api.act(id, verb, None).0, 401, "{verb}");
    }
    // The requester cannot accept or decline their own request; the counterpart cannot cancel it.
    assert_eq!(api.act(id, "accept", Some(&bob)).0, 403);
    assert_eq!(api.act(id, "decline", Some(&bob)).0, 403);
    assert_eq!(api.act(id, "cancel", Some(&grace)).0, 403);
    assert_eq!(api.get(&format!("/api/v1/swaps/{id}"), Some(&grace)).0, 200);
    assert_eq!(
        api.get(&format!("/api/v1/swaps/{id}"), Some(&bob)).1["state"],
        "pending"
    );

    // An admin proposes on behalf of Dave and accepts for Carol.
    let d = b + 2; // Dave's slot; Carol's is the next
    let mut body = trade(d, "carol", d + 1);
    body["on_behalf_of"] = json!("dave");
    let req = api.propose(&alice, body);
    assert_eq!(
        (req["requester"].as_str(), req["created_by"].as_str()),
        (Some("dave"), Some("alice"))
    );
    let (st, done) = api.act(req["id"].as_str().unwrap(), "accept", Some(&alice));
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["decided_by"], "alice");
    assert_eq!(
        api.hero_at(req["my_slot"]["start"].as_str().unwrap())["person"]["id"],
        "carol"
    );
    assert_eq!(
        api.hero_at(req["their_slot"]["start"].as_str().unwrap())["person"]["id"],
        "dave"
    );
    // Admins list everything; others their own.
    assert_eq!(
        api.get("/api/v1/swaps", Some(&alice))
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        api.get("/api/v1/swaps", Some(&carol))
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn sixteen_parallel_accepts_of_one_request_let_exactly_one_win() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (bob, grace) = (s.token("bob"), s.token("grace"));
    let b = alice_slot(0) + 1;
    let req = api.propose(&bob, trade(b, "grace", b + 1));
    let id = req["id"].as_str().unwrap().to_string();
    let barrier = Arc::new(Barrier::new(16));
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (barrier, url, grace) = (
                    barrier.clone(),
                    s.url(&format!("/api/v1/swaps/{id}/accept")),
                    grace.clone(),
                );
                sc.spawn(move || {
                    let c = client();
                    barrier.wait();
                    call(&c, "POST", &url, Some(&grace), None).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&st| st == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&st| st == 409).count(),
        15,
        "{statuses:?}"
    );
    let (_, overrides) = get_json(&api.c, &s.url("/api/v1/overrides"));
    let api_made = overrides
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["origin"] == "api")
        .count();
    assert_eq!(api_made, 2, "exactly one swap's overrides: {overrides}");
}

#[test]
fn two_requests_for_one_shift_cannot_both_be_accepted() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (bob, grace, carol) = (s.token("bob"), s.token("grace"), s.token("carol"));
    // Three of Bob's weeks, each offered to Grace and to Carol; all six accepted at once.
    let slots: Vec<u64> = (0..3).map(|k| alice_slot(k) + 1).collect();
    let mut jobs = Vec::new();
    for &slot in &slots {
        for (who, token) in [("grace", &grace), ("carol", &carol)] {
            let req = api.propose(&bob, cover(slot, who));
            jobs.push((slot, req["id"].as_str().unwrap().to_string(), token.clone()));
        }
    }
    let barrier = Arc::new(Barrier::new(jobs.len()));
    let results: Vec<(u64, u16)> = std::thread::scope(|sc| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(slot, id, token)| {
                let (barrier, url) = (
                    barrier.clone(),
                    s.url(&format!("/api/v1/swaps/{id}/accept")),
                );
                sc.spawn(move || {
                    let c = client();
                    barrier.wait();
                    (*slot, call(&c, "POST", &url, Some(token), None).0)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for slot in slots {
        let mut got: Vec<u16> = results
            .iter()
            .filter(|r| r.0 == slot)
            .map(|r| r.1)
            .collect();
        got.sort();
        assert_eq!(got, [200, 409], "slot {slot}: {results:?}");
    }
    let (_, overrides) = get_json(&api.c, &s.url("/api/v1/overrides"));
    let api_made = overrides
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["origin"] == "api")
        .count();
    assert_eq!(api_made, 3, "one cover per shift: {overrides}");
}

#[test]
fn the_swap_form_works_over_http_and_refuses_forged_posts() {
    let s = Server::start();
    let c = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bob = s.token("bob");
    let form = |path: &str, cookie: Option<&str>, origin: Option<&str>, body: String| {
        let mut r = c
            .post(s.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(k) = cookie {
            r = r.header("cookie", k);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send().unwrap()
    };
    let r = form("/signin", None, None, format!("token={bob}"));
    assert_eq!(r.status(), 303);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let me = c
        .get(s.url("/me"))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = me
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_string();
    let slot = alice_slot(0) + 1;
    let fields = |csrf: &str| {
        format!(
            "csrf={csrf}&rotation=support-hero&my_slot={slot}&kind=trade&counterpart=grace&their_slot={}",
            slot + 1
        )
    };
    // Forged: no CSRF token; another site's origin; no session at all.
    assert_eq!(
        form("/swaps/new", Some(&cookie), None, fields("")).status(),
        403
    );
    let evil = form(
        "/swaps/new",
        Some(&cookie),
        Some("https://evil.example"),
        fields(&csrf),
    );
    assert_eq!(evil.status(), 403);
    assert_eq!(form("/swaps/new", None, None, fields(&csrf)).status(), 401);
    let (st, list) = call(&c, "GET", &s.url("/api/v1/swaps"), Some(&bob), None);
    assert_eq!((st, list), (200, json!([])), "nothing was created");
    // The real form, from the same origin.
    let ok = form("/swaps/new", Some(&cookie), Some(&s.base), fields(&csrf));
    assert_eq!(ok.status(), 303);
    let at = ok.headers()["location"].to_str().unwrap().to_string();
    let (_, list) = call(&c, "GET", &s.url("/api/v1/swaps"), Some(&bob), None);
    assert_eq!(
        format!("/swaps/{}", list[0]["id"].as_str().unwrap()),
        at,
        "{list}"
    );
    assert_eq!(list[0]["kind"], "trade");
    // Signing out needs the token too.
    assert_eq!(
        form("/signout", Some(&cookie), None, String::new()).status(),
        403
    );
    let out = form("/signout", Some(&cookie), None, format!("csrf={csrf}"));
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

// Issue 13: parts of a shift and taking over now.

/// Slot `n` of `rotation` as the slots API gives it: (start, end) in UTC, RFC 3339.
fn slot_bounds(api: &Api<'_>, rotation: &str, n: u64) -> (String, String) {
    let now = chrono::Utc::now();
    let to = now + chrono::Duration::weeks(40);
    let (st, v) = api.get(
        &format!(
            "/api/v1/rotations/{rotation}/slots?from={}&to={}",
            now.format("%Y-%m-%dT%H:%M:%SZ"),
            to.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let s = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot"] == n)
        .unwrap_or_else(|| panic!("no slot {n} of {rotation} in the next 40 weeks"));
    (
        s["start"].as_str().unwrap().to_string(),
        s["end"].as_str().unwrap().to_string(),
    )
}

/// The civil date-time `days` days after `start` (RFC 3339) at the same wall-clock time in
/// Europe/London, as the API takes it: a day of a week, DST-correct.
fn london_day(start: &str, days: i64) -> String {
    use chrono::TimeZone;
    let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
    let local = start
        .with_timezone(&chrono_tz::Europe::London)
        .naive_local();
    let day = local + chrono::Duration::days(days);
    // The API resolves it in the rotation's zone; a 09:00 wall clock always exists in London.
    let _ = chrono_tz::Europe::London
        .from_local_datetime(&day)
        .single()
        .unwrap();
    day.format("%Y-%m-%dT%H:%M").to_string()
}

fn utc_of_london(civil: &str) -> String {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(civil, "%Y-%m-%dT%H:%M").unwrap();
    chrono_tz::Europe::London
        .from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn plus_minutes(t: &str, m: i64) -> String {
    let t: chrono::DateTime<chrono::Utc> = t.parse().unwrap();
    (t + chrono::Duration::minutes(m))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn a_day_of_a_week_is_covered_and_the_rest_stays_with_its_owner() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, bob) = (s.token("alice"), s.token("bob"));
    let a = alice_slot(0);
    let (week_start, week_end) = slot_bounds(&api, "support-hero", a);
    // Tuesday: the second day of Alice's week, 09:00 to 09:00 London.
    let (from, to) = (london_day(&week_start, 1), london_day(&week_start, 2));
    let mut body = cover(a, "bob");
    body["start"] = json!(from);
    body["end"] = json!(to);
    let req = api.propose(&alice, body);
    let (from_utc, to_utc) = (utc_of_london(&from), utc_of_london(&to));
    assert_eq!(req["my_slot"]["slot"], a);
    assert_eq!(req["my_slot"]["start"], from_utc.as_str());
    assert_eq!(req["my_slot"]["end"], to_utc.as_str());
    assert_eq!(
        req["expires_at"],
        from_utc.as_str(),
        "it expires when the part starts"
    );
    assert_eq!(req["take_over"], false);
    let id = req["id"].as_str().unwrap();
    let (st, done) = api.act(id, "accept", Some(&bob));
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["overrides"].as_array().unwrap().len(), 1);
    // Bob has Tuesday; Alice keeps Monday and Wednesday onwards; Bob's own week is his.
    let who = |at: &str| {
        api.hero_at(at)["person"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(who(&plus_minutes(&from_utc, 60)), "bob");
    assert_eq!(who(&plus_minutes(&to_utc, -1)), "bob");
    assert_eq!(who(&plus_minutes(&week_start, 60)), "alice");
    assert_eq!(who(&plus_minutes(&from_utc, -1)), "alice");
    assert_eq!(who(&to_utc), "alice");
    assert_eq!(who(&plus_minutes(&week_end, -1)), "alice");
    assert_eq!(
        who(&plus_minutes(&week_end, 60)),
        "bob",
        "the order never changes"
    );
    // Alice's feed has her week in two pieces, Bob's the day; the pieces keep stable UIDs.
    let ics = String::from_utf8(s.rota(&["ics", "--person", "alice"]).stdout).unwrap();
    assert!(ics.contains(&format!("UID:support-hero-{a}@rota")), "{ics}");
    let later = to_utc
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .timestamp();
    assert!(
        ics.contains(&format!("UID:support-hero-{a}-{later}@rota")),
        "the piece after the covered day: {ics}"
    );
    let ics = String::from_utf8(s.rota(&["ics", "--person", "bob"]).stdout).unwrap();
    let day = from_utc
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .timestamp();
    assert!(
        ics.contains(&format!("UID:support-hero-{a}-{day}@rota")),
        "{ics}"
    );
}

#[test]
fn a_trade_of_parts_of_different_lengths() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, grace) = (s.token("alice"), s.token("grace"));
    let a = alice_slot(0);
    let (mine, _) = slot_bounds(&api, "support-hero", a);
    let (theirs, _) = slot_bounds(&api, "support-hero", a + 2);
    // Alice's Wednesday (24 h) for twelve hours of Grace's Thursday.
    let mut body = trade(a, "grace", a + 2);
    body["start"] = json!(london_day(&mine, 2));
    body["end"] = json!(london_day(&mine, 3));
    let their_start = london_day(&theirs, 3);
    let their_end = {
        let t = chrono::NaiveDateTime::parse_from_str(&their_start, "%Y-%m-%dT%H:%M").unwrap();
        (t + chrono::Duration::hours(12))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    body["their_start"] = json!(their_start);
    body["their_end"] = json!(their_end);
    let req = api.propose(&alice, body);
    assert_eq!(
        req["their_slot"]["start"],
        utc_of_london(&their_start).as_str()
    );
    assert_eq!(req["their_slot"]["end"], utc_of_london(&their_end).as_str());
    let (st, done) = api.act(req["id"].as_str().unwrap(), "accept", Some(&grace));
    assert_eq!(st, 200, "{done}");
    let who = |at: &str| {
        api.hero_at(at)["person"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let wed = utc_of_london(&london_day(&mine, 2));
    assert_eq!(who(&plus_minutes(&wed, 30)), "grace");
    assert_eq!(who(&plus_minutes(&wed, -30)), "alice");
    let thu = utc_of_london(&their_start);
    assert_eq!(who(&plus_minutes(&thu, 30)), "alice");
    assert_eq!(who(&plus_minutes(&thu, 12 * 60 + 30)), "grace");
}

#[test]
fn overlapping_parts_cannot_both_be_accepted_and_separate_ones_can() {
    let s = Server::start();
    let (alice, bob, grace) = (s.token("alice"), s.token("bob"), s.token("grace"));
    let api = Api { s: &s, c: client() };
    let a = alice_slot(1);
    let (week, _) = slot_bounds(&api, "support-hero", a);
    let part = |d0: i64, d1: i64, who: &str| {
        let mut b = cover(a, who);
        b["start"] = json!(london_day(&week, d0));
        b["end"] = json!(london_day(&week, d1));
        b
    };
    // Monday-Tuesday to Bob and Tuesday alone to Grace overlap; Thursday to Grace does not.
    let r1 = api.propose(&alice, part(0, 2, "bob"));
    let r2 = api.propose(&alice, part(1, 2, "grace"));
    let r3 = api.propose(&alice, part(3, 4, "grace"));
    let codes = accept_at_once(&s, &[(&r1, &bob), (&r2, &grace)]);
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409], "{codes:?}");
    let (st, v) = api.act(r3["id"].as_str().unwrap(), "accept", Some(&grace));
    assert_eq!(st, 200, "a part that overlaps nothing: {v}");
    let (_, overrides) = api.get("/api/v1/overrides", None);
    let api_made = overrides
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["origin"] == "api")
        .count();
    assert_eq!(api_made, 2, "{overrides}");
}

#[test]
fn bad_parts_are_400_naming_the_field() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let alice = s.token("alice");
    let a = alice_slot(0);
    let (week, week_end) = slot_bounds(&api, "support-hero", a);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"start": london_day(&week, -1)}),
            "start",
            "outside the shift",
        ),
        (
            json!({"end": london_day(&week, 8)}),
            "end",
            "outside the shift",
        ),
        (
            json!({"start": london_day(&week, 2), "end": london_day(&week, 1)}),
            "end",
            "must be after",
        ),
        (
            json!({"start": week.clone(), "end": plus_minutes(&week, 15)}),
            "end",
            "at least 30 minutes",
        ),
        (
            json!({"start": week.replace(":00Z", ":30Z"), "end": week_end.clone()}),
            "start",
            "whole minute",
        ),
        (json!({"start": "next tuesday"}), "start", "invalid time"),
        (
            json!({"their_start": week.clone()}),
            "their_start",
            "belong to a trade",
        ),
    ];
    for (extra, field, words) in cases {
        let mut body = cover(a, "bob");
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, v) = api.post("/api/v1/swaps", Some(&alice), &body);
        assert_eq!(st, 400, "{body} -> {v}");
        assert_eq!(v["field"], field, "{body} -> {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(words),
            "{body} -> {v}"
        );
    }
}

/// The shift running now in some rotation whose person is on call by their turn (not an override
/// or a link), with the next member to ask: (rotation, slot, person, colleague, end).
fn a_shift_running_now(api: &Api<'_>) -> (String, u64, String, String, String) {
    for rotation in [
        "support-hero",
        "core-experience-secondary",
        "core-analytics-secondary",
        "platform-secondary",
    ] {
        let (st, v) = api.get(&format!("/api/v1/rotations/{rotation}/slots"), None);
        assert_eq!(st, 200);
        let Some(now) = v.as_array().unwrap().first() else {
            continue;
        };
        let on_call = now["on_call"].as_array().unwrap();
        if on_call.len() == 1
            && on_call[0]["source"] == "rotation"
            && on_call[0]["person"]["id"] == now["member"]
        {
            let next = &v.as_array().unwrap()[1];
            if next["member"] != now["member"] {
                return (
                    rotation.to_string(),
                    now["slot"].as_u64().unwrap(),
                    now["member"].as_str().unwrap().to_string(),
                    next["member"].as_str().unwrap().to_string(),
                    now["end"].as_str().unwrap().to_string(),
                );
            }
        }
    }
    panic!("no rotation has a shift running now by the rotation order alone");
}

#[test]
fn a_started_shift_can_be_taken_over_now_by_a_cover_not_a_trade() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (rotation, slot, person, colleague, end) = a_shift_running_now(&api);
    let (mine, theirs) = (s.token(&person), s.token(&colleague));
    // A trade cannot include a shift that has started.
    let (st, v) = api.post(
        "/api/v1/swaps",
        Some(&mine),
        &json!({"rotation": rotation, "kind": "trade", "my_slot": slot, "counterpart": colleague, "their_slot": slot + 1}),
    );
    assert_eq!(st, 409, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("a cover may take over"),
        "{v}"
    );
    // A cover asks to take over the rest of it.
    let asked = chrono::Utc::now();
    let req = api.propose(
        &mine,
        json!({"rotation": rotation, "kind": "cover", "my_slot": slot, "counterpart": colleague}),
    );
    assert_eq!(req["take_over"], true, "{req}");
    assert_eq!(
        req["expires_at"],
        end.as_str(),
        "it expires when the shift ends"
    );
    let part_start: chrono::DateTime<chrono::Utc> =
        req["my_slot"]["start"].as_str().unwrap().parse().unwrap();
    assert!((part_start - asked).num_seconds().abs() <= 5, "{req}");
    // Two accepts at once (a double tap on two devices): exactly one wins.
    let mut codes = accept_at_once(&s, &[(&req, &theirs), (&req, &theirs)]);
    codes.sort();
    assert_eq!(codes, [200, 409]);
    let accepted = chrono::Utc::now();
    // From acceptance to the end, the colleague is on call.
    let (_, now_on) = get_json(&api.c, &s.url("/api/v1/oncall"));
    let here = now_on
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rotation"] == rotation.as_str())
        .unwrap()
        .clone();
    assert_eq!(here["person"]["id"], colleague.as_str(), "{here}");
    let from: chrono::DateTime<chrono::Utc> = here["start"].as_str().unwrap().parse().unwrap();
    assert!(
        from <= accepted && from >= asked - chrono::Duration::seconds(5),
        "{here}"
    );
    assert_eq!(here["end"], end.as_str());
}

/// Issue 13, point 3: a shift someone holds through a swap is theirs to swap again.
#[test]
fn a_shift_held_through_a_swap_can_be_swapped_again() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, bob, grace, ivan, heidi) = (
        s.token("alice"),
        s.token("bob"),
        s.token("grace"),
        s.token("ivan"),
        s.token("heidi"),
    );
    let a = alice_slot(0);
    let (week, week_end) = slot_bounds(&api, "support-hero", a);
    let first = api.propose(&alice, trade(a, "bob", a + 1));
    assert_eq!(
        api.act(first["id"].as_str().unwrap(), "accept", Some(&bob))
            .0,
        200
    );
    // Week a is Bob's now: Alice can no longer offer it; Bob can, or part of it.
    let (st, v) = api.post("/api/v1/swaps", Some(&alice), &cover(a, "grace"));
    assert_eq!(st, 409, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("covered by override"),
        "{v}"
    );
    let mut tuesday = cover(a, "grace");
    tuesday["start"] = json!(london_day(&week, 1));
    tuesday["end"] = json!(london_day(&week, 2));
    let second = api.propose(&bob, tuesday);
    let (st, v) = api.act(second["id"].as_str().unwrap(), "accept", Some(&grace));
    assert_eq!(st, 200, "{v}");
    let who = |at: &str| {
        api.hero_at(at)["person"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let tue = utc_of_london(&london_day(&week, 1));
    assert_eq!(who(&plus_minutes(&tue, 60)), "grace");
    assert_eq!(who(&plus_minutes(&week, 60)), "bob");
    assert_eq!(who(&plus_minutes(&week_end, -60)), "bob");
    assert_eq!(
        who(&plus_minutes(&week_end, 60)),
        "alice",
        "Bob's week, traded to Alice"
    );
    // A third level: Grace, who holds that Tuesday through Bob's cover (itself on the trade),
    // has Heidi take it.
    let mut again = cover(a, "heidi");
    again["start"] = json!(london_day(&week, 1));
    again["end"] = json!(london_day(&week, 2));
    let third = api.propose(&grace, again);
    let (st, v) = api.act(third["id"].as_str().unwrap(), "accept", Some(&heidi));
    assert_eq!(st, 200, "{v}");
    assert_eq!(who(&plus_minutes(&tue, 60)), "heidi");
    // Two requests for Bob's Wednesday, accepted at once: exactly one wins.
    let wednesday = |to: &str| {
        let mut b = cover(a, to);
        b["start"] = json!(london_day(&week, 2));
        b["end"] = json!(london_day(&week, 3));
        b
    };
    let r1 = api.propose(&bob, wednesday("ivan"));
    let r2 = api.propose(&bob, wednesday("heidi"));
    let codes = accept_at_once(&s, &[(&r1, &ivan), (&r2, &heidi)]);
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409], "{codes:?}");
}

/// Issue 13, point 4: an accepted swap is undone when both parties agree, or by an admin; a swap
/// with a later swap on top of it is undone only after that one.
#[test]
fn an_accepted_swap_is_undone_when_both_agree_or_an_admin_says_so() {
    let s = Server::start();
    let api = Api { s: &s, c: client() };
    let (alice, bob, grace) = (s.token("alice"), s.token("bob"), s.token("grace"));
    let a = alice_slot(0);
    let (week, _) = slot_bounds(&api, "support-hero", a);
    let (next, _) = slot_bounds(&api, "support-hero", a + 1);
    let who = |at: &str| {
        api.hero_at(at)["person"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = api.propose(&alice, trade(a, "bob", a + 1));
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(api.act(&id, "accept", Some(&bob)).0, 200);
    assert_eq!(who(&plus_minutes(&week, 60)), "bob");
    // Bob covers the Tuesday of the week he took, with Grace: a swap on the swap.
    let mut tuesday = cover(a, "grace");
    tuesday["start"] = json!(london_day(&week, 1));
    tuesday["end"] = json!(london_day(&week, 2));
    let second = api.propose(&bob, tuesday);
    let id2 = second["id"].as_str().unwrap().to_string();
    assert_eq!(api.act(&id2, "accept", Some(&grace)).0, 200);

    // Someone else cannot; Alice asks; asking twice is refused; Bob agrees, but Grace's cover
    // lies on the first swap, so that one must be undone first.
    let ivan = s.token("ivan");
    assert_eq!(api.act(&id, "undo", Some(&ivan)).0, 403);
    let (st, v) = api.act(&id, "undo", Some(&alice));
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["undo_requested_by"], "alice");
    assert_eq!(v["state"], "accepted");
    assert_eq!(
        who(&plus_minutes(&week, 60)),
        "bob",
        "nothing changes until Bob agrees"
    );
    let (st, v) = api.act(&id, "undo", Some(&alice));
    assert_eq!(st, 409, "{v}");
    let (st, v) = api.act(&id, "undo", Some(&bob));
    assert_eq!(st, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains(&id2), "{v}");
    // Undo Grace's cover (Bob asks, Grace agrees), then the first swap goes.
    assert_eq!(api.act(&id2, "undo", Some(&bob)).0, 202);
    let (st, v) = api.act(&id2, "undo", Some(&grace));
    assert_eq!((st, v["state"].as_str()), (200, Some("undone")), "{v}");
    let (st, v) = api.act(&id, "undo", Some(&bob));
    assert_eq!((st, v["state"].as_str()), (200, Some("undone")), "{v}");
    assert_eq!(
        who(&plus_minutes(&week, 60)),
        "alice",
        "back to the rotation's order"
    );
    assert_eq!(who(&plus_minutes(&next, 60)), "bob");
    let (_, overrides) = api.get("/api/v1/overrides", None);
    assert!(
        !overrides
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["origin"] == "api"),
        "{overrides}"
    );
    assert_eq!(api.act(&id, "undo", Some(&alice)).0, 409, "already undone");
    // The week is Alice's to offer again.
    api.propose(&alice, cover(a, "grace"));

    // An admin who is not a party undoes at once.
    let b = alice_slot(1);
    let third = api.propose(&bob, trade(b + 1, "grace", b + 2));
    let id3 = third["id"].as_str().unwrap().to_string();
    assert_eq!(api.act(&id3, "accept", Some(&grace)).0, 200);
    let (st, v) = api.act(&id3, "undo", Some(&alice));
    assert_eq!((st, v["state"].as_str()), (200, Some("undone")), "{v}");
    let (st, log) = api.get("/api/v1/audit?limit=50", Some(&alice));
    assert_eq!(st, 200);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "swap.undo").count(),
        3,
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "swap.undo_request")
            .count(),
        2,
        "{actions:?}"
    );
}

/// Accepts each `(request, token)` at the same moment (threads behind a barrier); the statuses.
fn accept_at_once(s: &Server, pairs: &[(&Value, &String)]) -> Vec<u16> {
    let posts: Vec<(String, String)> = pairs
        .iter()
        .map(|(req, token)| {
            let id = req["id"].as_str().unwrap();
            (
                s.url(&format!("/api/v1/swaps/{id}/accept")),
                token.to_string(),
            )
        })
        .collect();
    post_at_once(&posts)
}

/// POSTs to each `(url, bearer token)` at the same moment (threads behind a barrier); the
/// statuses, in order. Racing accepts on one server or spread over replicas.
pub(crate) fn post_at_once(posts: &[(String, String)]) -> Vec<u16> {
    let barrier = Arc::new(Barrier::new(posts.len()));
    std::thread::scope(|sc| {
        let hs: Vec<_> = posts
            .iter()
            .map(|(url, token)| {
                let barrier = barrier.clone();
                sc.spawn(move || {
                    let c = client();
                    barrier.wait();
                    c.post(url)
                        .bearer_auth(token)
                        .send()
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// A layered rotation (a 24/7 weekly layer under a business-hours daily layer): swapping a week
/// swaps its nights and weekend only. Accepting writes an override per stretch between the
/// business-hours layer's days, so the day people keep their days; the overrides cannot be
/// deleted alone and are undone together; a part wholly inside a day is refused.
#[test]
fn a_layered_week_is_swapped_around_the_other_layers_days() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("schedules");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("primary.toml"),
        "admins = [\"alice\"]\n\
         [people.alice]\nname = \"Alice\"\n[people.bob]\nname = \"Bob\"\n\
         [people.carol]\nname = \"Carol\"\n[people.dave]\nname = \"Dave\"\n\
         [rotations.primary]\nname = \"Primary\"\ntimezone = \"UTC\"\n\
         [[rotations.primary.layers]]\nmembers = [\"alice\", \"bob\"]\n\
         start = \"2026-01-05T09:00\"\nevery = \"1 week\"\n\
         [[rotations.primary.layers]]\nid = \"days\"\nmembers = [\"carol\", \"dave\"]\n\
         start = \"2026-01-05T09:00\"\nevery = \"1 day\"\nactive = [\"Mon-Fri 09:00-17:00\"]\n",
    )
    .unwrap();
    let s = Server::start_in(tmp.path());
    let api = Api { s: &s, c: client() };
    let (alice, bob) = (s.token("alice"), s.token("bob"));
    // Alice's week (even slots of the plain layer), at least two weeks ahead.
    const FIRST: u64 = 1_767_603_600; // 2026-01-05T09:00:00Z
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let a = ((now.saturating_sub(FIRST) / WEEK + 2) / 2 + 1) * 2;
    let monday = chrono::DateTime::from_timestamp((FIRST + a * WEEK) as i64, 0).unwrap();
    let at = |days: i64, hours: i64| {
        (monday + chrono::Duration::days(days) + chrono::Duration::hours(hours))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let who = |t: &str| -> String {
        let (st, v) = api.get(&format!("/api/v1/oncall?at={t}"), None);
        assert_eq!(st, 200, "{v}");
        let x = v
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["rotation"] == "primary")
            .unwrap_or_else(|| panic!("nobody on call in primary at {t}: {v}"));
        x["person"]["id"].as_str().unwrap().to_string()
    };
    // From that Monday 09:00: Monday and Tuesday nights and Saturday are Alice's, Tuesday noon
    // and the next Monday noon the day layer's, the next Tuesday night Bob's.
    let probes = [
        at(0, 11),
        at(1, 3),
        at(1, 12),
        at(5, 12),
        at(7, 3),
        at(8, 12),
    ];
    let before: Vec<String> = probes.iter().map(|t| who(t)).collect();
    let days = |v: &[String]| [v[1].clone(), v[4].clone()];
    assert_eq!(
        [&before[0], &before[2], &before[3], &before[5]],
        ["alice", "alice", "alice", "bob"],
        "{before:?}"
    );
    assert!(
        days(&before).iter().all(|p| p == "carol" || p == "dave"),
        "{before:?}"
    );

    // A part wholly inside Tuesday's business hours has nothing of Alice's week: 409.
    let inside = json!({"rotation": "primary", "kind": "cover", "my_slot": a,
        "counterpart": "bob", "start": at(1, 1), "end": at(1, 7)});
    let (st, v) = api.post("/api/v1/swaps", Some(&alice), &inside);
    assert_eq!(st, 409, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("another layer"),
        "{v}"
    );

    // The weeks traded: five stretches a side (four nights and the weekend).
    let req = api.propose(
        &alice,
        json!({"rotation": "primary", "kind": "trade", "my_slot": a, "counterpart": "bob",
            "their_slot": a + 1}),
    );
    let id = req["id"].as_str().unwrap().to_string();
    let (st, done) = api.act(&id, "accept", Some(&bob));
    assert_eq!(st, 200, "{done}");
    let ids: Vec<String> = done["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 10, "{done}");
    let after: Vec<String> = probes.iter().map(|t| who(t)).collect();
    assert_eq!(
        [&after[0], &after[2], &after[3], &after[5]],
        ["bob", "bob", "bob", "alice"],
        "{after:?}"
    );
    assert_eq!(days(&after), days(&before), "the day layer keeps its days");

    // No piece can be deleted alone.
    for o in [&ids[0], &ids[7]] {
        let r = api
            .c
            .delete(s.url(&format!("/api/v1/overrides/{o}")))
            .bearer_auth(&alice)
            .send()
            .unwrap();
        assert_eq!(r.status(), 409, "{o}");
    }
    // Undone together: Bob asks, Alice agrees.
    assert_eq!(api.act(&id, "undo", Some(&bob)).0, 202);
    let (st, v) = api.act(&id, "undo", Some(&alice));
    assert_eq!((st, v["state"].as_str()), (200, Some("undone")), "{v}");
    let again: Vec<String> = probes.iter().map(|t| who(t)).collect();
    assert_eq!(again, before);
    let (_, overrides) = api.get("/api/v1/overrides", None);
    assert!(
        !overrides
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["origin"] == "api"),
        "{overrides}"
    );
}
