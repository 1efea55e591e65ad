#!/usr/bin/env bash
# The project's one test command (README: "Run the tests"). Installs what the tests need on a fresh
# machine, then runs every test: unit, property, integration (real binary), doc tests, and the
# embedding example.
set -euo pipefail
cd "$(dirname "$0")/.."

# The email tests talk to a real SMTP server (scripts/smtp_sink.py, aiosmtpd in a venv).
scripts/test-python-setup.sh
# The store's conformance suite and the replica tests run on a real PostgreSQL server: installed
# (Debian) if missing, started on a free port with its data in a temporary directory, stopped at
# the end.
PG_DIR=$(mktemp -d)/pg
trap 'scripts/pg.sh stop "$PG_DIR"; rm -rf "$(dirname "$PG_DIR")"' EXIT
ROTA_TEST_DATABASE_URL=$(scripts/pg.sh start "$PG_DIR")
ROTA_TEST_DATABASE_CA=$PG_DIR/ca.crt
export ROTA_TEST_DATABASE_URL ROTA_TEST_DATABASE_CA
cargo test --workspace --all-targets
cargo test --workspace --doc
# The embedding example must keep working: run it on the example schedules.
cargo run --quiet --example whos_on_call -- schedules alice >/dev/null
# The ICS feeds, read by Python icalendar + recurring_ical_events and by khal, equal the API's
# shifts (installs those readers on a fresh machine).
scripts/check-feeds.sh
# A real browser (headless Chromium, installed by the script) signs in, proposes and accepts a swap.
scripts/e2e.sh
echo "scripts/test.sh: all tests passed"
