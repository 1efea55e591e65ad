//! The store's hot paths on both backends, in one run so the figures compare: authenticating an
//! API token (every authenticated request), checking a feed token (every feed request; cached),
//! reading every override (each rebuild of the served schedule), reading the state version (each
//! replica's poll), and claiming a ledger entry (each outbound message: a serialised write).
//!
//! `cargo bench -p rota-store --bench store` needs a PostgreSQL server named by
//! `ROTA_TEST_DATABASE_URL`; `scripts/bench-store.sh` starts one and runs this.

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use rota_store::{LedgerItem, NewOverride, Store};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A store with 200 overrides and 50 tokens, as a busy team might have after a year.
fn fill(store: &Store) -> String {
    let now = t("2026-11-23T10:00:00Z");
    for i in 0..200 {
        let start = t("2026-01-05T09:00:00Z") + Duration::days(i);
        store
            .add_override(
                NewOverride {
                    rotation: "support-hero".into(),
                    person: format!("p{}", i % 20),
                    start,
                    end: start + Duration::hours(8),
                    reason: Some("bench".into()),
                },
                "cli",
                now,
            )
            .unwrap();
    }
    let mut last = String::new();
    for i in 0..50 {
        last = store
            .issue_token(&format!("p{i}"), "cli", now)
            .unwrap()
            .token;
    }
    last
}

fn bench(c: &mut Criterion) {
    let url = std::env::var("ROTA_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "ROTA_TEST_DATABASE_URL is not set: run scripts/bench-store.sh, which starts \
             PostgreSQL (Debian: apt-get install postgresql), or set it to postgres://..."
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("bench_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let stores = [
        ("sqlite", Store::open(dir.path().join("rota.db")).unwrap()),
        (
            "postgres",
            Store::connect(&format!("{url}{sep}options=-csearch_path%3D{schema}")).unwrap(),
        ),
    ];
    let now = t("2026-11-30T09:00:00Z");
    for (name, store) in &stores {
        let token = fill(store);
        let feed = store.feed_token("p1").unwrap();
        let mut g = c.benchmark_group(*name);
        g.measurement_time(std::time::Duration::from_secs(3));
        g.bench_function("authenticate", |b| {
            b.iter(|| assert!(store.authenticate(&token).unwrap().is_some()))
        });
        g.bench_function("verify_feed_token (cached)", |b| {
            b.iter(|| assert!(store.verify_feed_token("p1", &feed).unwrap()))
        });
        g.bench_function("overrides (200, a rebuild)", |b| {
            b.iter(|| assert_eq!(store.overrides().unwrap().len(), 200))
        });
        g.bench_function("state_version (a replica's poll)", |b| {
            b.iter(|| store.state_version().unwrap())
        });
        let mut n = 0u64;
        g.bench_function("ledger_claim (a new message)", |b| {
            b.iter(|| {
                n += 1;
                let key = format!("bench/{n}");
                let item = LedgerItem {
                    key: &key,
                    kind: "reminder",
                    person: "p1",
                    recipient: "p1@example.com",
                    expires: None,
                };
                store
                    .ledger_claim(&item, "bench/1", Duration::minutes(10), now)
                    .unwrap()
            })
        });
        g.finish();
    }
    let _ = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
}

criterion_group!(benches, bench);
criterion_main!(benches);
