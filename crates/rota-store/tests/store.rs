//! The store's behaviour through its public interface: overrides, tokens, feed tokens, the
//! ledger, change-notice snapshots, swap requests (with racing accepts) and the schema checks.
//! Every operation a backend offers is pinned here.
use chrono::{DateTime, Utc};
use rota_store::*;
use rusqlite::Connection;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn new_override() -> NewOverride {
    NewOverride {
        rotation: "support-hero".into(),
        person: "bob".into(),
        start: t("2026-12-21T09:00:00Z"),
        end: t("2026-12-28T09:00:00Z"),
        reason: Some("holiday".into()),
    }
}

#[test]
fn overrides_survive_reopening_and_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    let now = t("2026-11-23T10:00:00Z");
    let id = {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
        store.add_override(new_override(), "alice", now).unwrap().id
    };
    let store = Store::open(&path).unwrap();
    let all = store.overrides().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, id);
    assert_eq!(all[0].start, t("2026-12-21T09:00:00Z"));
    assert_eq!(all[0].created_by, "alice");
    let deleted = store.delete_override(&id, "alice", now).unwrap().unwrap();
    assert_eq!(deleted.person, "bob");
    assert!(store.delete_override(&id, "alice", now).unwrap().is_none());
    let log = store.audit(10, None).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["override.delete", "override.create"]);
    assert_eq!(log[1].detail["person"], "bob");
}

#[test]
fn tokens_are_hashed_verified_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("rota.db")).unwrap();
    let now = t("2026-11-23T10:00:00Z");
    let issued = store.issue_token("alice", "cli", now).unwrap();
    assert!(issued.token.starts_with("rota_") && issued.token.len() == 69);
    assert_eq!(
        store.authenticate(&issued.token).unwrap().as_deref(),
        Some("alice")
    );
    assert_eq!(store.authenticate("rota_nope").unwrap(), None);
    let mut wrong = issued.token.clone();
    wrong.pop();
    wrong.push('x');
    assert_eq!(store.authenticate(&wrong).unwrap(), None);
    // The secret is not in the file.
    let bytes = std::fs::read(dir.path().join("rota.db")).unwrap();
    let wal = std::fs::read(dir.path().join("rota.db-wal")).unwrap_or_default();
    let needle = issued.token.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    assert!(!wal.windows(needle.len()).any(|w| w == needle));
    assert!(store.revoke_token(&issued.id, "cli", now).unwrap());
    assert!(
        !store.revoke_token(&issued.token, "cli", now).unwrap(),
        "already revoked"
    );
    assert_eq!(store.authenticate(&issued.token).unwrap(), None);
    assert!(store.revoke_token("nonexistent", "cli", now).is_err());
    assert_eq!(store.tokens().unwrap()[0].revoked_at, Some(now));
}

#[test]
fn feed_tokens_are_stable_until_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    let now = t("2026-11-23T10:00:00Z");
    let first = Store::open(&path).unwrap().feed_token("alice").unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.feed_token("alice").unwrap(),
        first,
        "same secret after reopening"
    );
    assert_ne!(store.feed_token("bob").unwrap(), first);
    assert!(store.verify_feed_token("alice", &first).unwrap());
    assert!(!store.verify_feed_token("bob", &first).unwrap());
    let second = store.rotate_feed_token("alice", "alice", now).unwrap();
    assert_ne!(second, first);
    assert!(!store.verify_feed_token("alice", &first).unwrap());
    assert!(store.verify_feed_token("alice", &second).unwrap());
    // Another state file has another secret.
    let other = Store::open(dir.path().join("other.db")).unwrap();
    assert_ne!(other.feed_token("alice").unwrap(), first);
}

fn item(key: &str) -> LedgerItem<'_> {
    LedgerItem {
        key,
        kind: "reminder",
        person: "alice",
        recipient: "alice@example.com",
        expires: Some(t("2026-12-07T09:00:00Z")),
    }
}

#[test]
fn the_ledger_claims_once_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    let now = t("2026-11-30T09:00:00Z");
    let lease = chrono::Duration::minutes(5);
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as u32);
        let c = store.ledger_claim(&item("k1"), "h/1", lease, now).unwrap();
        assert_eq!(
            c,
            Claim::Claimed {
                attempt: 1,
                recovered: false
            }
        );
        // A second sender sees the live claim.
        let c = store.ledger_claim(&item("k1"), "h/2", lease, now).unwrap();
        assert!(
            matches!(c, Claim::Busy { ref owner, .. } if owner == "h/1"),
            "{c:?}"
        );
        assert!(store.ledger_sent("k1", "h/1", now, None).unwrap());
    }
    let store = Store::open(&path).unwrap();
    let later = now + chrono::Duration::hours(1);
    assert_eq!(
        store
            .ledger_claim(&item("k1"), "h/3", lease, later)
            .unwrap(),
        Claim::Done(LedgerState::Sent)
    );
    let e = &store.ledger_entries(&["k1", "nope"]).unwrap()[0];
    assert_eq!((e.state, e.attempts), (LedgerState::Sent, 1));
    // Finishing a sent entry changes nothing.
    assert!(
        !store
            .ledger_finish(&item("k1"), LedgerState::Failed, "x", later)
            .unwrap()
    );
}

