//! The conformance suite: the store's behaviour through its public interface, on both backends.
//! Every test runs twice, on a SQLite file and on a PostgreSQL database (its own schema of the
//! server that `scripts/test.sh` starts, named by `ROTA_TEST_DATABASE_URL`): overrides, tokens,
//! feed tokens, sessions, the ledger, change-notice snapshots, swap requests (with racing
//! accepts), leases, the state version, moving between backends and the schema checks.
use chrono::{DateTime, Utc};
use rota_store::*;
use rusqlite::Connection;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// A fresh, empty store of one kind: a SQLite file in a temporary directory, or a schema of its
/// own in the test PostgreSQL database (dropped at the end).
struct Fixture {
    dir: tempfile::TempDir,
    target: String,
    schema: Option<(String, String)>,
}

/// The test database, or a failure that says how to get one.
fn database_url() -> String {
    std::env::var("ROTA_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "ROTA_TEST_DATABASE_URL is not set: these tests need a PostgreSQL server. Run them \
             with scripts/test.sh, which installs PostgreSQL (Debian: apt-get install postgresql) \
             and starts one, or set ROTA_TEST_DATABASE_URL=postgres://user@host:port/db"
        )
    })
}

fn fixture(kind: Kind) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    match kind {
        Kind::Sqlite => Fixture {
            target: dir.path().join("rota.db").display().to_string(),
            dir,
            schema: None,
        },
        Kind::Postgres => {
            let base = database_url();
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let schema = format!("t_{}_{n}_{nanos}", std::process::id());
            let mut c = ::postgres::Client::connect(&base, ::postgres::NoTls)
                .unwrap_or_else(|e| panic!("cannot connect to ROTA_TEST_DATABASE_URL={base}: {e}"));
            c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            Fixture {
                target: format!("{base}{sep}options=-csearch_path%3D{schema}"),
                dir,
                schema: Some((base, schema)),
            }
        }
    }
}

impl Fixture {
    fn open(&self) -> Store {
        Store::connect(&self.target).unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.schema
            && let Ok(mut c) = ::postgres::Client::connect(base, ::postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// Each named test, on both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Kind::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Kind::Postgres) } )*
        }
    };
}

conformance!(
    overrides_survive_reopening_and_are_audited,
    tokens_are_hashed_verified_and_revocable,
    feed_tokens_are_stable_until_rotated,
    the_ledger_claims_once_and_survives_reopening,
    the_ledger_retries_after_backoff_and_recovers_lapsed_claims,
    notify_snapshots_are_kept_per_person,
    a_newer_schema_is_refused,
    swaps_are_accepted_once_and_audited,
    racing_accepts_of_one_shift_let_exactly_one_win,
    racing_ledger_claims_let_exactly_one_sender_win,
    remembered_feed_generations_follow_rotations_by_other_connections,
    sessions_end_with_their_token_at_sign_out_and_for_everyone,
    the_state_version_moves_with_every_change_that_is_served,
    a_lease_has_one_holder_until_it_lapses_or_is_released,
    moving_to_the_other_backend_and_back_keeps_every_row,
    a_swap_over_an_accepted_swap_names_the_overrides_it_lies_on,
    undoing_a_swap_removes_both_overrides_after_the_swaps_on_top_of_it,
    a_swap_on_a_swap_is_refused_once_what_it_lay_on_is_undone,
    every_column_is_in_the_table_list,
    the_figures_for_metrics_count_the_ledger_and_the_swaps,
    every_operation_is_observed,
    the_outbox_keeps_each_event_once_until_its_delivery_is_done,
    handoff_notes_are_kept_per_shift_bounded_and_audited,
    a_swap_of_pieces_keeps_all_its_overrides_together,
);

fn handoff_notes_are_kept_per_shift_bounded_and_audited(kind: Kind) {
    let f = fixture(kind);
    let store = f.open();
    let now = t("2026-11-30T09:00:00Z");
    let a = store
        .add_note(
            "hero",
            7,
            "alice",
            "  Ticket 4411 waits\r\nfor the customer.\n",
            now,
        )
        .unwrap();
    assert_eq!(a.text, "Ticket 4411 waits\nfor the customer.");
    assert!(a.id.starts_with("note_"), "{}", a.id);
    let b = store
        .add_note("hero", 7, "carol", "Deploy half done.", now)
        .unwrap();
    store
        .add_note("hero", 8, "bob", "Other shift.", now)
        .unwrap();
    store
        .add_note("ops", 7, "dan", "Other rotation.", now)
        .unwrap();
    // Oldest first, only that shift's.
    assert_eq!(store.notes("hero", 7).unwrap(), vec![a.clone(), b]);
    assert!(store.notes("hero", 9).unwrap().is_empty());
    assert!(store.notes("hero", u64::MAX).unwrap().is_empty());
    // What add_note answers is what notes reads back, to the second.
    let odd = store
        .add_note(
            "hero",
            9,
            "alice",
            "x",
            now + chrono::Duration::milliseconds(500),
        )
        .unwrap();
    assert_eq!(store.notes("hero", 9).unwrap(), vec![odd]);
    // Kept across reopening.
    drop(store);
    let store = f.open();
    assert_eq!(store.notes("hero", 7).unwrap()[0], a);
    // What cannot be kept is refused, naming why, and nothing is written.
    for (text, why) in [
        ("   \n ", "empty"),
        ("bell\u{7}", "U+0007"),
        (&"x".repeat(NOTE_MAX_CHARS + 1)[..], "characters long"),
    ] {
        let e = store.add_note("hero", 7, "alice", text, now).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Invalid(_)), "{e}");
        assert!(e.to_string().contains(why), "{e}");
    }
    assert!(
        store
            .add_note("hero", 7, "alice", &"é".repeat(NOTE_MAX_CHARS), now)
            .is_ok()
    );
    assert_eq!(store.notes("hero", 7).unwrap().len(), 3);
    // At most NOTES_PER_SHIFT per shift.
    for i in 3..NOTES_PER_SHIFT {
        store
            .add_note("hero", 7, "alice", &format!("n{i}"), now)
            .unwrap();
    }
    let e = store
        .add_note("hero", 7, "alice", "one more", now)
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Conflict(_)), "{e}");
    assert_eq!(store.notes("hero", 7).unwrap().len(), NOTES_PER_SHIFT);
    // Each note is in the audit log with its text.
    let audit = store.audit(1000, None).unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "note.create" && e.subject == a.id)
        .expect("audited");
    assert_eq!(entry.actor, "alice");
    assert_eq!(entry.detail["text"], a.text);
    assert_eq!(entry.detail["slot"], 7);
    assert_eq!(
        audit.iter().filter(|e| e.action == "note.create").count(),
        NOTES_PER_SHIFT + 3
    );
}

