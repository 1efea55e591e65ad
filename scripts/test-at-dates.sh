#!/usr/bin/env bash
# Runs tests with the clock moved to other dates (Debian's `faketime`, installed if missing), to
# prove that no test depends on today's date: a test that picks "next week's shift" by the
# calendar instead of from what the service shows fails on some dates and not others.
#
#   scripts/test-at-dates.sh [--full] DATE...
#
# DATE is what faketime takes, e.g. '2027-03-25 10:00:00' (the clock starts there and ticks).
# Without --full, each date runs the tests that read the clock: the end-to-end test binary
# (`cargo test --test tests`, the real `rota` binary and server) and the browser test. With --full,
# each date runs every step of scripts/test.sh but the doc tests (see below). Everything is built first, on the real clock, so
# cargo's freshness checks are not fooled.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "test-at-dates: $*" >&2; exit 1; }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

full=
if [[ ${1:-} == --full ]]; then full=1; shift; fi
[[ $# -gt 0 ]] || die "usage: scripts/test-at-dates.sh [--full] DATE..."

if ! command -v faketime >/dev/null; then
    echo "test-at-dates: installing faketime (Debian)"
    { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime; } \
        >/dev/null || die "could not install faketime: apt-get install faketime"
fi
# faketime must really move the clock, or the runs below prove nothing.
# Plain faketime: its -m and --exclude-monotonic variants hung cargo itself here.
FAKETIME=(faketime)
year=$("${FAKETIME[@]}" '2031-01-02 03:04:05' date -u +%Y)
[[ $year == 2031 ]] || die "faketime does not move the clock here (date says $year)"

scripts/test-python-setup.sh
# The store and replica tests need PostgreSQL: one server on the real clock for every date (only
# rota's clock is moved; the instants it stores are its own).
PG_DIR=$(mktemp -d)/pg
trap 'scripts/pg.sh stop "$PG_DIR"; rm -rf "$(dirname "$PG_DIR")"' EXIT
ROTA_TEST_DATABASE_URL=$(scripts/pg.sh start "$PG_DIR")
ROTA_TEST_DATABASE_CA=$PG_DIR/ca.crt
export ROTA_TEST_DATABASE_URL ROTA_TEST_DATABASE_CA
# Build now, on the real clock, exactly what the runs below build: rustc hangs under libfaketime,
# and cargo rebuilds when a command's package selection changes the features it unifies (so
# `--workspace` and `--test tests` are built separately).
cargo test --workspace --all-targets --no-run --quiet
cargo test --test tests --no-run --quiet
cargo build --quiet
cargo build --quiet --example whos_on_call

# Each dated command runs in a session of its own with a time limit; whatever it leaves running is
# killed after it, so nothing started under the fake clock outlives its step.
dated() { # DATE COMMAND...
    local d=$1 rc=0; shift
    setsid timeout --kill-after=20 900 "${FAKETIME[@]}" "$d" "$@" &
    local sid=$!
    wait "$sid" || rc=$?
    pkill -KILL -s "$sid" 2>/dev/null || true
    [[ $rc != 124 && $rc != 137 ]] || echo "test-at-dates: $* did not finish within 15 minutes at $d" >&2
    return "$rc"
}

for d in "$@"; do
    echo "test-at-dates: === the clock at $d ==="
    if [[ -n $full ]]; then
        # scripts/test.sh's steps, each with the clock moved, but the doc tests: rustdoc hangs
        # under libfaketime (in a futex wait of its own), and the doc examples never read the
        # clock (rota-core has none; every example names its instants).
        for step in "cargo test --workspace --all-targets" \
            "cargo run --quiet --example whos_on_call -- schedules alice" \
            scripts/check-feeds.sh scripts/e2e.sh; do
            # shellcheck disable=SC2086
            dated "$d" $step >/dev/null || die "$step failed with the clock at $d"
            echo "test-at-dates: $d: $step passed"
        done
    else
        dated "$d" cargo test --quiet --test tests || die "cargo test --test tests failed with the clock at $d"
        dated "$d" scripts/e2e.sh || die "scripts/e2e.sh failed with the clock at $d"
    fi
done
echo "test-at-dates: passed at $# date(s)"
