//! The API reads input as the schedule files do: unknown ids get "did you mean", and override
//! times may be written in the files' form (a civil date-time in the rotation's zone).

use std::sync::Arc;

use actix_web::test;
use rota_core::Schedule;
use rota_server::{AppState, FixedClock};
use serde_json::{Value, json};

fn state(dir: &std::path::Path) -> AppState {
    let store = rota_store::Store::open(dir.join("rota.db")).unwrap();
    let loader: rota_server::Loader = Arc::new(|| {
        Schedule::load(&[
            (
                "people.toml",
                include_str!("../../../schedules/people.toml"),
            ),
            (
                "rotations.toml",
                include_str!("../../../schedules/rotations.toml"),
            ),
        ])
        .map(Into::into)
        .map_err(|e| e.to_string())
    });
    let now = "2026-11-20T10:00:00Z".parse().unwrap();
    AppState::new(store, Arc::new(FixedClock(now)), loader).unwrap()
}

#[actix_web::test]
async fn unknown_ids_suggest_the_closest_known_one() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let alice = st
        .store()
        .issue_token("alice", "test", "2026-11-20T10:00:00Z".parse().unwrap())
        .unwrap()
        .token;
    let app = test::init_service(rota_server::app(actix_web::web::Data::new(st))).await;
    for (uri, status, want) in [
        (
            "/api/v1/rotations/suport-hero/shifts",
            404,
            "unknown rotation \"suport-hero\" (did you mean \"support-hero\"?); known rotations: core-analytics-secondary,",
        ),
        (
            "/api/v1/people/alcie/shifts",
            404,
            "unknown person \"alcie\" (did you mean \"alice\"?); known people: alice,",
        ),
        (
            "/api/v1/overrides?rotation=platform-secondry",
            404,
            "(did you mean \"platform-secondary\"?)",
        ),
        (
            "/api/v1/rotations/suport-hero/slots",
            404,
            "(did you mean \"support-hero\"?)",
        ),
        (
            "/calendars/rotations/suport-hero.ics",
            404,
            "(did you mean \"support-hero\"?)",
        ),
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status().as_u16(), status, "{uri}");
        let body: Value = test::read_body_json(res).await;
        assert!(
            body["detail"].as_str().unwrap().contains(want),
            "{uri}: {body}"
        );
    }
    for (uri, body, field, want) in [
        (
            "/api/v1/swaps",
            json!({"rotation":"suport-hero","kind":"cover","my_slot":9,"counterpart":"bob"}),
            "rotation",
            "(did you mean \"support-hero\"?)",
        ),
        (
            "/api/v1/swaps",
            json!({"rotation":"support-hero","kind":"cover","my_slot":9,"counterpart":"bbo"}),
            "counterpart",
            "unknown person \"bbo\" (did you mean \"bob\"?)",
        ),
        (
            "/api/v1/overrides",
            json!({"rotation":"suport-hero","person":"bob","start":"2026-12-01T09:00","end":"2026-12-02T09:00"}),
            "rotation",
            "(did you mean \"support-hero\"?)",
        ),
        (
            "/api/v1/overrides",
            json!({"rotation":"support-hero","person":"bbo","start":"2026-12-01T09:00","end":"2026-12-02T09:00"}),
            "person",
            "unknown person \"bbo\" (did you mean \"bob\"?)",
        ),
        (
            "/api/v1/overrides",
            json!({"rotation":"support-hero","person":"bob","start":"next week","end":"2026-12-02T09:00"}),
            "start",
            "expected a civil date-time in the rotation's zone (Europe/London)",
        ),
    ] {
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header(("authorization", format!("Bearer {alice}")))
            .set_json(&body)
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 400, "{uri} {body}");
        let problem: Value = test::read_body_json(res).await;
        assert_eq!(problem["field"], field, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(want),
            "{problem}"
        );
    }
}

#[actix_web::test]
async fn override_times_may_be_civil_in_the_rotations_zone() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path());
    let alice = st
        .store()
        .issue_token("alice", "test", "2026-11-20T10:00:00Z".parse().unwrap())
        .unwrap()
        .token;
    let app = test::init_service(rota_server::app(actix_web::web::Data::new(st.clone()))).await;
    // Core Analytics secondary is in America/Chicago: 09:00 there is 15:00Z in December (CST),
    // and 14:00Z in July (CDT); an RFC 3339 end with an offset is still read as before.
    for (start, end, want_start, want_end) in [
        (
            "2026-12-01T09:00",
            "2026-12-02T09:00:00-06:00",
            "2026-12-01T15:00:00Z",
            "2026-12-02T15:00:00Z",
        ),
        (
            "2027-07-01 09:00",
            "2027-07-02",
            "2027-07-01T14:00:00Z",
            "2027-07-02T05:00:00Z",
        ),
    ] {
        let req = test::TestRequest::post()
            .uri("/api/v1/overrides")
            .insert_header(("authorization", format!("Bearer {alice}")))
            .set_json(json!({"rotation":"core-analytics-secondary","person":"grace","start":start,"end":end}))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 201, "{start}");
        let made: Value = test::read_body_json(res).await;
        assert_eq!(
            (made["start"].as_str(), made["end"].as_str()),
            (Some(want_start), Some(want_end)),
            "{made}"
        );
    }
    let t = "2026-12-01T16:00:00Z".parse().unwrap();
    let on = st
        .snapshot()
        .schedule
        .on_call("core-analytics-secondary", t)
        .unwrap()
        .unwrap()
        .person
        .id
        .clone();
    assert_eq!(on, "grace");
}