#[test]
fn the_ledger_retries_after_backoff_and_recovers_lapsed_claims() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("rota.db")).unwrap();
    let now = t("2026-11-30T09:00:00Z");
    let lease = chrono::Duration::minutes(5);
    let min = chrono::Duration::minutes;
    store.ledger_claim(&item("k"), "h/1", lease, now).unwrap();
    store
        .ledger_retry("k", "h/1", Some(now + min(2)), "421 busy", now)
        .unwrap();
    assert_eq!(
        store
            .ledger_claim(&item("k"), "h/1", lease, now + min(1))
            .unwrap(),
        Claim::NotYet(now + min(2))
    );
    assert_eq!(
        store
            .ledger_claim(&item("k"), "h/1", lease, now + min(2))
            .unwrap(),
        Claim::Claimed {
            attempt: 2,
            recovered: false
        }
    );
    // The sender dies holding the claim: after the lease anyone may take it over ...
    assert!(matches!(
        store
            .ledger_claim(&item("k"), "h/2", lease, now + min(3))
            .unwrap(),
        Claim::Busy { .. }
    ));
    assert_eq!(
        store
            .ledger_claim(&item("k"), "h/2", lease, now + min(8))
            .unwrap(),
        Claim::Claimed {
            attempt: 3,
            recovered: true
        }
    );
    // ... or at once, by naming the owner known to be dead.
    assert_eq!(
        store
            .ledger_take_over("k", "h/1", "h/3", now + min(8))
            .unwrap(),
        None,
        "h/1 no longer holds it"
    );
    assert_eq!(
        store
            .ledger_take_over("k", "h/2", "h/3", now + min(8))
            .unwrap(),
        Some(Claim::Claimed {
            attempt: 4,
            recovered: true
        })
    );
    // A retry without a next attempt gives up for good.
    store
        .ledger_retry("k", "h/3", None, "550 no such user", now + min(9))
        .unwrap();
    let e = &store.ledger_entries(&["k"]).unwrap()[0];
    assert_eq!(e.state, LedgerState::Failed);
    assert_eq!(e.last_error.as_deref(), Some("550 no such user"));
    assert!(
        store
            .ledger_finish(&item("s"), LedgerState::Superseded, "shorter lead", now)
            .unwrap()
    );
    assert_eq!(
        store.ledger_claim(&item("s"), "h/1", lease, now).unwrap(),
        Claim::Done(LedgerState::Superseded)
    );
    assert_eq!(store.ledger_recent(10).unwrap().len(), 2);
}

