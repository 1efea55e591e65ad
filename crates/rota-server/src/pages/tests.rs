//! The pages through the real routes (`crate::app`): sign-in, the swap form's steps, sessions that
//! end, HTML errors, and the same-origin rule behind a reverse proxy.

use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::http::header;
use actix_web::test as at;
use actix_web::web;
use chrono::{DateTime, Utc};
use rota_core::Schedule;

use super::*;
use crate::swaps::tests::{Hand, state};

fn example() -> Schedule {
    Schedule::load(&[
        (
            "people.toml",
            include_str!("../../../../schedules/people.toml"),
        ),
        (
            "rotations.toml",
            include_str!("../../../../schedules/rotations.toml"),
        ),
        (
            "overrides.toml",
            include_str!("../../../../schedules/overrides.toml"),
        ),
    ])
    .unwrap()
}

fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let i = text
        .find(before)
        .unwrap_or_else(|| panic!("{before:?} not in {text}"))
        + before.len();
    let j = text[i..].find(after).unwrap() + i;
    &text[i..j]
}

async fn body<B: MessageBody>(res: actix_web::dev::ServiceResponse<B>) -> String {
    String::from_utf8(at::read_body(res).await.to_vec()).unwrap()
}

fn location<B>(res: &actix_web::dev::ServiceResponse<B>) -> String {
    res.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn content_type<B>(res: &actix_web::dev::ServiceResponse<B>) -> String {
    res.headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn sign_in(t: &str) -> actix_http::Request {
    at::TestRequest::post()
        .uri("/signin")
        .set_form([("token", t)])
        .to_request()
}

fn cookie_of<B>(res: &actix_web::dev::ServiceResponse<B>) -> String {
    res.headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn get(uri: &str, cookie: &str) -> actix_http::Request {
    at::TestRequest::get()
        .uri(uri)
        .insert_header((header::COOKIE, cookie.to_string()))
        .to_request()
}

#[test]
fn the_schedule_page_marks_overrides_and_links() {
    let s = example();
    let html = schedule::body(&s, "2026-12-30T12:00:00Z".parse().unwrap()).into_string();
    // Ivan's hero week (slot 8) runs to Monday 4 January; then the Christmas swap.
    assert!(
        html.contains("Support Hero now: <strong>Ivan Petrov</strong> until Mon 4 Jan 2027 09:00"),
        "{html}"
    );
    assert!(html.contains(
        "<td>Mon 4 Jan 2027 09:00</td><td>Mon 11 Jan 2027 09:00</td><td>Bob Jones <span class=\"tag override\" title=\"swap: Bob covers Alice's week (holiday)\">override</span>"
    ), "{html}");
    assert!(html.contains("class=\"tag link\""), "{html}");
    assert!(html.contains("Frank Müller"));
    // The hero rotation comes first.
    let hero = html.find("<h2 id=\"support-hero\">").unwrap();
    let other = html.find("<h2 id=\"core-analytics-secondary\">").unwrap();
    assert!(hero < other);
}

#[test]
fn the_schedule_page_shows_who_is_at_work_outside_the_heros_hours() {
    let s = example();
    // Wednesday 30 December 2026, 12:00 GMT: Ivan (London, 09:00-17:30) is the hero.
    let html = schedule::body(&s, "2026-12-30T12:00:00Z".parse().unwrap()).into_string();
    let section = between(&html, "<h2 id=\"coverage\">", "<h2 id=\"support-hero\">");
    // Carol (New York) and Grace (Chicago) work past Ivan's 17:30; at 23:30 GMT nobody does.
    assert!(
        section.contains("<td>Wed 30 Dec 2026 17:30</td><td>Wed 30 Dec 2026 22:30</td><td>Ivan Petrov</td><td>Carol Diaz, Grace Hopper</td>"),
        "{section}"
    );
    assert!(
        section.contains("<td>Wed 30 Dec 2026 23:30</td><td>Thu 31 Dec 2026 03:30</td><td>Ivan Petrov</td><td><span class=\"muted\">nobody</span></td>"),
        "{section}"
    );
    // Without anyone's working hours there is no section at all.
    let bare = include_str!("../../../../schedules/people.toml")
        .lines()
        .filter(|l| !l.starts_with("hours"))
        .collect::<Vec<_>>()
        .join("\n");
    let s = Schedule::load(&[
        ("people.toml", bare.as_str()),
        (
            "rotations.toml",
            include_str!("../../../../schedules/rotations.toml"),
        ),
    ])
    .unwrap();
    let html = schedule::body(&s, "2026-12-30T12:00:00Z".parse().unwrap()).into_string();
    assert!(!html.contains("id=\"coverage\""), "{html}");
}

#[actix_web::test]
async fn sign_in_propose_and_accept_a_swap_with_forms() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let token = |p: &str| st.store().issue_token(p, "test", now).unwrap().token;
    let (carol_token, bob_token) = (token("carol"), token("bob"));
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;

    // Signing in sets an HttpOnly, SameSite=Lax session cookie and goes to /me.
    let res = at::call_service(&app, sign_in("rota_wrong")).await;
    assert_eq!(res.status(), 401);
    assert!(content_type(&res).starts_with("text/html"));
    let res = at::call_service(&app, sign_in(&carol_token)).await;
    assert_eq!(
        (res.status().as_u16(), location(&res).as_str()),
        (303, "/me")
    );
    let set = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("; HttpOnly") && set.contains("; SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains(&carol_token),
        "the cookie is a session, not the API token"
    );
    let carol = cookie_of(&res);

    // Carol's page: her next shift first, then her shifts with swap links, and her feed.
    let page = body(at::call_service(&app, get("/me", &carol)).await).await;
    assert!(page.contains("<h1>Carol Diaz</h1>"), "{page}");
    let next = page.find("Your next shift").expect("a next-shift box");
    assert!(next < page.find("<h2>Your shifts</h2>").unwrap(), "{page}");
    // Her hero week (slot 4) starts on the 30th, after Dave's; the link makes her Core Experience
    // secondary then too, after Bob. The hero rotation comes first.
    let next = between(&page, "Your next shift</strong>", "</p>");
    assert!(
        next.starts_with(": Support Hero, Mon 30 Nov 2026 09:00 to Mon 7 Dec 2026 09:00")
            && next.contains("Dave Okafor hands over to you; and Core Experience secondary")
            && next.contains("Bob Jones hands over to you"),
        "{next}"
    );
    assert!(
        page.contains("/swaps/new?rotation=support-hero&amp;slot=4"),
        "{page}"
    );
    assert!(page.contains("webcal://"), "{page}");
    assert!(
        page.contains("Your page (Carol Diaz)"),
        "the header says who is signed in"
    );
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();

    // Step 2 lists colleagues; step 3 lists only Bob's shifts that can be traded.
    let form =
        body(at::call_service(&app, get("/swaps/new?rotation=support-hero&slot=4", &carol)).await)
            .await;
    assert!(
        form.contains("<option value=\"bob\">Bob Jones</option>"),
        "{form}"
    );
    assert!(!form.contains("<option value=\"carol\">"), "{form}");
    let step3 = body(
        at::call_service(
            &app,
            get(
                "/swaps/new?rotation=support-hero&slot=4&counterpart=bob",
                &carol,
            ),
        )
        .await,
    )
    .await;
    let options = between(
        &step3,
        "<select id=\"their_slot\" name=\"their_slot\">",
        "</select>",
    );
    assert!(options.contains("A cover"), "{options}");
    for label in options
        .split("</option>")
        .skip(1)
        .filter(|o| o.contains("value="))
    {
        assert!(
            label.ends_with("– Bob Jones"),
            "only Bob's shifts: {options}"
        );
    }
    // Bob's own week of 11 January is Alice's side of the Christmas swap (an override): never
    // offered. His next week by the order, slot 19, is.
    assert!(!options.contains("value=\"10\""), "{options}");
    assert!(
        options.contains("<option value=\"19\">Mon 15 Mar 2027 09:00 – Bob Jones</option>"),
        "{options}"
    );

    let propose = |csrf: &str, cookie: &str, origin: Option<&str>| {
        let mut r = at::TestRequest::post()
            .uri("/swaps/new")
            .insert_header((header::COOKIE, cookie.to_string()))
            .set_form([
                ("csrf", csrf),
                ("rotation", "support-hero"),
                ("my_slot", "4"),
                ("counterpart", "bob"),
                ("their_slot", ""),
            ]);
        if let Some(o) = origin {
            r = r.insert_header((header::ORIGIN, o.to_string()));
        }
        r.to_request()
    };
    // Forged posts: no token, a wrong token, another site, no session. Each is an HTML page.
    for (csrf, cookie, origin, status) in [
        ("", carol.as_str(), None, 403),
        (
            "0123456789abcdef0123456789abcdef",
            carol.as_str(),
            None,
            403,
        ),
        (
            csrf.as_str(),
            carol.as_str(),
            Some("https://evil.example"),
            403,
        ),
        (csrf.as_str(), "rota_session=tampered", None, 401),
    ] {
        let res = at::call_service(&app, propose(csrf, cookie, origin)).await;
        assert_eq!(res.status(), status, "{csrf:?} {origin:?}");
        assert!(
            content_type(&res).starts_with("text/html"),
            "{csrf:?} {origin:?}"
        );
    }
    assert!(
        st.store().swaps(None).unwrap().is_empty(),
        "nothing was created"
    );

    let res = at::call_service(&app, propose(&csrf, &carol, None)).await;
    assert_eq!(res.status(), 303);
    let at = location(&res);
    assert!(at.starts_with("/swaps/swp_"), "{at}");

    // Bob signs in, sees Accept, and accepts.
    let bob = cookie_of(&at::call_service(&app, sign_in(&bob_token)).await);
    let page = body(at::call_service(&app, get(&at, &bob)).await).await;
    assert!(
        page.contains("Bob Jones covers Carol Diaz's Support Hero shift of Mon 30 Nov 2026 09:00 (Europe/London)"),
        "{page}"
    );
    assert!(page.contains(">Accept</button>"), "{page}");
    let bob_csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let accept = |csrf: &str, cookie: &str| {
        at::TestRequest::post()
            .uri(&format!("{at}/accept"))
            .insert_header((header::COOKIE, cookie.to_string()))
            .set_form([("csrf", csrf)])
            .to_request()
    };
    // Carol cannot accept her own request; Bob's cookie with Carol's CSRF token is refused.
    assert_eq!(
        at::call_service(&app, accept(&csrf, &carol)).await.status(),
        403
    );
    assert_eq!(
        at::call_service(&app, accept(&csrf, &bob)).await.status(),
        403
    );
    let res = at::call_service(&app, accept(&bob_csrf, &bob)).await;
    assert_eq!(res.status(), 303);
    let hero = st
        .snapshot()
        .schedule
        .on_call("support-hero", "2026-11-30T12:00:00Z".parse().unwrap())
        .unwrap()
        .unwrap()
        .person
        .id
        .clone();
    assert_eq!(hero, "bob");
    let page = body(at::call_service(&app, get(&at, &bob)).await).await;
    assert!(
        page.contains(">accepted</span>") && !page.contains(">Accept</button>"),
        "{page}"
    );

    // Signed out (or tampered with), a page sends you to sign in, and back here afterwards.
    let res = at::call_service(
        &app,
        get(
            "/swaps/new?rotation=support-hero&slot=4",
            &format!("{carol}x"),
        ),
    )
    .await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert_eq!(
        to,
        "/signin?next=%2Fswaps%2Fnew%3Frotation%3Dsupport-hero%26slot%3D4"
    );
    let signin =
        body(at::call_service(&app, at::TestRequest::get().uri(&to).to_request()).await).await;
    assert!(
        signin.contains("name=\"next\" value=\"/swaps/new?rotation=support-hero&amp;slot=4\""),
        "{signin}"
    );
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/signin")
            .set_form([
                ("token", carol_token.as_str()),
                ("next", "/swaps/new?rotation=support-hero&slot=4"),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/swaps/new?rotation=support-hero&slot=4");
    // ... but never to another site.
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/signin")
            .set_form([
                ("token", carol_token.as_str()),
                ("next", "//evil.example/x"),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(location(&res), "/me");
}

/// Issue 11, point 4: a session ends when its token is revoked, at sign-out (a copied cookie
/// too), and when an admin ends all of a person's sessions.
#[actix_web::test]
async fn r11_4_sessions_end_with_the_token_at_sign_out_and_by_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let t = st.store().issue_token("carol", "test", now).unwrap();
    let admin = st.store().issue_token("alice", "test", now).unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let me = |cookie: &str| get("/me", cookie);

    // Revoking the token ends the session at once.
    let a = cookie_of(&at::call_service(&app, sign_in(&t.token)).await);
    assert_eq!(at::call_service(&app, me(&a)).await.status(), 200);
    st.store().revoke_token(&t.id, "test", now).unwrap();
    let res = at::call_service(&app, me(&a)).await;
    assert_eq!(
        (res.status().as_u16(), location(&res).as_str()),
        (303, "/signin")
    );

    // Signing out ends the session on the server: a copy of the cookie stops working.
    let t = st.store().issue_token("carol", "test", now).unwrap();
    let b = cookie_of(&at::call_service(&app, sign_in(&t.token)).await);
    let copy = b.clone();
    let page = body(at::call_service(&app, me(&b)).await).await;
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/signout")
            .insert_header((header::COOKIE, b))
            .set_form([("csrf", csrf.as_str())])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(at::call_service(&app, me(&copy)).await.status(), 303);

    // An admin ends all of Carol's sessions through the API.
    let c = cookie_of(&at::call_service(&app, sign_in(&t.token)).await);
    let d = cookie_of(&at::call_service(&app, sign_in(&t.token)).await);
    let end = |bearer: &str| {
        at::TestRequest::delete()
            .uri("/api/v1/people/carol/sessions")
            .insert_header((header::AUTHORIZATION, format!("Bearer {bearer}")))
            .to_request()
    };
    let other = st.store().issue_token("bob", "test", now).unwrap();
    assert_eq!(
        at::call_service(&app, end(&other.token)).await.status(),
        403,
        "Bob is not an admin"
    );
    let res = at::call_service(&app, end(&admin.token)).await;
    assert_eq!(res.status(), 200);
    let ended: serde_json::Value = at::read_body_json(res).await;
    assert_eq!(ended["ended"], 2);
    assert_eq!(at::call_service(&app, me(&c)).await.status(), 303);
    assert_eq!(at::call_service(&app, me(&d)).await.status(), 303);
}

/// A browser never sees JSON from a page: a missing or malformed query, an unknown rotation, and
/// a refusal are HTML pages with a way back.
#[actix_web::test]
async fn page_errors_are_html_with_a_way_back() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let t = st.store().issue_token("carol", "test", now).unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let carol = cookie_of(&at::call_service(&app, sign_in(&t.token)).await);

    // /swaps/new alone lists her shifts that can be swapped.
    let res = at::call_service(&app, get("/swaps/new", &carol)).await;
    assert_eq!(res.status(), 200);
    let page = body(res).await;
    assert!(page.contains("Which of your shifts?"), "{page}");
    assert!(
        page.contains("/swaps/new?rotation=support-hero&amp;slot=4"),
        "{page}"
    );

    for (uri, status, says) in [
        (
            "/swaps/new?rotation=support-hero&slot=abc",
            400,
            "this address is not right",
        ),
        (
            "/swaps/new?rotation=nope&slot=1",
            404,
            "there is no rotation",
        ),
        (
            "/swaps/new?rotation=support-hero&slot=4&counterpart=mallory",
            400,
            "not a colleague",
        ),
        ("/swaps/swp_nope", 404, "swp_nope"),
        ("/?x=1", 400, "this address is not right"),
        ("/report?from=yesterday", 400, "from"),
        ("/report?nope=1", 400, "this address is not right"),
    ] {
        let res = at::call_service(&app, get(uri, &carol)).await;
        assert_eq!(res.status(), status, "{uri}");
        assert!(
            content_type(&res).starts_with("text/html"),
            "{uri}: {}",
            content_type(&res)
        );
        let page = body(res).await;
        assert!(page.contains(says), "{uri}: {page}");
        assert!(
            page.contains("<a href=\"/me\">Your page</a>"),
            "{uri}: {page}"
        );
        assert!(
            page.contains("<main>") && page.contains("<html lang=\"en\">"),
            "{uri}"
        );
    }
    // A mistyped page address, from a browser, is an HTML 404; the API's stay problem+json.
    let res = at::call_service(
        &app,
        at::TestRequest::get()
            .uri("/mee")
            .insert_header((header::ACCEPT, "text/html,application/xhtml+xml"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 404);
    assert!(content_type(&res).starts_with("text/html"));
    let res = at::call_service(
        &app,
        at::TestRequest::get()
            .uri("/api/v1/nope")
            .insert_header((header::ACCEPT, "text/html"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 404);
    assert!(content_type(&res).starts_with("application/problem+json"));
    // Another method on a page is an HTML 405.
    for uri in ["/", "/me", "/signin", "/swaps/new", "/report"] {
        let res = at::call_service(
            &app,
            at::TestRequest::put()
                .uri(uri)
                .insert_header((header::COOKIE, carol.clone()))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 405, "{uri}");
        assert!(content_type(&res).starts_with("text/html"), "{uri}");
    }
    // A form post with a malformed body is an HTML page too.
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/swaps/new")
            .insert_header((header::COOKIE, carol.clone()))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload("my_slot=notanumber")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(content_type(&res).starts_with("text/html"));
}

/// A pending request whose shifts changed says so, and offers no Accept.
#[actix_web::test]
async fn a_stale_request_says_so_before_anyone_presses_accept() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let carol_t = st.store().issue_token("carol", "test", now).unwrap();
    let bob_t = st.store().issue_token("bob", "test", now).unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let carol = cookie_of(&at::call_service(&app, sign_in(&carol_t.token)).await);
    let bob = cookie_of(&at::call_service(&app, sign_in(&bob_t.token)).await);
    let page = body(at::call_service(&app, get("/me", &carol)).await).await;
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/swaps/new")
            .insert_header((header::COOKIE, carol.clone()))
            .set_form([
                ("csrf", csrf.as_str()),
                ("rotation", "support-hero"),
                ("my_slot", "4"),
                ("counterpart", "bob"),
            ])
            .to_request(),
    )
    .await;
    let at = location(&res);
    let fresh = body(at::call_service(&app, get(&at, &bob)).await).await;
    assert!(
        fresh.contains(">Accept</button>") && !fresh.contains("out of date"),
        "{fresh}"
    );
    // An override over Carol's week changes the schedule under the request.
    st.store()
        .add_override(
            rota_store::NewOverride {
                rotation: "support-hero".into(),
                person: "heidi".into(),
                start: "2026-12-01T09:00:00Z".parse().unwrap(),
                end: "2026-12-02T09:00:00Z".parse().unwrap(),
                reason: None,
            },
            "alice",
            now,
        )
        .unwrap();
    st.rebuild().unwrap();
    let stale = body(at::call_service(&app, get(&at, &bob)).await).await;
    assert!(stale.contains("This request is out of date."), "{stale}");
    assert!(
        !stale.contains(">Accept</button>") && stale.contains(">Decline</button>"),
        "{stale}"
    );
}

#[actix_web::test]
async fn a_trusted_proxy_header_signs_people_in_only_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let data = web::Data::new(st);
    let trusting = PagesConfig {
        trusted_user_header: Some(header::HeaderName::from_static("x-remote-user")),
        ..PagesConfig::default()
    };
    let app = at::init_service(
        actix_web::App::new()
            .app_data(data.clone())
            .configure(|c| configure_with(c, trusting.clone())),
    )
    .await;
    let me = |who: &str| {
        at::TestRequest::get()
            .uri("/me")
            .insert_header(("x-remote-user", who.to_string()))
            .to_request()
    };
    let res = at::call_service(&app, me("carol")).await;
    assert_eq!(res.status(), 200);
    assert!(body(res).await.contains("<h1>Carol Diaz</h1>"));
    // An unknown person is not signed in.
    assert_eq!(at::call_service(&app, me("mallory")).await.status(), 303);
    // Off (the default): the header means nothing.
    let plain = at::init_service(
        actix_web::App::new()
            .app_data(data)
            .configure(|c| configure_with(c, PagesConfig::default())),
    )
    .await;
    assert_eq!(at::call_service(&plain, me("carol")).await.status(), 303);
}

/// Issue 10, point 6: behind a TLS proxy that sends no `X-Forwarded-Proto`, forms work; a
/// client's own `X-Forwarded-Host` is not believed; with `ROTA_BASE_URL` the origin must be it;
/// and a cross-site sign-in is refused.
#[actix_web::test]
async fn forms_behind_a_reverse_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let t = st.store().issue_token("carol", "test", now).unwrap();
    let data = web::Data::new(st);
    let signin = |origin: &str, host: &str, forwarded_host: Option<&str>, peer: &str| {
        let mut r = at::TestRequest::post()
            .uri("/signin")
            .peer_addr(peer.parse().unwrap())
            .insert_header((header::HOST, host.to_string()))
            .insert_header((header::ORIGIN, origin.to_string()))
            .set_form([("token", t.token.as_str())]);
        if let Some(h) = forwarded_host {
            r = r.insert_header(("x-forwarded-host", h.to_string()));
        }
        r.to_request()
    };
    let mount = |cfg: PagesConfig| {
        actix_web::App::new()
            .app_data(data.clone())
            .configure(move |c| configure_with(c, cfg.clone()))
    };

    // No settings: a TLS proxy passes Host through and says nothing of https.
    let app = at::init_service(mount(PagesConfig::default())).await;
    let peer = "10.0.0.2:5000";
    let ok = at::call_service(
        &app,
        signin("https://rota.example.com", "rota.example.com", None, peer),
    )
    .await;
    assert_eq!(ok.status(), 303, "a TLS proxy without X-Forwarded-Proto");
    let evil = at::call_service(
        &app,
        signin("https://evil.example", "rota.example.com", None, peer),
    )
    .await;
    assert_eq!(evil.status(), 403, "a cross-site sign-in");
    assert!(content_type(&evil).starts_with("text/html"));
    // A client's X-Forwarded-Host is not believed from an untrusted peer.
    let forged = at::call_service(
        &app,
        signin(
            "https://evil.example",
            "rota.example.com",
            Some("evil.example"),
            peer,
        ),
    )
    .await;
    assert_eq!(forged.status(), 403);

    // A trusted proxy's forwarded host and scheme are believed; others' are not.
    let cfg = PagesConfig::from_values("", "", "10.0.0.0/8").unwrap();
    let app = at::init_service(mount(cfg)).await;
    let via = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/signin")
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header(("x-forwarded-host", "rota.example.com"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header((header::ORIGIN, "https://rota.example.com"))
            .set_form([("token", t.token.as_str())])
            .to_request(),
    )
    .await;
    assert_eq!(via.status(), 303);
    let set = via
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        set.contains("; Secure"),
        "https through a trusted proxy: {set}"
    );
    let outsider = at::call_service(
        &app,
        signin(
            "https://evil.example",
            "127.0.0.1:8080",
            Some("evil.example"),
            "192.0.2.9:4000",
        ),
    )
    .await;
    assert_eq!(outsider.status(), 403);

    // ROTA_BASE_URL: the origin must be exactly it.
    let cfg = PagesConfig::from_values("", "https://rota.example.com", "").unwrap();
    let app = at::init_service(mount(cfg)).await;
    let ok = at::call_service(
        &app,
        signin("https://rota.example.com", "internal:8080", None, peer),
    )
    .await;
    assert_eq!(ok.status(), 303);
    let set = ok
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(set.contains("; Secure"), "{set}");
    let http = at::call_service(
        &app,
        signin("http://rota.example.com", "rota.example.com", None, peer),
    )
    .await;
    assert_eq!(http.status(), 403, "the http origin of an https site");
}

/// Every path `crate::paths` builds answers through the real routes (signed in, so pages answer
/// 200 rather than sending to sign-in): a link can never name a route that does not exist.
#[actix_web::test]
async fn every_built_path_answers_through_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let t = st.store().issue_token("carol", "test", now).unwrap();
    let feed = st.store().feed_token("carol").unwrap();
    let swap = st
        .store()
        .create_swap(
            rota_store::NewSwap {
                rotation: "support-hero".into(),
                kind: rota_store::SwapKind::Cover,
                requester: "carol".into(),
                requester_slot: rota_store::SwapSlot {
                    slot: 4,
                    start: "2026-11-30T09:00:00Z".parse().unwrap(),
                    end: "2026-12-07T09:00:00Z".parse().unwrap(),
                },
                counterpart: "bob".into(),
                counterpart_slot: None,
                fingerprint: String::new(),
            },
            "carol",
            now,
        )
        .unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let carol = cookie_of(&at::call_service(&app, sign_in(&t.token)).await);
    for path in [
        paths::SCHEDULE.to_string(),
        paths::ME.to_string(),
        paths::REPORT.to_string(),
        paths::HEALTHZ.to_string(),
        paths::signin(Some("/swaps/new?rotation=support-hero&slot=4")),
        paths::swap_form("support-hero", 4, None),
        paths::swap_form("support-hero", 4, Some(("bob", None))),
        paths::swap_form("support-hero", 4, Some(("bob", Some(19)))),
        paths::swap(&swap.id),
        paths::rotation_feed("support-hero"),
        paths::person_feed("carol", &feed),
    ] {
        let res = at::call_service(&app, get(&path, &carol)).await;
        assert_eq!(res.status(), 200, "{path}");
    }
}

/// A weekly hero linked into a daily secondary of the same team (issue 10, point 9).
fn linked_daily() -> Schedule {
    Schedule::load(&[(
        "s.toml",
        r#"
hero_rotation = "hero"
[teams.ops]
name = "Ops"
[people.ann]
name = "Ann"
team = "ops"
[people.raj]
name = "Raj"
team = "ops"
[rotations.hero]
name = "Support Hero"
members = ["ann", "raj"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 week"
[rotations.ops-secondary]
name = "Ops secondary"
team = "ops"
members = ["raj", "ann"]
timezone = "Europe/London"
start = "2026-11-02T09:00"
every = "1 day"
[[links]]
from = "hero"
to = ["ops-secondary"]
displaced = "skip"
"#,
    )])
    .unwrap()
}

#[test]
fn a_linked_hero_week_is_one_row_on_me_and_on_the_schedule_page() {
    let s = linked_daily();
    let now: DateTime<Utc> = "2026-11-01T12:00:00Z".parse().unwrap();
    let to = now + chrono::Duration::weeks(2);
    let shifts = rota_core::stretches(&s.shifts_for_person("ann", now, to).unwrap());
    let html =
        me::shift_table(&s, "ann", &shifts, &rota_core::timeoff::TimeOff::new(), now).into_string();
    // The hero week and one secondary row for it; then raj's hero week makes raj secondary.
    assert_eq!(html.matches("<tr>").count(), 1 + 2, "{html}");
    assert!(
        html.contains("Ops secondary <span class=\"tag link\"")
            && html.contains("<td>Mon 2 Nov 2026 09:00</td><td>Mon 9 Nov 2026 09:00"),
        "{html}"
    );
    // The linked row's swap goes to the hero slot that makes it; the hero row's to its own.
    assert_eq!(
        html.matches("/swaps/new?rotation=hero&amp;slot=0").count(),
        2,
        "{html}"
    );
    assert!(html.contains("Swap via Support Hero…"), "{html}");
    assert!(!html.contains("rotation=ops-secondary"), "{html}");

    let page = schedule::body(&s, now).into_string();
    let secondary = between(&page, "<h2 id=\"ops-secondary\">", "</table>");
    // A row per linked week (the header, then one per week shown), not one per day.
    assert_eq!(
        secondary.matches("<tr").count(),
        1 + SCHEDULE_WEEKS as usize,
        "{secondary}"
    );
    assert!(
        secondary.contains("<td>Mon 2 Nov 2026 09:00</td><td>Mon 9 Nov 2026 09:00</td><td>Ann"),
        "{secondary}"
    );
}

/// Issue 13, point 4: the request page offers the undo to each side in turn, and the swap is
/// undone when the other side agrees.
#[actix_web::test]
async fn an_accepted_swap_is_undone_from_the_request_page() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let (carol, heidi) = (
        st.store().issue_token("carol", "test", now).unwrap(),
        st.store().issue_token("heidi", "test", now).unwrap(),
    );
    // Carol's slot 4 for Heidi's slot 5, accepted through the API's code path.
    let body_of = crate::swaps::SwapBody {
        rotation: "support-hero".into(),
        kind: rota_store::SwapKind::Trade,
        my_slot: 4,
        counterpart: "heidi".into(),
        their_slot: Some(5),
        on_behalf_of: None,
        start: None,
        end: None,
        their_start: None,
        their_end: None,
    };
    let r = crate::swaps::propose(&st, "carol".into(), body_of)
        .await
        .unwrap();
    crate::swaps::accept(&st, "heidi", r.id.clone())
        .await
        .unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let page_of = |cookie: String| {
        let app = &app;
        let id = r.id.clone();
        async move { body(at::call_service(app, get(&format!("/swaps/{id}"), &cookie)).await).await }
    };
    let press = |cookie: String, page: String| {
        let app = &app;
        let id = r.id.clone();
        async move {
            let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
            at::call_service(
                app,
                at::TestRequest::post()
                    .uri(&format!("/swaps/{id}/undo"))
                    .insert_header((header::COOKIE, cookie))
                    .set_form([("csrf", csrf.as_str())])
                    .to_request(),
            )
            .await
            .status()
        }
    };
    let c = cookie_of(&at::call_service(&app, sign_in(&carol.token)).await);
    let h = cookie_of(&at::call_service(&app, sign_in(&heidi.token)).await);
    let page = page_of(c.clone()).await;
    assert!(page.contains("Ask to undo it"), "{page}");
    assert_eq!(press(c.clone(), page).await, 303);
    let page = page_of(c.clone()).await;
    assert!(page.contains("asked to undo this swap"), "{page}");
    assert!(
        !page.contains("undo it</button>"),
        "Carol asked already: {page}"
    );
    let page = page_of(h.clone()).await;
    assert!(page.contains("Agree to undo it"), "{page}");
    assert_eq!(press(h.clone(), page).await, 303);
    let page = page_of(h).await;
    assert!(page.contains(">undone<"), "{page}");
    assert!(st.store().overrides().unwrap().is_empty());
}

/// Issue 13, point 1: the swap form offers each day of the shift (DST-correct, from the handoff's
/// wall-clock time) and a free range, and sends exactly that part.
#[actix_web::test]
async fn the_swap_form_asks_for_one_day_or_a_range() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let carol = st.store().issue_token("carol", "test", now).unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let c = cookie_of(&at::call_service(&app, sign_in(&carol.token)).await);
    // Carol's week: slot 4, Monday 30 November 09:00 London (GMT) to Monday 7 December.
    let form = |who: &str| format!("/swaps/new?rotation=support-hero&slot=4&counterpart={who}");
    let page = body(at::call_service(&app, get(&form("heidi"), &c)).await).await;
    assert!(page.contains("Which part of your shift?"), "{page}");
    let tuesday = "2026-12-01T09:00:00Z/2026-12-02T09:00:00Z";
    assert!(page.contains(&format!("value=\"{tuesday}\"")), "{page}");
    assert_eq!(
        page.matches("name=\"part\"").count(),
        1 + 7 + 1,
        "all, seven days, a range"
    );
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let send = |who: &'static str, fields: Vec<(&'static str, String)>| {
        let (app, c, csrf) = (&app, c.clone(), csrf.clone());
        async move {
            let mut form = vec![
                ("csrf", csrf),
                ("rotation", "support-hero".to_string()),
                ("my_slot", "4".to_string()),
                ("counterpart", who.to_string()),
                ("their_slot", String::new()),
            ];
            form.extend(fields);
            let res = at::call_service(
                app,
                at::TestRequest::post()
                    .uri("/swaps/new")
                    .insert_header((header::COOKIE, c))
                    .set_form(form)
                    .to_request(),
            )
            .await;
            let status = res.status().as_u16();
            (status, location(&res), body(res).await)
        }
    };
    let (status, to, _) = send("heidi", vec![("part", tuesday.to_string())]).await;
    assert_eq!(status, 303);
    let id = to.trim_start_matches("/swaps/").to_string();
    let r = st.store().swap(&id).unwrap().unwrap();
    assert_eq!(
        (
            r.requester_slot.start.to_rfc3339(),
            r.requester_slot.end.to_rfc3339()
        ),
        (
            "2026-12-01T09:00:00+00:00".into(),
            "2026-12-02T09:00:00+00:00".into()
        )
    );
    // The request page names the part by both ends.
    let page = body(at::call_service(&app, get(&to, &c)).await).await;
    let says = "covers Carol Diaz&#39;s Support Hero shift from Tue 1 Dec 2026 09:00 to Wed 2 Dec 2026 09:00 (Europe/London)";
    assert!(
        page.contains(says) || page.contains(&says.replace("&#39;", "'")),
        "{page}"
    );
    // A range typed in, in the rotation's zone.
    let range = vec![
        ("part", "range".to_string()),
        ("from", "2026-12-03T13:00".to_string()),
        ("to", "2026-12-03T17:30".to_string()),
    ];
    let (status, to, _) = send("erin", range).await;
    assert_eq!(status, 303);
    let r = st
        .store()
        .swap(to.trim_start_matches("/swaps/"))
        .unwrap()
        .unwrap();
    assert_eq!(
        r.requester_slot.start.to_rfc3339(),
        "2026-12-03T13:00:00+00:00"
    );
    assert_eq!(
        r.requester_slot.end.to_rfc3339(),
        "2026-12-03T17:30:00+00:00"
    );
    // Too short: an HTML page that says why.
    let short = vec![
        ("part", "range".to_string()),
        ("from", "2026-12-04T13:00".to_string()),
        ("to", "2026-12-04T13:10".to_string()),
    ];
    let (status, _, page) = send("erin", short).await;
    assert_eq!(status, 400);
    assert!(page.contains("at least 30 minutes"), "{page}");
}

/// The days of a shift across a DST change are 23 or 25 hours, from the handoff's wall clock.
#[test]
fn the_days_offered_follow_the_wall_clock_across_dst() {
    let s = example();
    let rot = s.rotation("support-hero").unwrap();
    // The week of the EU spring-forward: Monday 22 March 2027 09:00 GMT (09:00Z) to Monday 29
    // March 09:00 BST (08:00Z).
    let start: DateTime<Utc> = "2027-03-22T09:00:00Z".parse().unwrap();
    let end: DateTime<Utc> = "2027-03-29T08:00:00Z".parse().unwrap();
    let days = super::swap::day_parts_for_tests(rot, start, end);
    assert_eq!(days.len(), 7);
    let hours: Vec<i64> = days.iter().map(|(a, b)| (*b - *a).num_hours()).collect();
    assert_eq!(
        hours,
        [24, 24, 24, 24, 24, 23, 24],
        "Sunday 28 March loses an hour"
    );
    assert_eq!(days[6].1, end);
}

/// Issue 13, point 2: someone on call now asks a colleague to take over the rest of the shift
/// from their page; once accepted, the colleague is on call from that moment.
#[actix_web::test]
async fn someone_on_call_asks_for_a_take_over_from_their_page() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    let clock = Arc::new(Hand(Mutex::new(now)));
    let st = state(dir.path(), clock.clone());
    // Slot 3 of the hero rotation (Monday 23 November 09:00 London) is Dave's, running now; Bob
    // already covers its Thursday.
    st.store()
        .add_override(
            rota_store::NewOverride {
                rotation: "support-hero".into(),
                person: "bob".into(),
                start: "2026-11-26T09:00:00Z".parse().unwrap(),
                end: "2026-11-27T09:00:00Z".parse().unwrap(),
                reason: None,
            },
            "admin:cli",
            now,
        )
        .unwrap();
    st.rebuild().unwrap();
    let dave = st.store().issue_token("dave", "test", now).unwrap();
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let d = cookie_of(&at::call_service(&app, sign_in(&dave.token)).await);
    let page = body(at::call_service(&app, get("/me", &d)).await).await;
    assert!(page.contains("You are on call now"), "{page}");
    // The link asks for the piece running now: to Thursday 09:00, where Bob's cover begins.
    let piece = "part=2026-11-23T09:00:00Z/2026-11-26T09:00:00Z";
    let href = format!(
        "/swaps/new?rotation=support-hero&amp;slot=3&amp;{}",
        piece.replace(':', "%3A")
    );
    assert!(
        page.contains(&format!(
            "href=\"{href}\">Ask someone to take over Support Hero now"
        )),
        "{page}"
    );
    let form_url = format!("/swaps/new?rotation=support-hero&slot=3&{piece}&counterpart=erin");
    let form = body(at::call_service(&app, get(&form_url, &d)).await).await;
    assert!(form.contains("This shift has started"), "{form}");
    assert!(form.contains("until Thu 26 Nov 2026 09:00"), "{form}");
    assert!(
        !form.contains("name=\"their_slot\""),
        "no trade of a started shift: {form}"
    );
    let csrf = between(&form, "name=\"csrf\" value=\"", "\"").to_string();
    let part = between(&form, "name=\"part\" value=\"", "\"").to_string();
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri("/swaps/new")
            .insert_header((header::COOKIE, d.clone()))
            .set_form([
                ("csrf", csrf.as_str()),
                ("rotation", "support-hero"),
                ("my_slot", "3"),
                ("kind", "cover"),
                ("counterpart", "erin"),
                ("part", part.as_str()),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 303, "{}", body(res).await);
    let id = location(&res).trim_start_matches("/swaps/").to_string();
    let r = st.store().swap(&id).unwrap().unwrap();
    assert!(r.is_take_over());
    let thursday: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
    assert_eq!(r.expires_at(), thursday);
    // Erin accepts an hour later: she is on call from then to Thursday, Dave until then.
    let later = now + chrono::Duration::hours(1);
    *clock.0.lock().unwrap() = later;
    crate::swaps::accept(&st, "erin", id).await.unwrap();
    let s = st.snapshot().schedule.clone();
    let at = |t: DateTime<Utc>| {
        s.on_call("support-hero", t)
            .unwrap()
            .unwrap()
            .person
            .id
            .clone()
    };
    assert_eq!(at(later), "erin");
    assert_eq!(at(later - chrono::Duration::seconds(1)), "dave");
    assert_eq!(at(thursday - chrono::Duration::seconds(1)), "erin");
    assert_eq!(at(thursday), "bob");
}

/// The shift page: who is on call, the notes (escaped, line breaks kept), and the form for
/// whoever is on call in it; `/me` links to it while you are on call; others see no form and are
/// refused with an HTML page; signed out, it asks for a sign-in and comes back.
#[actix_web::test]
async fn the_shift_page_takes_handoff_notes_from_whoever_is_on_call() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
    let st = state(dir.path(), Arc::new(Hand(Mutex::new(now))));
    let snap = st.snapshot();
    let hero = snap.schedule.on_call("support-hero", now).unwrap().unwrap();
    let (p, slot) = (hero.person.id.clone(), hero.slot);
    let q = snap
        .schedule
        .people()
        .iter()
        .map(|x| x.id.clone())
        .find(|x| {
            crate::notes::writable(&snap.schedule, x, now).is_empty() && !snap.schedule.is_admin(x)
        })
        .unwrap();
    drop(snap);
    let token = |who: &str| st.store().issue_token(who, "test", now).unwrap().token;
    let app = at::init_service(crate::app(web::Data::new(st.clone()))).await;
    let path = paths::shift("support-hero", slot);

    let res = at::call_service(&app, at::TestRequest::get().uri(&path).to_request()).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), paths::signin(Some(&path)));

    let res = at::call_service(&app, sign_in(&token(&p))).await;
    let cookie = cookie_of(&res);
    let me = body(at::call_service(&app, get(paths::ME, &cookie)).await).await;
    assert!(
        me.contains(&format!("href=\"{path}\"")) && me.contains("Handoff notes for Support Hero"),
        "{me}"
    );
    let page = body(at::call_service(&app, get(&path, &cookie)).await).await;
    assert!(page.contains("<textarea"), "{page}");
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let note = "Ticket <4411> waits.\r\nDeploy & rollback: half done.";
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri(&paths::shift_notes("support-hero", slot))
            .insert_header((header::COOKIE, cookie.clone()))
            .set_form([("csrf", csrf.as_str()), ("text", note)])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), path);
    let page = body(at::call_service(&app, get(&path, &cookie)).await).await;
    assert!(
        page.contains("Ticket &lt;4411&gt; waits.\nDeploy &amp; rollback: half done."),
        "{page}"
    );
    // The next shift's page shows it as handed over.
    let next =
        body(at::call_service(&app, get(&paths::shift("support-hero", slot + 1), &cookie)).await)
            .await;
    let handed = between(
        &next,
        "Handed over from the shift before",
        "Handoff notes on this shift",
    );
    assert!(handed.contains("Ticket &lt;4411&gt;"), "{next}");
    assert!(
        !next.contains("<textarea"),
        "not on call in the next shift: {next}"
    );

    // Someone else sees the notes but no form, and a forged post is an HTML 403.
    let res = at::call_service(&app, sign_in(&token(&q))).await;
    let other = cookie_of(&res);
    let page = body(at::call_service(&app, get(&path, &other)).await).await;
    assert!(
        page.contains("Ticket &lt;4411&gt;") && !page.contains("<textarea"),
        "{page}"
    );
    // Their session's CSRF token, from their own page's sign-out form.
    let mine = body(at::call_service(&app, get(paths::ME, &other)).await).await;
    let csrf = between(&mine, "name=\"csrf\" value=\"", "\"").to_string();
    let res = at::call_service(
        &app,
        at::TestRequest::post()
            .uri(&paths::shift_notes("support-hero", slot))
            .insert_header((header::COOKIE, other))
            .set_form([("csrf", csrf.as_str()), ("text", "mine now")])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 403);
    assert!(content_type(&res).starts_with("text/html"));
    assert_eq!(st.store().notes("support-hero", slot).unwrap().len(), 1);
    // An unknown shift is an HTML 404.
    let res = at::call_service(&app, get("/shifts/nope/1", &cookie)).await;
    assert_eq!(res.status(), 404);
    assert!(content_type(&res).starts_with("text/html"));
}