fn the_outbox_keeps_each_event_once_until_its_delivery_is_done(kind: Kind) {
    let f = fixture(kind);
    let store = f.open();
    let now = t("2026-11-30T09:00:00Z");
    let lease = chrono::Duration::minutes(5);
    assert!(
        store
            .outbox_put("webhook/a/e1", "a", "handoff", "{\"n\":1}", now)
            .unwrap()
    );
    // The same event seen again (another replica, a restart) is not written twice.
    assert!(
        !store
            .outbox_put("webhook/a/e1", "a", "handoff", "{\"n\":2}", now)
            .unwrap()
    );
    assert!(
        store
            .outbox_put(
                "webhook/a/e2",
                "a",
                "swap.accepted",
                "{}",
                now + chrono::Duration::seconds(1)
            )
            .unwrap()
    );
    let due = store.outbox_due(now, lease, 10).unwrap();
    assert_eq!(
        due.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        ["webhook/a/e1", "webhook/a/e2"]
    );
    assert_eq!(due[0].body, "{\"n\":1}");
    // Delivered: no longer due; waiting for a retry: due again at its time, not before.
    let item = |key| LedgerItem {
        key,
        kind: "webhook",
        person: "a",
        recipient: "a",
        expires: None,
    };
    store
        .ledger_claim(&item("webhook/a/e1"), "h/1", lease, now)
        .unwrap();
    store.ledger_sent("webhook/a/e1", "h/1", now, None).unwrap();
    store
        .ledger_claim(&item("webhook/a/e2"), "h/1", lease, now)
        .unwrap();
    store
        .ledger_retry("webhook/a/e2", "h/1", Some(now + lease), "HTTP 503", now)
        .unwrap();
    assert!(store.outbox_due(now, lease, 10).unwrap().is_empty());
    let due = store.outbox_due(now + lease, lease, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].key, "webhook/a/e2");
    assert_eq!(store.outbox_waiting().unwrap(), [("a".to_string(), 1)]);
    // A claim left by a sender that died is due once its lease has lapsed.
    assert!(
        store
            .outbox_put("webhook/a/e3", "a", "handoff", "{}", now)
            .unwrap()
    );
    store
        .ledger_claim(&item("webhook/a/e3"), "h/dead", lease, now)
        .unwrap();
    assert!(
        store
            .outbox_due(now + chrono::Duration::seconds(1), lease, 10)
            .unwrap()
            .is_empty()
    );
    // A claim's sender is named, so a caller that knows it died can take it over at once.
    let in_flight = store.outbox_in_flight(10).unwrap();
    assert_eq!(in_flight.len(), 1);
    assert_eq!(in_flight[0].0.key, "webhook/a/e3");
    assert_eq!(in_flight[0].1, "h/dead");
    assert!(
        store
            .ledger_take_over("webhook/a/e3", "h/dead", "h/2", now)
            .unwrap()
            .is_some()
    );
    assert_eq!(store.outbox_in_flight(10).unwrap()[0].1, "h/2");
    let late = now + lease + lease;
    assert!(
        store
            .outbox_due(late, lease, 10)
            .unwrap()
            .iter()
            .any(|i| i.key == "webhook/a/e3")
    );
    // Handoff marks: a new value gets the next number, the same value none.
    assert_eq!(
        store.mark_handoff("webhook/hero", "alice/1/2").unwrap(),
        Some(1)
    );
    assert_eq!(
        store.mark_handoff("webhook/hero", "alice/1/2").unwrap(),
        None
    );
    assert_eq!(
        store.mark_handoff("webhook/hero", "bob/2/3").unwrap(),
        Some(2)
    );
    assert_eq!(
        store.mark_handoff("webhook/hero", "alice/1/2").unwrap(),
        Some(3)
    );
    assert_eq!(
        store.mark_handoff("slack/hero", "alice/1/2").unwrap(),
        Some(1)
    );
    // Admins see them all, newest first (ties by key), with their deliveries.
    let recent = store.outbox_recent(10).unwrap();
    assert_eq!(recent[0].key, "webhook/a/e2");
    let d = recent[0].delivery.as_ref().unwrap();
    assert_eq!(
        (d.state, d.last_error.as_deref()),
        (LedgerState::Retry, Some("HTTP 503"))
    );
    assert_eq!(recent[1].key, "webhook/a/e3");
    assert_eq!(
        recent[2].delivery.as_ref().unwrap().state,
        LedgerState::Sent
    ); // Pruning deletes finished messages written before the cut, never waiting ones.
    assert_eq!(
        store.outbox_prune(now).unwrap(),
        0,
        "nothing is older than now"
    );
    let later = now + chrono::Duration::days(31);
    assert_eq!(store.outbox_prune(later).unwrap(), 1, "only e1 was sent");
    let left: Vec<String> = store
        .outbox_recent(10)
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(left, ["webhook/a/e2", "webhook/a/e3"]);
    assert_eq!(
        store.ledger_entries(&["webhook/a/e1"]).unwrap()[0].state,
        LedgerState::Sent,
        "the delivery record stays"
    );
}

