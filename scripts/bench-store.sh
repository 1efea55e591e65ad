#!/usr/bin/env bash
# The store's benchmark on both backends (crates/rota-store/benches/store.rs): starts a throwaway
# PostgreSQL (scripts/pg.sh), runs the criterion bench against it and a SQLite file, stops it.
# Note: the test cluster runs with fsync off, so PostgreSQL's write figures are those of its
# protocol and locking, not of a disk; SQLite's are with synchronous=FULL on this machine's disk.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_DIR=$(mktemp -d)/pg
trap 'scripts/pg.sh stop "$PG_DIR"; rm -rf "$(dirname "$PG_DIR")"' EXIT
ROTA_TEST_DATABASE_URL=$(scripts/pg.sh start "$PG_DIR")
export ROTA_TEST_DATABASE_URL
cargo bench -p rota-store --bench store -- "$@"
