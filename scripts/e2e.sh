#!/usr/bin/env bash
# End-to-end test in a real browser (README: "Run the tests"): headless Chromium signs in as the
# person of the next tradeable Support Hero week, proposes a trade with the person of a later one,
# signs in as that colleague, accepts it, and checks that the schedule page now shows each in the
# other's week (tests/e2e/swap.mjs), then checks the pages' accessibility with axe-core at a phone's and a
# laptop's width (tests/e2e/a11y.mjs). Who trades is read from the schedule on the day it runs. Saves a screenshot of the
# schedule page to target/e2e-schedule.png; `E2E_SCREENSHOT=docs/schedule.png scripts/e2e.sh`
# refreshes the README's picture (not done by default: it changes with the date).
#
# Installs what it needs on a fresh machine, skipping what is already there: Debian's chromium
# (apt-get) and playwright-core (npm, into target/e2e-node; it drives /usr/bin/chromium, no browser
# download). Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
NODE_DIR=$TARGET/e2e-node
PLAYWRIGHT=playwright-core@1.65.1
AXE=axe-core@4.14.1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SHOT=${E2E_SCREENSHOT:-$TARGET/e2e-schedule.png}
case $SHOT in /*) ;; *) SHOT=$ROOT/$SHOT ;; esac

die() { echo "e2e.sh: $*" >&2; exit 1; }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

if [[ ! -x $CHROMIUM ]]; then
    echo "e2e.sh: installing chromium (Debian)"
    apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
    apt_install >/dev/null || { as_root apt-get update -qq && apt_install >/dev/null; } ||
        die "could not install chromium with apt-get"
    [[ -x $CHROMIUM ]] || die "chromium installed but $CHROMIUM is missing"
fi
command -v node >/dev/null || die "node is missing (Debian: apt-get install nodejs npm)"
installed() { node -p "try { require('$NODE_DIR/node_modules/$1/package.json').version } catch { '' }"; }
if [[ $(installed playwright-core) != "${PLAYWRIGHT#*@}" || $(installed axe-core) != "${AXE#*@}" ]]; then
    command -v npm >/dev/null || die "npm is missing (Debian: apt-get install nodejs npm)"
    echo "e2e.sh: installing $PLAYWRIGHT and $AXE into ${NODE_DIR#"$ROOT"/}"
    mkdir -p "$NODE_DIR"
    [[ -f $NODE_DIR/package.json ]] || echo '{"private": true}' >"$NODE_DIR/package.json"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$NODE_DIR" --silent --no-audit --no-fund \
        --save-exact "$PLAYWRIGHT" "$AXE" || die "npm install $PLAYWRIGHT $AXE failed"
fi

cargo build --quiet --bin rota || die "cargo build failed"
ROTA=$TARGET/debug/rota

TMP=$(mktemp -d)
SERVER=
cleanup() {
    if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
cp -r schedules "$TMP/schedules"
DB=$TMP/rota.db
token() { "$ROTA" --schedules "$TMP/schedules" token issue "$1" --state "$DB" 2>/dev/null || die "token issue $1 failed"; }
# A token for everyone: the test picks whose shifts to trade from what the schedule shows on the
# day it runs, so it passes on any date.
TOKENS=$TMP/tokens.json
{
    echo '{'
    sep=
    for id in $(sed -n 's/^\[people\.\([^]]*\)\]$/\1/p' "$TMP"/schedules/*.toml); do
        printf '%s"%s": "%s"\n' "$sep" "$id" "$(token "$id")"
        sep=,
    done
    echo '}'
} >"$TOKENS"

# The server prints "rota: listening on http://..." once it is up.
mkfifo "$TMP/out"
env -u ROTA_SCHEDULES "$ROTA" serve --bind 127.0.0.1:0 --schedules "$TMP/schedules" --state "$DB" \
    >"$TMP/out" 2>"$TMP/server.log" &
SERVER=$!
exec 3<"$TMP/out"
read -r -t 30 line <&3 || die "rota serve did not start: $(cat "$TMP/server.log")"
BASE=${line#rota: listening on }
[[ $BASE == http://* ]] || die "rota serve did not start: $line $(cat "$TMP/server.log")"
# Keep draining the server's stdout so it never blocks on a full pipe.
cat <&3 >/dev/null &
exec 3<&-

mkdir -p "$(dirname "$SHOT")"
# Copied so node resolves playwright-core and axe-core from target/e2e-node.
cp tests/e2e/swap.mjs tests/e2e/a11y.mjs "$NODE_DIR/"
CHROMIUM=$CHROMIUM node "$NODE_DIR/swap.mjs" "$BASE" "$TOKENS" "$SHOT" ||
    die "the browser test failed (server log: $(tail -5 "$TMP/server.log"))"
echo "e2e.sh: passed"