fn the_figures_for_metrics_count_the_ledger_and_the_swaps(kind: Kind) {
    let f = fixture(kind);
    let store = f.open();
    let now = t("2026-11-30T09:00:00Z");
    let lease = chrono::Duration::minutes(5);
    assert!(store.ledger_counts().unwrap().is_empty());
    // k1 sent at once; k2 sent on its third attempt; k3 waiting for a retry; a change notice
    // given up after two attempts.
    store.ledger_claim(&item("k1"), "h/1", lease, now).unwrap();
    store.ledger_sent("k1", "h/1", now, None).unwrap();
    for attempt in 1..=3 {
        let at = now + chrono::Duration::minutes(attempt);
        store.ledger_claim(&item("k2"), "h/1", lease, at).unwrap();
        if attempt < 3 {
            store
                .ledger_retry("k2", "h/1", Some(at), "421", at)
                .unwrap();
        } else {
            store.ledger_sent("k2", "h/1", at, None).unwrap();
        }
    }
    store.ledger_claim(&item("k3"), "h/1", lease, now).unwrap();
    store
        .ledger_retry("k3", "h/1", Some(now + lease), "421", now)
        .unwrap();
    let change = LedgerItem {
        key: "c1",
        kind: "change",
        ..item("c1")
    };
    store.ledger_claim(&change, "h/1", lease, now).unwrap();
    store
        .ledger_retry("c1", "h/1", Some(now), "421", now)
        .unwrap();
    store.ledger_claim(&change, "h/1", lease, now).unwrap();
    store
        .ledger_retry("c1", "h/1", None, "550 no such user", now)
        .unwrap();
    let counts: Vec<(String, LedgerState, u64, u64)> = store
        .ledger_counts()
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.state, c.entries, c.retries))
        .collect();
    assert_eq!(
        counts,
        [
            ("change".to_string(), LedgerState::Failed, 1, 1),
            ("reminder".to_string(), LedgerState::Retry, 1, 0),
            ("reminder".to_string(), LedgerState::Sent, 2, 2),
        ]
    );
    // Swaps: one accepted, one declined, one pending and one pending past its first shift.
    let at = t("2026-11-23T10:00:00Z");
    let a = store
        .create_swap(new_swap(9, Some(10)), "alice", at)
        .unwrap();
    store
        .accept_swap(&a.id, swap_overrides(&a), "bob", at)
        .unwrap();
    let d = store.create_swap(new_swap(11, None), "alice", at).unwrap();
    store
        .decide_swap(&d.id, SwapState::Declined, "bob", at)
        .unwrap();
    store.create_swap(new_swap(12, None), "alice", at).unwrap();
    // A trade whose first shift started an hour ago (a cover of it would be a take-over).
    store
        .create_swap(new_swap(3, Some(13)), "alice", at)
        .unwrap();
    let counts = store.swap_counts(at).unwrap();
    let get = |s: SwapState| counts.iter().find(|(x, _)| *x == s).map_or(0, |c| c.1);
    assert_eq!(get(SwapState::Accepted), 1);
    assert_eq!(get(SwapState::Declined), 1);
    assert_eq!(get(SwapState::Pending), 1);
    assert_eq!(get(SwapState::Expired), 1, "{counts:?}");
    assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 4);
}

fn every_operation_is_observed(kind: Kind) {
    use std::sync::{Arc, Mutex};
    let f = fixture(kind);
    let store = f.open();
    let seen: Arc<Mutex<Vec<(Op, bool)>>> = Arc::default();
    let s = seen.clone();
    assert!(
        store
            .observe(Arc::new(move |op, _took, ok| s
                .lock()
                .unwrap()
                .push((op, ok))))
            .is_ok()
    );
    assert!(store.observe(Arc::new(|_, _, _| {})).is_err(), "once");
    store.state_version().unwrap();
    store
        .add_override(new_override(), "alice", t("2026-11-23T10:00:00Z"))
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.contains(&(Op::Read, true)), "{seen:?}");
    assert!(seen.contains(&(Op::Write, true)), "{seen:?}");
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

fn overrides_survive_reopening_and_are_audited(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-23T10:00:00Z");
    let id = {
        let store = f.open();
        let known = match kind {
            Kind::Sqlite => migrations::SQLITE.len(),
            Kind::Postgres => migrations::POSTGRES.len(),
        };
        assert_eq!(store.schema_version().unwrap(), known as u32);
        assert_eq!(
            store.backend(),
            if kind == Kind::Sqlite {
                "sqlite"
            } else {
                "postgres"
            }
        );
        store.add_override(new_override(), "alice", now).unwrap().id
    };
    let store = f.open();
    let all = store.overrides().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, id);
    assert_eq!(all[0].start, t("2026-12-21T09:00:00Z"));
    assert_eq!(all[0].created_by, "alice");
    assert_eq!(all[0].reason.as_deref(), Some("holiday"));
    // Insertion order decides which override wins: oldest first, ties by insertion.
    let second = store.add_override(new_override(), "bob", now).unwrap();
    assert_eq!(store.overrides().unwrap()[1].id, second.id);
    store.delete_override(&second.id, "bob", now).unwrap();
    let deleted = store.delete_override(&id, "alice", now).unwrap().unwrap();
    assert_eq!(deleted.person, "bob");
    assert!(store.delete_override(&id, "alice", now).unwrap().is_none());
    let log = store.audit(10, None).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "override.delete",
            "override.delete",
            "override.create",
            "override.create"
        ]
    );
    assert_eq!(log[3].detail["person"], "bob");
    // Paging: entries before a sequence number.
    let older = store.audit(10, Some(log[1].seq)).unwrap();
    assert_eq!(older.len(), 2);
    assert_eq!(older[0].seq, log[2].seq);
}

fn tokens_are_hashed_verified_and_revocable(kind: Kind) {
    let f = fixture(kind);
    let store = f.open();
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
    // The secret is stored nowhere: not in the file, not in any table.
    if kind == Kind::Sqlite {
        let bytes = std::fs::read(&f.target).unwrap();
        let wal = std::fs::read(format!("{}-wal", f.target)).unwrap_or_default();
        let needle = issued.token.as_bytes();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        assert!(!wal.windows(needle.len()).any(|w| w == needle));
    }
    let dump = serde_json::to_string(&store.dump().unwrap()).unwrap();
    assert!(
        !dump.contains(&issued.token[5..]),
        "the secret is in a table"
    );
    assert!(store.revoke_token(&issued.id, "cli", now).unwrap());
    assert!(
        !store.revoke_token(&issued.token, "cli", now).unwrap(),
        "already revoked"
    );
    assert_eq!(store.authenticate(&issued.token).unwrap(), None);
    assert!(matches!(
        store
            .revoke_token("nonexistent", "cli", now)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound(_)
    ));
    assert_eq!(store.tokens().unwrap()[0].revoked_at, Some(now));
    let newer = store.issue_token("bob", "cli", now).unwrap();
    assert_eq!(store.tokens().unwrap()[0].id, newer.id, "newest first");
}

