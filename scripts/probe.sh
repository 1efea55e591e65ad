#!/usr/bin/env bash
# The probe: fuzzes every route of the real `rota serve` with generated inputs (scripts/probe.py)
# and checks no 5xx, errors as problem+json (HTML on pages), no response over 1 s, no secret in a
# response or in the server's log, and the hostile cases of issue 11.
#
#   scripts/probe.sh                      # default budget (PROBE_REQUESTS, PROBE_SECONDS)
#   PROBE_SEED=1234 scripts/probe.sh      # replay a run: the seed is printed at the start
#
# It builds the binary, copies schedules/ to a temp directory and adds hostile fixtures: an absence
# calendar of 200 events of RRULE:FREQ=HOURLY;COUNT=50000 (grace), calendars symlinked to
# /proc/self/environ (carol) and /etc/passwd (ivan), and a FIFO (heidi). It issues API tokens and
# a feed token, starts the service on port 0 with an SMTP password in its environment (the SMTP
# port is closed, so mail fails harmlessly and often), runs the probe, stops the service, and
# fails if any secret appears in the service's log. Exit 1 on any violation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

cargo build --quiet --bin rota
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
ROTA=$TARGET/debug/rota

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rota-probe.XXXXXX")
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    # Open the FIFO's other end in case something still waits on it, then remove everything.
    if [[ -p $WORK/s/calendars/heidi.ics ]]; then
        timeout 1 bash -c ": > '$WORK/s/calendars/heidi.ics'" 2>/dev/null || true
    fi
    [[ -n ${PROBE_KEEP:-} ]] && { echo "probe: kept $WORK"; return; }
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- fixtures -----------------------------------------------------------------------------------
S=$WORK/s
cp -r schedules "$S"
# 1. A hostile recurrence: 200 events, each hourly 50000 times (about 10 million instances).
{
    printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rota probe//EN\r\n'
    for i in $(seq 1 200); do
        printf 'BEGIN:VEVENT\r\nUID:hostile-%d@probe\r\nDTSTAMP:20261101T000000Z\r\n' "$i"
        printf 'DTSTART:20261101T%02d%02d00Z\r\nDTEND:20261101T%02d%02d30Z\r\n' $((i % 24)) $((i % 60)) $((i % 24)) $((i % 60))
        printf 'RRULE:FREQ=HOURLY;COUNT=50000\r\nSUMMARY:hostile %d\r\nEND:VEVENT\r\n' "$i"
    done
    printf 'END:VCALENDAR\r\n'
} > "$S/calendars/grace-hostile.ics"
# 2. Calendars that are symlinks out of the schedules directory, and a FIFO.
ln -s /proc/self/environ "$S/calendars/carol.ics"
ln -s /etc/passwd "$S/calendars/ivan.ics"
mkfifo "$S/calendars/heidi.ics"
# Name them in people.toml (carol keeps her own calendar too).
add_absence() { # PERSON ABSENCE-LIST
    awk -v p="[people.$1]" -v a="absence = $2" '
        $0 == p { print; print a; inside = 1; next }
        /^\[/ { inside = 0 }
        inside && /^absence *=/ { next }
        { print }' "$S/people.toml" > "$S/people.toml.new"
    mv "$S/people.toml.new" "$S/people.toml"
}
add_absence grace '["calendars/grace-hostile.ics"]'
add_absence carol '["calendars/carol-out-of-office.ics", "calendars/carol.ics"]'
add_absence ivan '["calendars/ivan.ics"]'
add_absence heidi '["calendars/heidi.ics"]'

# --- credentials ----------------------------------------------------------------------------------
DB=$WORK/rota.db
issue() { "$ROTA" --schedules "$S" token issue "$1" --state "$DB" 2>/dev/null; }
# (Not exported: the service gets only the SMTP password as a secret in its environment.)
PROBE_ADMIN_TOKEN=$(issue alice)
# Every other person has a token too: the probe trades between two of them and revokes one.
PROBE_TOKENS=
for p in bob grace dave carol heidi erin frank ivan; do
    PROBE_TOKENS+="$p=$(issue "$p") "
done
FEED_URL=$("$ROTA" --schedules "$S" feed url carol --state "$DB" 2>/dev/null)
PROBE_FEED_TOKEN=${FEED_URL##*token=}
SMTP_PASSWORD=probe-secret-smtp-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
# A port nothing listens on: bind one, let it go.
CLOSED_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# --- the service ----------------------------------------------------------------------------------
FLAGS=$WORK/flags
mkdir -p "$FLAGS"
start_server() { # LOG-NAME
    LOG=$WORK/$1.log OUT=$WORK/$1.out
    env ROTA_LOG=info ROTA_SCHEDULES="$S" \
        ROTA_SMTP_HOST=127.0.0.1 ROTA_SMTP_PORT="$CLOSED_PORT" ROTA_SMTP_SECURITY=plain \
        ROTA_SMTP_USERNAME=probe ROTA_SMTP_PASSWORD="$SMTP_PASSWORD" \
        ROTA_SMTP_FROM='rota <rota@probe.invalid>' ROTA_REMIND_INTERVAL=5 \
        "$ROTA" serve --bind 127.0.0.1:0 --state "$DB" > "$OUT" 2> "$LOG" &
    SERVER_PID=$!
    for _ in $(seq 1 200); do # up to 20 s
        ADDR=$(sed -n 's|^rota: listening on http://||p' "$OUT")
        if [[ -n $ADDR ]]; then
            # The first entry of its environment: /proc/self/environ's content, to look for later.
            ENV_FIRST=$(tr '\0' '\n' < "/proc/$SERVER_PID/environ" | awk 'length >= 12' | head -1)
            echo "probe: rota serving on http://$ADDR (pid $SERVER_PID), work dir $WORK"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # A request still computing (the hostile calendar) would hold a graceful stop for 30 s.
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
run_phase() { # PHASE: "cases" (issue 11, one by one) or "fuzz" (generated requests)
    PROBE_PHASE=$1 PROBE_URL=http://$ADDR PROBE_STARTUP=$PROBE_STARTUP PROBE_FLAGS=$FLAGS \
        PROBE_ADMIN=alice PROBE_ADMIN_TOKEN=$PROBE_ADMIN_TOKEN PROBE_TOKENS="$PROBE_TOKENS" \
        PROBE_FEED_TOKEN=$PROBE_FEED_TOKEN PROBE_SMTP_PASSWORD=$SMTP_PASSWORD PROBE_ENV_FIRST="$ENV_FIRST" \
        PROBE_ROTA=$ROTA PROBE_SCHEDULES=$S PROBE_STATE=$DB PROBE_LOG=$LOG \
        python3 scripts/probe.py
}
PROBE_STARTUP=ok
if ! start_server server-1; then
    # Finding 2: a FIFO calendar must not hang (or stop) the start. Record it, then probe without
    # the FIFO so the rest still runs.
    echo "probe: the service did not start within 20 s with a FIFO calendar (heidi); retrying without it" >&2
    timeout 1 bash -c ": > '$S/calendars/heidi.ics'" 2>/dev/null || true
    stop_server
    rm -f "$S/calendars/heidi.ics"
    add_absence heidi '[]'
    PROBE_STARTUP=fifo-hang
    start_server server-1b || { echo "probe: the service does not start even without the FIFO" >&2; cat "$LOG" >&2; exit 1; }
fi

# Idle for 10 s: the service's own threads (reminders and conflict emails every 5 s here, calendar
# refreshes) must not burn the CPU on the hostile calendar while nobody asks anything.
IDLE_RC=0
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
T0=$(cpu_ticks); sleep 10; T1=$(cpu_ticks)
IDLE_CPU=$(( (T1 - T0) * 100 / $(getconf CLK_TCK) ))
if (( IDLE_CPU > 150 )); then
    echo "VIOLATION idle-cpu: with no requests, the service used $((IDLE_CPU / 100)).$(printf %02d $((IDLE_CPU % 100))) s of CPU in 10 s (background threads on the hostile calendar?)" >&2
    IDLE_RC=1
else
    echo "probe: idle for 10 s: the service used $((IDLE_CPU / 100)).$(printf %02d $((IDLE_CPU % 100))) s of CPU"
fi

set +e
run_phase cases
CASES_RC=$?
set -e
stop_server
if [[ -e $FLAGS/hostile-slow ]]; then
    # Finding 1 is not fixed here: with that calendar every conflicts request and schedule page
    # computes for a minute, and the fuzzing would measure nothing else. Fuzz without it.
    echo "probe: the hostile recurrence is slow here; fuzzing without grace's calendar"
    add_absence grace '[]'
fi
start_server server-2 || { echo "probe: the service did not start again" >&2; cat "$LOG" >&2; exit 1; }
set +e
run_phase fuzz
PROBE_RC=$?
set -e
stop_server
[[ $CASES_RC == 0 && $IDLE_RC == 0 ]] || PROBE_RC=1

# --- secrets in the log ---------------------------------------------------------------------------
LEAKS=0
LOGS=("$WORK"/server-*.log "$WORK"/server-*.out)
check_secret() { # NAME VALUE
    [[ -n $2 ]] || return 0
    if grep -qF -- "$2" "${LOGS[@]}"; then
        echo "VIOLATION secret-in-log: the server log contains $1" >&2
        grep -nF -- "$2" "${LOGS[@]}" | head -3 | cut -c1-300 >&2
        LEAKS=1
    fi
}
check_secret "the SMTP password" "$SMTP_PASSWORD"
check_secret "the admin's API token" "$PROBE_ADMIN_TOKEN"
for kv in $PROBE_TOKENS; do check_secret "${kv%%=*}'s API token" "${kv#*=}"; done
check_secret "carol's feed token" "$PROBE_FEED_TOKEN"
check_secret "the content of /etc/passwd" "$(head -1 /etc/passwd)"
check_secret "the content of /proc/self/environ" "$ENV_FIRST"
echo "probe: server logs $(cat "${LOGS[@]}" | wc -l) lines, checked for $(( $(wc -w <<< "$PROBE_TOKENS") + 5 )) secrets: $([[ $LEAKS == 0 ]] && echo none found || echo LEAKED)"

if [[ $PROBE_RC != 0 || $LEAKS != 0 ]]; then
    echo "probe: FAILED (replay with PROBE_SEED as printed above)" >&2
    exit 1
fi
echo "probe: passed"
