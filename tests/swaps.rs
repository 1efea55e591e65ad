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
fn alice_slot(k: u64) -> u64 {
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
        (cover(0, "bob"), 409, Some("my_slot"), "already started"),
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