fn feed_tokens_are_stable_until_rotated(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-23T10:00:00Z");
    let first = f.open().feed_token("alice").unwrap();
    let store = f.open();
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
    let third = store.rotate_feed_token("alice", "alice", now).unwrap();
    assert!(store.verify_feed_token("alice", &third).unwrap());
    assert_eq!(f.open().feed_token("alice").unwrap(), third);
    // Another store has another secret.
    let g = fixture(kind);
    assert_ne!(g.open().feed_token("alice").unwrap(), first);
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

fn the_ledger_claims_once_and_survives_reopening(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-30T09:00:00Z");
    let lease = chrono::Duration::minutes(5);
    {
        let store = f.open();
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
        assert_eq!(store.ledger_held_by("h/1").unwrap(), ["k1"]);
        assert!(store.ledger_sent("k1", "h/1", now, None).unwrap());
        assert!(store.ledger_held_by("h/1").unwrap().is_empty());
    }
    let store = f.open();
    let later = now + chrono::Duration::hours(1);
    assert_eq!(
        store
            .ledger_claim(&item("k1"), "h/3", lease, later)
            .unwrap(),
        Claim::Done(LedgerState::Sent)
    );
    let e = &store.ledger_entries(&["k1", "nope"]).unwrap()[0];
    assert_eq!((e.state, e.attempts), (LedgerState::Sent, 1));
    assert_eq!(e.expires, Some(t("2026-12-07T09:00:00Z")));
    // Finishing a sent entry changes nothing.
    assert!(
        !store
            .ledger_finish(&item("k1"), LedgerState::Failed, "x", later)
            .unwrap()
    );
}

fn the_ledger_retries_after_backoff_and_recovers_lapsed_claims(kind: Kind) {
    let f = fixture(kind);
    let store = f.open();
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
    let recent = store.ledger_recent(10).unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].key, "k", "newest change first");
}

fn notify_snapshots_are_kept_per_person(kind: Kind) {
    let f = fixture(kind);
    let store = f.open();
    let now = t("2026-11-30T09:00:00Z");
    assert_eq!(store.notify_snapshot("alice").unwrap(), None);
    store.set_notify_snapshot("alice", "[1]", now).unwrap();
    store
        .set_notify_snapshots(&[("bob", "[3]"), ("carol", "[4]")], now)
        .unwrap();
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
    assert_eq!(store.notify_snapshot("carol").unwrap().unwrap().0, "[4]");
}

fn a_newer_schema_is_refused(kind: Kind) {
    let f = fixture(kind);
    drop(f.open());
    match kind {
        Kind::Sqlite => {
            let conn = Connection::open(&f.target).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        Kind::Postgres => {
            let (base, schema) = f.schema.clone().unwrap();
            let mut c = ::postgres::Client::connect(&base, ::postgres::NoTls).unwrap();
            c.batch_execute(&format!("UPDATE {schema}.rota_schema SET version = 99"))
                .unwrap();
        }
    }
    let err = Store::connect(&f.target).unwrap_err();
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

#[test]
fn an_unreachable_or_malformed_database_is_an_error_that_hides_the_password() {
    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err =
        Store::connect(&format!("postgres://rota:hunter2@127.0.0.1:{port}/rota")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}/rota")), "{msg}");
    assert!(!msg.contains("hunter2"), "the password leaked: {msg}");
    let err = Store::connect("postgres://rota@127.0.0.1:notaport/rota").unwrap_err();
    assert!(
        err.to_string()
            .contains("not a PostgreSQL connection string"),
        "{err}"
    );
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

/// A swap of a layered rotation's shift with another layer's time inside it is an override per
/// piece of each side: all of them are kept with the request (in order), none can be deleted
/// alone, and undoing removes them all.
fn a_swap_of_pieces_keeps_all_its_overrides_together(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-23T10:00:00Z");
    let store = f.open();
    let r = store
        .create_swap(new_swap(9, Some(10)), "alice", now)
        .unwrap();
    // Each week's nights only (another layer holds the days): seven pieces a side.
    let nights = |sl: rota_store::SwapSlot, person: &str| -> Vec<NewOverride> {
        (0..7)
            .map(|d| {
                let start = sl.start + chrono::Duration::days(d) + chrono::Duration::hours(8);
                NewOverride {
                    rotation: r.rotation.clone(),
                    person: person.into(),
                    start,
                    end: start + chrono::Duration::hours(16),
                    reason: None,
                }
            })
            .collect()
    };
    let mut pieces = nights(r.requester_slot, "bob");
    pieces.extend(nights(r.counterpart_slot.unwrap(), "alice"));
    let done = store.accept_swap(&r.id, pieces, "bob", now).unwrap();
    assert_eq!(done.overrides.len(), 14);
    let stored: Vec<String> = store
        .overrides()
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(done.overrides, stored, "every piece, in the order written");
    assert_eq!(
        store.swap(&r.id).unwrap().unwrap(),
        done,
        "read back the same"
    );
    for o in [
        &done.overrides[0],
        &done.overrides[1],
        &done.overrides[2],
        &done.overrides[13],
    ] {
        let e = store.delete_override(o, "bob", now).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Conflict(m) if m.contains(&r.id)),
            "{o}: {e}"
        );
    }
    assert_eq!(
        store.overrides().unwrap().len(),
        14,
        "nothing deleted alone"
    );
    // An override of no swap is still deleted alone, with swaps of pieces around.
    let lone = store
        .add_override(
            NewOverride {
                rotation: "support-hero".into(),
                person: "carol".into(),
                start: t("2027-06-01T09:00:00Z"),
                end: t("2027-06-02T09:00:00Z"),
                reason: None,
            },
            "carol",
            now,
        )
        .unwrap();
    assert!(
        store
            .delete_override(&lone.id, "carol", now)
            .unwrap()
            .is_some()
    );
    let undone = store.undo_swap(&r.id, "bob", now).unwrap();
    assert_eq!(undone.state, SwapState::Undone);
    assert_eq!(undone.overrides, done.overrides);
    assert!(store.overrides().unwrap().is_empty(), "every piece removed");
}

fn swaps_are_accepted_once_and_audited(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-23T10:00:00Z");
    let store = f.open();
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
    // One side of an accepted trade cannot be deleted alone.
    let e = store
        .delete_override(&done.overrides[0], "bob", now)
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Conflict(m) if m.contains(&r.id)),
        "{e}"
    );
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
    assert_eq!(store.swaps(None).unwrap()[0].id, other.id, "newest first");
    let c = store
        .decide_swap(&other.id, SwapState::Cancelled, "alice", now)
        .unwrap();
    assert_eq!(
        (c.state, c.decided_by.as_deref()),
        (SwapState::Cancelled, Some("alice"))
    );
    drop(store);
    let store = f.open();
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

