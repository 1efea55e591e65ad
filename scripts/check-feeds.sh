#!/usr/bin/env bash
# Checks the service's ICS feeds with independent readers (DESIGN.md, "ICS feeds"): Python
# `icalendar` + `recurring_ical_events`, and khal (Debian's package) importing them. The events each
# reader sees must equal the shifts the JSON API resolves for the same window, one for one.
#
# Installs what it needs on a fresh machine, and skips the installs when they are already there:
# a venv under target/feed-check-venv (icalendar, recurring_ical_events from PyPI) and khal (apt).
# Starts `rota serve` on a free loopback port over a copy of schedules/, checks every rotation feed
# and every person's feed, and stops the server on exit. Exit 0 only if every feed is equal.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
began=$SECONDS

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
BIN=$TARGET/debug/rota
VENV=$TARGET/feed-check-venv
PY_DEPS=(icalendar==7.3.0 recurring_ical_events==3.8.2)

say() { echo "check-feeds: $*"; }
die() {
    echo "check-feeds: $*" >&2
    exit 1
}
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_install() { # PACKAGE... (quiet unless it fails)
    local log
    log=$(mktemp)
    if ! { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "$@"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "apt-get install $* failed"
    fi
    rm -f "$log"
}

# --- what the checks need ------------------------------------------------------------------------
cargo build --quiet

# Installed already (at the pinned versions)? Then nothing to do.
if ! "$VENV/bin/python" -c '
import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (a.split("==") for a in sys.argv[1:])))
' "${PY_DEPS[@]}" 2>/dev/null; then
    say "installing ${PY_DEPS[*]} into ${VENV#"$ROOT"/}"
    if ! python3 -m venv --clear "$VENV" >/dev/null 2>&1; then
        # Debian's own python3 makes venvs only with python3-venv.
        apt_install python3-venv
        python3 -m venv --clear "$VENV"
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_DEPS[@]}"
fi
PY=$VENV/bin/python