#[test]
fn notify_snapshots_are_kept_per_person() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("rota.db")).unwrap();
    let now = t("2026-11-30T09:00:00Z");
    assert_eq!(store.notify_snapshot("alice").unwrap(), None);
    store.set_notify_snapshot("alice", "[1]", now).unwrap();
    store
        .ledger_claim(&item("c"), "h/1", chrono::Duration::minutes(5), now)
        .unwrap();
    store
        .ledger_sent("c", "h/1", now, Some(("alice", "[2]")))
        .unwrap();
    assert_eq!(
        store.notify_snapshot("alice").unwrap(),
        Some(("[2]".to_string(), now))
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("schema version 99, newer than this rota knows"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    std::fs::write(
        &path,
        b"this is not a database, it is a text file that is long enough",
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(err.to_string().contains("rota.db"), "{err}");
}

fn new_swap(a: u64, b: Option<u64>) -> NewSwap {
    let week = |n: u64| {
        let start = t("2026-11-02T09:00:00Z") + chrono::Duration::weeks(n as i64);
        SwapSlot {
            slot: n,
            start,
            end: start + chrono::Duration::weeks(1),
        }
    };
    NewSwap {
        rotation: "support-hero".into(),
        kind: if b.is_some() {
            SwapKind::Trade
        } else {
            SwapKind::Cover
        },
        requester: "alice".into(),
        requester_slot: week(a),
        counterpart: "bob".into(),
        counterpart_slot: b.map(week),
        fingerprint: "fp".into(),
    }
}

fn swap_overrides(r: &SwapRequest) -> Vec<NewOverride> {
    let mut v = vec![NewOverride {
        rotation: r.rotation.clone(),
        person: r.counterpart.clone(),
        start: r.requester_slot.start,
        end: r.requester_slot.end,
        reason: None,
    }];
    if let Some(c) = r.counterpart_slot {
        v.push(NewOverride {
            rotation: r.rotation.clone(),
            person: r.requester.clone(),
            start: c.start,
            end: c.end,
            reason: None,
        });
    }
    v
}

#[test]
fn swaps_are_accepted_once_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    let now = t("2026-11-23T10:00:00Z");
    let store = Store::open(&path).unwrap();
    let r = store
        .create_swap(new_swap(9, Some(10)), "alice", now)
        .unwrap();
    assert_eq!(r.state, SwapState::Pending);
    assert_eq!(store.swap(&r.id).unwrap().unwrap(), r);
    assert_eq!(store.swaps(Some("bob")).unwrap().len(), 1);
    assert_eq!(store.swaps(Some("carol")).unwrap().len(), 0);
    let done = store
        .accept_swap(&r.id, swap_overrides(&r), "bob", now)
        .unwrap();
    assert_eq!(done.state, SwapState::Accepted);
    assert_eq!(done.overrides.len(), 2);
    assert_eq!(store.overrides().unwrap().len(), 2);
    let again = store.accept_swap(&r.id, swap_overrides(&r), "bob", now);
    assert!(
        matches!(again.as_ref().unwrap_err().kind(), ErrorKind::Conflict(m) if m.contains("already accepted")),
        "{again:?}"
    );
    assert!(matches!(
        store
            .decide_swap(&r.id, SwapState::Declined, "bob", now)
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict(_)
    ));
    // Another request naming the same shift can no longer be accepted.
    let other = store.create_swap(new_swap(10, None), "alice", now).unwrap();
    let e = store
        .accept_swap(&other.id, swap_overrides(&other), "bob", now)
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Conflict(m) if m.contains("already covered")),
        "{e}"
    );
    assert_eq!(store.overrides().unwrap().len(), 2, "nothing half-written");
    assert_eq!(
        store.swap(&other.id).unwrap().unwrap().state,
        SwapState::Pending
    );
    let c = store
        .decide_swap(&other.id, SwapState::Cancelled, "alice", now)
        .unwrap();
    assert_eq!(
        (c.state, c.decided_by.as_deref()),
        (SwapState::Cancelled, Some("alice"))
    );
    drop(store);
    let store = Store::open(&path).unwrap();
    let actions: Vec<String> = store
        .audit(10, None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "swap.cancel",
            "swap.create",
            "swap.accept",
            "override.create",
            "override.create",
            "swap.create"
        ]
    );
    assert!(matches!(
        store
            .accept_swap("swp_nope", Vec::new(), "bob", now)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound(_)
    ));
}

#[test]
fn racing_accepts_of_one_shift_let_exactly_one_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    let now = t("2026-11-23T10:00:00Z");
    let store = Store::open(&path).unwrap();
    let a = store
        .create_swap(new_swap(12, Some(13)), "alice", now)
        .unwrap();
    let b = store.create_swap(new_swap(12, None), "alice", now).unwrap();
    drop(store);
    // Separate connections (as separate processes would have), all racing.
    let wins: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let r = if i % 2 == 0 { a.clone() } else { b.clone() };
                let path = path.clone();
                s.spawn(move || {
                    let store = Store::open(&path).unwrap();
                    match store.accept_swap(&r.id, swap_overrides(&r), "bob", now) {
                        Ok(_) => 1,
                        Err(e) if matches!(e.kind(), ErrorKind::Conflict(_)) => 0,
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(wins, 1);
    let store = Store::open(&path).unwrap();
    let accepted = store
        .swaps(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.state == SwapState::Accepted)
        .count();
    assert_eq!(accepted, 1);
}

#[test]
fn remembered_feed_generations_follow_rotations_by_other_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    let now = t("2026-11-23T10:00:00Z");
    let server = Store::open(&path).unwrap();
    let first = server.feed_token("alice").unwrap();
    for _ in 0..2 {
        assert!(server.verify_feed_token("alice", &first).unwrap());
    }
    // `rota feed rotate` is another process: another connection to the same file.
    let cli = Store::open(&path).unwrap();
    let second = cli.rotate_feed_token("alice", "alice", now).unwrap();
    assert!(!server.verify_feed_token("alice", &first).unwrap());
    assert!(server.verify_feed_token("alice", &second).unwrap());
    // And a rotation through the service's own writer.
    let third = server.rotate_feed_token("alice", "alice", now).unwrap();
    assert!(!server.verify_feed_token("alice", &second).unwrap());
    assert!(server.verify_feed_token("alice", &third).unwrap());
}