fn racing_accepts_of_one_shift_let_exactly_one_win(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-23T10:00:00Z");
    let store = f.open();
    let a = store
        .create_swap(new_swap(12, Some(13)), "alice", now)
        .unwrap();
    let b = store.create_swap(new_swap(12, None), "alice", now).unwrap();
    drop(store);
    // Separate stores (as separate processes or replicas would have), all racing.
    let wins: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let r = if i % 2 == 0 { a.clone() } else { b.clone() };
                let f = &f;
                s.spawn(move || {
                    let store = f.open();
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
    let store = f.open();
    let accepted: Vec<SwapRequest> = store
        .swaps(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.state == SwapState::Accepted)
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        store.overrides().unwrap().len(),
        accepted[0].overrides.len()
    );
}

fn racing_ledger_claims_let_exactly_one_sender_win(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-30T09:00:00Z");
    drop(f.open());
    let claims: Vec<Claim> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let f = &f;
                s.spawn(move || {
                    f.open()
                        .ledger_claim(
                            &item("race"),
                            &format!("h/{i}"),
                            chrono::Duration::minutes(5),
                            now,
                        )
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = claims
        .iter()
        .filter(|c| matches!(c, Claim::Claimed { .. }))
        .count();
    assert_eq!(won, 1, "{claims:?}");
    assert_eq!(
        claims
            .iter()
            .filter(|c| matches!(c, Claim::Busy { .. }))
            .count(),
        7
    );
}

fn remembered_feed_generations_follow_rotations_by_other_connections(kind: Kind) {
    let f = fixture(kind);
    let now = t("2026-11-23T10:00:00Z");
    let server = f.open();
    let first = server.feed_token("alice").unwrap();
    for _ in 0..2 {
        assert!(server.verify_feed_token("alice", &first).unwrap());
    }
    // `rota feed rotate` in another process, or another replica: another store. The server
    // notices within a second (it reads the state version again at most once a second).
    let cli = f.open();
    let second = cli.rotate_feed_token("alice", "alice", now).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while server.verify_feed_token("alice", &first).unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the old feed token still works 3 s after another store rotated it"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(server.verify_feed_token("alice", &second).unwrap());
    // A rotation through the service's own store takes effect at once.
    let third = server.rotate_feed_token("alice", "alice", now).unwrap();
    assert!(!server.verify_feed_token("alice", &second).unwrap());
    assert!(server.verify_feed_token("alice", &third).unwrap());
}

fn sessions_end_with_their_token_at_sign_out_and_for_everyone(kind: Kind) {
    let f = fixture(kind);
    let s = f.open();
    let now = t("2026-11-23T10:00:00Z");
    let hours = chrono::Duration::hours;
    let t1 = s.issue_token("carol", "cli", now).unwrap();
    let t2 = s.issue_token("carol", "cli", now).unwrap();
    assert_eq!(s.start_session("rota_wrong", hours(12), now).unwrap(), None);
    let a = s.start_session(&t1.token, hours(12), now).unwrap().unwrap();
    let b = s.start_session(&t2.token, hours(12), now).unwrap().unwrap();
    let c = s.start_session(&t2.token, hours(12), now).unwrap().unwrap();
    assert_eq!(
        (a.person.as_str(), a.expires_at),
        ("carol", now + hours(12))
    );
    assert_eq!(s.session(&a.secret, now).unwrap().as_deref(), Some("carol"));
    assert_eq!(
        s.session(&a.secret, now + hours(12)).unwrap(),
        None,
        "expired"
    );
    assert_eq!(s.live_sessions("carol", now).unwrap(), 3);
    s.revoke_token(&t1.id, "cli", now).unwrap();
    assert_eq!(
        s.session(&a.secret, now).unwrap(),
        None,
        "its token was revoked"
    );
    assert!(s.end_session(&b.secret, now).unwrap());
    assert!(!s.end_session(&b.secret, now).unwrap(), "already ended");
    assert_eq!(s.session(&b.secret, now).unwrap(), None);
    assert_eq!(s.session(&c.secret, now).unwrap().as_deref(), Some("carol"));
    assert_eq!(s.end_sessions_of("carol", "alice", now).unwrap(), 1);
    assert_eq!(s.session(&c.secret, now).unwrap(), None);
    assert_eq!(s.live_sessions("carol", now).unwrap(), 0);
    // Old rows go when a new session is made, a day after they ended.
    let t3 = s.issue_token("dave", "cli", now).unwrap();
    s.start_session(&t3.token, hours(1), now + hours(40))
        .unwrap()
        .unwrap();
    let sessions = s
        .dump()
        .unwrap()
        .into_iter()
        .find(|(t, _)| *t == "sessions")
        .unwrap()
        .1;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
}

fn the_state_version_moves_with_every_change_that_is_served(kind: Kind) {
    let f = fixture(kind);
    let s = f.open();
    let other = f.open();
    let now = t("2026-11-23T10:00:00Z");
    let mut last = s.state_version().unwrap();
    let mut moved = |what: &str, s: &Store| {
        let v = s.state_version().unwrap();
        assert!(
            v > last,
            "{what} did not move the state version ({last} -> {v})"
        );
        assert_eq!(
            other.state_version().unwrap(),
            v,
            "another store sees it at once"
        );
        last = v;
    };
    let o = s.add_override(new_override(), "alice", now).unwrap();
    moved("an override", &s);
    s.delete_override(&o.id, "alice", now).unwrap();
    moved("deleting an override", &s);
    let tok = s.issue_token("alice", "cli", now).unwrap();
    moved("issuing a token", &s);
    let sess = s
        .start_session(&tok.token, chrono::Duration::hours(1), now)
        .unwrap()
        .unwrap();
    s.end_session(&sess.secret, now).unwrap();
    moved("signing out", &s);
    s.revoke_token(&tok.id, "cli", now).unwrap();
    moved("revoking a token", &s);
    s.rotate_feed_token("alice", "alice", now).unwrap();
    moved("rotating a feed token", &s);
    let r = s.create_swap(new_swap(3, Some(4)), "alice", now).unwrap();
    moved("a swap request", &s);
    s.accept_swap(&r.id, swap_overrides(&r), "bob", now)
        .unwrap();
    moved("accepting a swap", &s);
    // Background bookkeeping changes nothing that is served, so it does not make replicas
    // rebuild.
    let v = s.state_version().unwrap();
    s.ledger_claim(&item("k"), "h/1", chrono::Duration::minutes(5), now)
        .unwrap();
    s.set_notify_snapshot("alice", "[]", now).unwrap();
    s.take_lease("notify", "h/1", chrono::Duration::seconds(20), now)
        .unwrap();
    assert_eq!(s.state_version().unwrap(), v);
}

fn a_lease_has_one_holder_until_it_lapses_or_is_released(kind: Kind) {
    let f = fixture(kind);
    let (a, b) = (f.open(), f.open());
    let now = t("2026-11-23T10:00:00Z");
    let ttl = chrono::Duration::seconds(20);
    let sec = chrono::Duration::seconds;
    let l = a.take_lease("notify", "a/1", ttl, now).unwrap();
    assert_eq!(
        (l.holder.as_str(), l.expires, l.taken_from),
        ("a/1", now + ttl, None)
    );
    // b cannot take it while it is live; a renews it.
    let l = b.take_lease("notify", "b/1", ttl, now + sec(5)).unwrap();
    assert_eq!(l.holder, "a/1");
    let l = a.take_lease("notify", "a/1", ttl, now + sec(10)).unwrap();
    assert_eq!((l.since, l.expires), (now, now + sec(30)));
    assert_eq!(
        b.take_lease("notify", "b/1", ttl, now + sec(29))
            .unwrap()
            .holder,
        "a/1"
    );
    // a dies: once the lease lapses, b takes it and learns from whom.
    let l = b.take_lease("notify", "b/1", ttl, now + sec(30)).unwrap();
    assert_eq!(
        (l.holder.as_str(), l.since, l.taken_from.as_deref()),
        ("b/1", now + sec(30), Some("a/1"))
    );
    assert_eq!(
        a.take_lease("notify", "a/1", ttl, now + sec(31))
            .unwrap()
            .holder,
        "b/1"
    );
    // A clean shutdown releases it at once.
    assert!(!a.release_lease("notify", "a/1").unwrap());
    assert!(b.release_lease("notify", "b/1").unwrap());
    let l = a.take_lease("notify", "a/2", ttl, now + sec(32)).unwrap();
    assert_eq!((l.holder.as_str(), l.taken_from), ("a/2", None));
    assert_eq!(a.leases().unwrap().len(), 1);
    // Racing takers: exactly one holds it.
    let fresh = "race";
    let holders: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..6)
            .map(|i| {
                let f = &f;
                s.spawn(move || {
                    f.open()
                        .take_lease(fresh, &format!("r/{i}"), ttl, now)
                        .unwrap()
                        .holder
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(holders.iter().all(|h| h == &holders[0]), "{holders:?}");
}

/// Fills a store with a bit of everything.
fn populate(s: &Store) {
    let now = t("2026-11-23T10:00:00Z");
    s.add_override(new_override(), "alice", now).unwrap();
    let tok = s.issue_token("alice", "cli", now).unwrap();
    s.issue_token("bob", "cli", now).unwrap();
    s.start_session(&tok.token, chrono::Duration::hours(12), now)
        .unwrap();
    s.rotate_feed_token("carol", "carol", now).unwrap();
    let r = s.create_swap(new_swap(20, Some(21)), "alice", now).unwrap();
    s.accept_swap(&r.id, swap_overrides(&r), "bob", now)
        .unwrap();
    s.create_swap(new_swap(22, None), "alice", now).unwrap();
    s.ledger_claim(&item("k"), "h/1", chrono::Duration::minutes(5), now)
        .unwrap();
    s.ledger_sent("k", "h/1", now, Some(("alice", "[1]")))
        .unwrap();
    s.ledger_finish(&item("f"), LedgerState::Failed, "gone", now)
        .unwrap();
    s.take_lease("notify", "h/1", chrono::Duration::seconds(20), now)
        .unwrap();
    s.add_note("hero", 20, "alice", "Ticket 4411\nwaits.", now)
        .unwrap();
}

fn moving_to_the_other_backend_and_back_keeps_every_row(kind: Kind) {
    let other = match kind {
        Kind::Sqlite => Kind::Postgres,
        Kind::Postgres => Kind::Sqlite,
    };
    let (fa, fb, fc) = (fixture(kind), fixture(other), fixture(kind));
    let a = fa.open();
    populate(&a);
    let feed = a.feed_token("carol").unwrap();
    let counts = a.copy_into(&fb.open()).unwrap();
    assert!(
        counts.iter().any(|c| c.table == "audit" && c.rows > 5),
        "{counts:?}"
    );
    let b = fb.open();
    assert_eq!(a.dump().unwrap(), b.dump().unwrap());
    assert_eq!(
        b.feed_token("carol").unwrap(),
        feed,
        "feed URLs keep working"
    );
    b.copy_into(&fc.open()).unwrap();
    let c = fc.open();
    assert_eq!(a.dump().unwrap(), c.dump().unwrap());
    // New rows after the move number on from the copied ones (identity columns and rowids).
    let now = t("2026-11-24T10:00:00Z");
    let o = b.add_override(new_override(), "dave", now).unwrap();
    assert_eq!(b.overrides().unwrap().last().unwrap().id, o.id);
    assert!(b.audit(1, None).unwrap()[0].action == "override.create");
    // A store that already holds rows is refused, and left as it was.
    let before = b.dump().unwrap();
    let e = a.copy_into(&b).unwrap_err();
    assert!(e.to_string().contains("already holds"), "{e}");
    assert_eq!(b.dump().unwrap(), before);
}

#[test]
fn a_backup_is_a_consistent_copy_taken_while_writing() {
    let f = fixture(Kind::Sqlite);
    let s = f.open();
    populate(&s);
    let to = f.dir.path().join("backup.db");
    // Writes go on in another store (the service) while the backup is taken.
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let w = f.open();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 500 {
                w.issue_token(&format!("p{i}"), "cli", t("2026-11-23T10:00:00Z"))
                    .unwrap();
                i += 1;
            }
        });
        s.backup(&to).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let copy = Store::open(&to).unwrap();
    // Consistent: every token issued has its audit entry, and nothing else differs in kind.
    let dump = copy.dump().unwrap();
    let rows = |t: &str| dump.iter().find(|(n, _)| *n == t).unwrap().1.len();
    let issued = copy
        .audit(10_000, None)
        .unwrap()
        .iter()
        .filter(|e| e.action == "token.issue")
        .count();
    assert_eq!(rows("api_tokens"), issued);
    assert!(rows("overrides") >= 3);
    // It never overwrites, and leaves nothing behind when it fails.
    let e = s.backup(&to).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let e = s
        .backup(&f.dir.path().join("no/such/dir/b.db"))
        .unwrap_err();
    assert!(!e.to_string().is_empty());
    let left: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // PostgreSQL is backed up with its own tools.
    let g = fixture(Kind::Postgres);
    let e = g.open().backup(&f.dir.path().join("pg.db")).unwrap_err();
    assert!(e.to_string().contains("pg_dump"), "{e}");
}

/// `sslmode` means what it means to libpq: the test server offers TLS with a certificate for
/// `localhost` signed by a CA of its own (`scripts/pg.sh`), and plain connections too.
#[test]
fn postgres_connections_follow_sslmode_as_libpq_does() {
    let base = database_url();
    let ca = std::env::var("ROTA_TEST_DATABASE_CA").unwrap_or_else(|_| {
        panic!(
            "ROTA_TEST_DATABASE_CA is not set: run the tests with scripts/test.sh, which starts \
             PostgreSQL with TLS and sets it to the test CA's certificate"
        )
    });
    let config: ::postgres::Config = base.parse().unwrap();
    let port = config.get_ports()[0];
    let (local, ip) = (
        format!("postgres://rota@localhost:{port}/rota"),
        format!("postgres://rota@127.0.0.1:{port}/rota"),
    );
    let encrypted = |url: &str| Store::connect(url).map(|s| s.encrypted().unwrap().unwrap());
    assert!(!encrypted(&format!("{ip}?sslmode=disable")).unwrap());
    assert!(
        encrypted(&ip).unwrap(),
        "prefer (the default) encrypts when the server offers TLS"
    );
    assert!(encrypted(&format!("{ip}?sslmode=require")).unwrap());
    assert!(encrypted(&format!("{local}?sslmode=verify-full&sslrootcert={ca}")).unwrap());
    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca does not.
    let e = encrypted(&format!("{ip}?sslmode=verify-full&sslrootcert={ca}")).unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    assert!(encrypted(&format!("{ip}?sslmode=verify-ca&sslrootcert={ca}")).unwrap());
    // Mozilla's roots (sslrootcert=system) do not know the test CA.
    let e = encrypted(&format!("{local}?sslmode=verify-full&sslrootcert=system")).unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    assert!(
        !e.to_string().contains("sslmode="),
        "the message is about the server: {e}"
    );
    // A SQLite file has no connection to encrypt.
    let f = fixture(Kind::Sqlite);
    assert_eq!(f.open().encrypted().unwrap(), None);
}

fn a_swap_over_an_accepted_swap_names_the_overrides_it_lies_on(kind: Kind) {
    let f = fixture(kind);
    let s = f.open();
    let now = t("2026-11-23T10:00:00Z");
    let first = s.create_swap(new_swap(30, Some(31)), "alice", now).unwrap();
    let first = s
        .accept_swap(&first.id, swap_overrides(&first), "bob", now)
        .unwrap();
    // Bob, who now holds slot 30, asks for it to be covered.
    let mut again = new_swap(30, None);
    again.requester = "bob".into();
    again.counterpart = "carol".into();
    let again = s.create_swap(again, "bob", now).unwrap();
    let covering = vec![NewOverride {
        rotation: "support-hero".into(),
        person: "carol".into(),
        start: again.requester_slot.start,
        end: again.requester_slot.end,
        reason: None,
    }];
    // A plain accept refuses (an override covers it); naming the one it lies on is accepted,
    // and the new override comes after it (so it wins).
    let e = s
        .accept_swap(&again.id, covering.clone(), "carol", now)
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Conflict(m) if m.contains("already covered")),
        "{e}"
    );
    let wrong = vec!["ovr_0000000000000000".to_string()];
    assert!(
        s.accept_swap_over(&again.id, covering.clone(), &wrong, "carol", now)
            .is_err()
    );
    let done = s
        .accept_swap_over(
            &again.id,
            covering.clone(),
            &first.overrides[..1],
            "carol",
            now,
        )
        .unwrap();
    assert_eq!(done.state, SwapState::Accepted);
    let all = s.overrides().unwrap();
    assert_eq!(all.last().unwrap().person, "carol");
    assert_eq!(all.len(), 3);
}

/// The overrides a swap on a swap lies on must still be there when it is accepted: one that went
/// (the first swap undone meanwhile) makes the accept stale, whatever the caller last saw.
fn a_swap_on_a_swap_is_refused_once_what_it_lay_on_is_undone(kind: Kind) {
    let f = fixture(kind);
    let s = f.open();
    let now = t("2026-11-23T10:00:00Z");
    let first = s.create_swap(new_swap(32, Some(33)), "alice", now).unwrap();
    let first = s
        .accept_swap(&first.id, swap_overrides(&first), "bob", now)
        .unwrap();
    let mut again = new_swap(32, None);
    again.requester = "bob".into();
    again.counterpart = "carol".into();
    let again = s.create_swap(again, "bob", now).unwrap();
    s.request_undo(&first.id, "alice", now).unwrap();
    s.undo_swap(&first.id, "bob", now).unwrap();
    let covering = vec![NewOverride {
        rotation: "support-hero".into(),
        person: "carol".into(),
        start: again.requester_slot.start,
        end: again.requester_slot.end,
        reason: None,
    }];
    let e = s
        .accept_swap_over(&again.id, covering, &first.overrides[..1], "carol", now)
        .unwrap_err();
    assert!(e.to_string().contains("is gone"), "{e}");
    assert!(s.overrides().unwrap().is_empty(), "nothing written");
}

/// Every column of every table is copied by `rota migrate` and compared by `dump`.
fn every_column_is_in_the_table_list(kind: Kind) {
    let f = fixture(kind);
    drop(f.open());
    for (table, listed) in migrations::TABLES {
        let mut actual: Vec<String> = match kind {
            Kind::Sqlite => {
                let conn = Connection::open(&f.target).unwrap();
                let mut st = conn
                    .prepare(&format!("PRAGMA table_info({table})"))
                    .unwrap();
                st.query_map([], |r| r.get::<_, String>(1))
                    .unwrap()
                    .map(|c| c.unwrap())
                    .collect()
            }
            Kind::Postgres => {
                let (base, schema) = f.schema.clone().unwrap();
                let mut c = ::postgres::Client::connect(&base, ::postgres::NoTls).unwrap();
                c.query(
                    "SELECT column_name FROM information_schema.columns
                     WHERE table_schema = $1 AND table_name = $2",
                    &[&schema, table],
                )
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect()
            }
        };
        // SQLite's rowid is implicit (not a listed column); PostgreSQL's is an explicit one.
        actual.retain(|c| c != "rowid");
        actual.sort();
        let mut expected: Vec<String> = listed
            .iter()
            .filter(|c| **c != "rowid")
            .map(|c| c.to_string())
            .collect();
        expected.sort();
        assert_eq!(actual, expected, "{table}");
    }
}

fn undoing_a_swap_removes_both_overrides_after_the_swaps_on_top_of_it(kind: Kind) {
    let f = fixture(kind);
    let s = f.open();
    let now = t("2026-11-23T10:00:00Z");
    let pending = s.create_swap(new_swap(40, Some(41)), "alice", now).unwrap();
    let e = s.request_undo(&pending.id, "alice", now).unwrap_err();
    assert!(e.to_string().contains("only an accepted swap"), "{e}");
    let first = s
        .accept_swap(&pending.id, swap_overrides(&pending), "bob", now)
        .unwrap();
    // A swap on top of it: Bob has Carol cover the week he took.
    let mut on_top = new_swap(40, None);
    on_top.requester = "bob".into();
    on_top.counterpart = "carol".into();
    let on_top = s.create_swap(on_top, "bob", now).unwrap();
    let covering = vec![NewOverride {
        rotation: "support-hero".into(),
        person: "carol".into(),
        start: on_top.requester_slot.start,
        end: on_top.requester_slot.end,
        reason: None,
    }];
    let on_top = s
        .accept_swap_over(&on_top.id, covering, &first.overrides[..1], "carol", now)
        .unwrap();
    let asked = s.request_undo(&first.id, "alice", now).unwrap();
    assert_eq!(asked.undo_requested_by.as_deref(), Some("alice"));
    assert_eq!(asked.undo_requested_at, Some(now));
    assert!(
        s.request_undo(&first.id, "bob", now).is_err(),
        "asked already"
    );
    let e = s.undo_swap(&first.id, "bob", now).unwrap_err();
    assert!(e.to_string().contains(&on_top.id), "{e}");
    assert_eq!(s.overrides().unwrap().len(), 3, "nothing half-undone");
    let undone = s.undo_swap(&on_top.id, "admin:cli", now).unwrap();
    assert_eq!(undone.state, SwapState::Undone);
    let undone = s.undo_swap(&first.id, "bob", now).unwrap();
    assert_eq!(undone.state, SwapState::Undone);
    assert!(s.overrides().unwrap().is_empty());
    assert!(matches!(
        s.undo_swap(&first.id, "bob", now).unwrap_err().kind(),
        ErrorKind::Conflict(_)
    ));
    let actions: Vec<String> = s
        .audit(3, None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["swap.undo", "swap.undo", "swap.undo_request"]);
    // It reads back as undone from a fresh store.
    assert_eq!(
        f.open().swap(&first.id).unwrap().unwrap().state,
        SwapState::Undone
    );
}

/// Migration 6 rebuilds SQLite's swap table (to allow the state `undone`): every request and its
/// insertion order survive it.
#[test]
fn migration_6_keeps_every_swap_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rota.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for m in &migrations::SQLITE[..5] {
            tx.execute_batch(m).unwrap();
        }
        tx.pragma_update(None, "user_version", 5).unwrap();
        for (id, state) in [("swp_b", "accepted"), ("swp_a", "pending")] {
            tx.execute(
                "INSERT INTO swap_requests (id, rotation, kind, requester, requester_slot,
                    requester_start, requester_end, requester_person, counterpart, state,
                    created_by, created_at, fingerprint, override_a)
                 VALUES (?1, 'support-hero', 'cover', 'alice', 3, 100, 200, 'alice', 'bob', ?2,
                    'alice', 50, 'fp', 'ovr_1')",
                rusqlite::params![id, state],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), migrations::SQLITE.len() as u32);
    let all = s.swaps(None).unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["swp_a", "swp_b"],
        "same created_at: the later insert first"
    );
    assert_eq!(all[1].state, SwapState::Accepted);
    assert_eq!(all[1].overrides, ["ovr_1"]);
    assert_eq!(all[1].undo_requested_by, None);
}