apt_needed=()
command -v khal >/dev/null || apt_needed+=(khal)
command -v curl >/dev/null || apt_needed+=(curl)
if ((${#apt_needed[@]})); then
    say "installing ${apt_needed[*]} (apt)"
    apt_install "${apt_needed[@]}"
fi
khal_version=$(LC_ALL=C.UTF-8 khal --version 2>&1 | head -n1)
say "set-up done in $((SECONDS - began)) s (${khal_version}; ${PY_DEPS[*]})"

# --- the service ---------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-feeds.XXXXXX")
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cp -r schedules "$WORK/schedules"
"$BIN" serve --bind 127.0.0.1:0 --schedules "$WORK/schedules" --state "$WORK/rota.db" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!

ADDR=
for _ in $(seq 300); do
    line=$(head -n1 "$WORK/serve.out" 2>/dev/null || true)
    if [[ $line =~ ^rota:\ listening\ on\ http://([^[:space:]]+)$ ]]; then
        ADDR=${BASH_REMATCH[1]}
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $ADDR ]]; then
    cat "$WORK/serve.out" "$WORK/serve.err" >&2 || true
    die "rota serve did not print 'rota: listening on http://ADDR'"
fi
BASE=http://$ADDR

get() { # URL FILE
    curl --silent --show-error --fail-with-body --max-time 60 -o "$2" "$1" ||
        die "GET ${1%%\?*} failed: $(head -c 500 "$2" 2>/dev/null)"
}

get "$BASE/api/v1/rotations" "$WORK/rotations.json"
mapfile -t ROTATIONS < <("$PY" -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print(r["id"])' "$WORK/rotations.json")
# Every member of some rotation gets a feed checked (at least two people: the checks need them).
mapfile -t PEOPLE < <("$PY" -c '
import json, sys
seen = []
for r in json.load(open(sys.argv[1])):
    for m in r["members"]:
        if m not in seen:
            seen.append(m)
print("\n".join(seen))' "$WORK/rotations.json")
((${#ROTATIONS[@]} >= 1)) || die "GET /api/v1/rotations listed no rotation"
((${#PEOPLE[@]} >= 2)) || die "the rotations have fewer than two members; need two person feeds"

# --- the checks ----------------------------------------------------------------------------------
feeds=0
failed=()
: >"$WORK/tally"

check() { # NAME FEED_URL SHIFTS_PATH (API path without the query)
    local name=$1 url=$2 shifts_path=$3
    local dir=$WORK/feed-$feeds
    mkdir -p "$dir"
    feeds=$((feeds + 1))
    get "$url" "$dir/feed.ics"
    # The window is anchored on DTSTAMP's day (00:00 UTC); a feed without events has no DTSTAMP,
    # and then it is today's.
    local stamp day from to
    stamp=$(grep -m1 -a '^DTSTAMP' "$dir/feed.ics" | tr -d '\r' || true)
    if [[ $stamp =~ ^DTSTAMP:([0-9]{8})T000000Z$ ]]; then
        day=${BASH_REMATCH[1]}
    elif [[ -z $stamp ]]; then
        day=$(date -u +%Y%m%d)
    else
        failed+=("$name")
        echo "check-feeds: MISMATCH in $name: DTSTAMP is not 00:00 UTC of a day: ${stamp@Q}" >&2
        return
    fi
    from=$(date -u -d "$day - 30 days" +%Y-%m-%dT00:00:00Z)
    to=$(date -u -d "$day + 365 days" +%Y-%m-%dT00:00:00Z)
    get "$BASE$shifts_path?from=$from&to=$to" "$dir/shifts.json"
    mkdir "$dir/khal"
    if ! "$PY" scripts/check_feeds.py --name "$name" --ics "$dir/feed.ics" \
        --shifts "$dir/shifts.json" --rotations "$WORK/rotations.json" --from "$from" --to "$to" \
        --khal-workdir "$dir/khal" --tally "$WORK/tally"; then
        failed+=("$name")
    fi
}

for r in "${ROTATIONS[@]}"; do
    check "rotations/$r.ics" "$BASE/calendars/rotations/$r.ics" "/api/v1/rotations/$r/shifts"
done
for p in "${PEOPLE[@]}"; do
    url=$("$BIN" --schedules "$WORK/schedules" feed url "$p" --base-url "$BASE" \
        --state "$WORK/rota.db")
    check "people/$p.ics" "$url" "/api/v1/people/$p/shifts"
done

events=$(awk '{ n += $1 } END { print n + 0 }' "$WORK/tally")
if ((${#failed[@]})); then
    die "${#failed[@]} of $feeds feeds differ: ${failed[*]} ($((SECONDS - began)) s)"
fi
say "$feeds feeds, $events events, all equal ($((SECONDS - began)) s)"

# --- libical's iTIP restriction check, on the feeds and on real email attachments ----------------
# Calendar clients built on libical (Evolution, ...) apply icalrestriction_check to a calendar with
# a METHOD. The feeds just read, and the .ics attachments of real emails: a reminder run against the
# SMTP sink (scripts/smtp_sink.py, in the tests' venv), then an override on the reminded shift and a
# second run, whose change notice carries the calendar update (same UID, STATUS:CANCELLED).
SINK_PY=$TARGET/test-venv/bin/python
[[ -x $SINK_PY ]] || die "no $SINK_PY: run scripts/test-python-setup.sh first (scripts/test.sh does)"
mkdir -p "$WORK/mail"
"$SINK_PY" scripts/smtp_sink.py "$WORK/mail" --port 0 >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!
trap 'kill "$SINK_PID" 2>/dev/null || true; cleanup' EXIT
SMTP_PORT=
for _ in $(seq 100); do
    line=$(head -n1 "$WORK/sink.out" 2>/dev/null || true)
    if [[ $line =~ listening\ on\ 127\.0\.0\.1:([0-9]+) ]]; then
        SMTP_PORT=${BASH_REMATCH[1]}
        break
    fi
    sleep 0.1
done
[[ -n $SMTP_PORT ]] || die "the SMTP sink did not start: $(cat "$WORK/sink.err")"
# A moment when the next Support Hero shift's 1-day reminder is due, from the API's own shifts.
get "$BASE/api/v1/rotations/support-hero/shifts?from=$(date -u +%Y-%m-%dT%H:%M:%SZ)&to=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)" "$WORK/hero.json"
# The override puts someone else on call (a member who is not on it already), so it is a change.
read -r SHIFT_START SHIFT_END REMIND_AT OTHER < <("$PY" -c '
import json, sys, datetime as d
s = [x for x in json.load(open(sys.argv[1])) if x["person"] is not None][1]
members = next(r["members"] for r in json.load(open(sys.argv[2])) if r["id"] == "support-hero")
other = next(m for m in members if m != s["person"]["id"])
start = d.datetime.fromisoformat(s["start"].replace("Z", "+00:00"))
print(s["start"], s["end"], (start - d.timedelta(hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ"), other)' \
    "$WORK/hero.json" "$WORK/rotations.json")
remind() { # NOW
    "$BIN" --schedules "$WORK/schedules" remind --once --now "$1" --state "$WORK/rota.db" \
        --smtp-host 127.0.0.1 --smtp-port "$SMTP_PORT" --smtp-security plain \
        --smtp-from 'rota <rota@example.com>' --base-url "$BASE" >>"$WORK/remind.out" 2>&1 ||
        die "rota remind failed: $(cat "$WORK/remind.out")"
}
remind "$REMIND_AT"
TOKEN=$("$BIN" --schedules "$WORK/schedules" token issue alice --state "$WORK/rota.db" 2>/dev/null)
status=$(curl --silent --output "$WORK/override.json" --write-out '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"rotation\":\"support-hero\",\"person\":\"$OTHER\",\"start\":\"$SHIFT_START\",\"end\":\"$SHIFT_END\"}" \
    "$BASE/api/v1/overrides")
[[ $status == 201 ]] || die "the override for the change notice got $status: $(cat "$WORK/override.json")"
sleep 1
remind "$(date -u -d "$REMIND_AT + 1 minute" +%Y-%m-%dT%H:%M:%SZ)"
mkdir -p "$WORK/attachments"
"$PY" -c '
import email, email.policy, glob, os, sys
n = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.eml"))):
    msg = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            n += 1
            name = f"{os.path.basename(path)[:-4]}-{part.get_filename() or str(n)}"
            open(os.path.join(sys.argv[2], name), "wb").write(part.get_content().encode())
print(n)' "$WORK/mail" "$WORK/attachments" >"$WORK/attachments.count"
attachments=$(cat "$WORK/attachments.count")
((attachments >= 2)) || die "expected a reminder and a change notice with calendars, got $attachments attachments ($(ls "$WORK/mail"))"
grep -lq 'STATUS:CANCELLED' "$WORK"/attachments/* ||
    die "no attachment cancels the reminded shift after the override"
if ! scripts/check-ical-restrictions.sh "$WORK"/feed-*/feed.ics "$WORK"/attachments/* >"$WORK/libical.out" 2>&1; then
    cat "$WORK/libical.out" >&2
    die "libical's restriction check failed"
fi
say "libical's restriction check: $feeds feeds and $attachments email attachments ok ($((SECONDS - began)) s)"
