#!/usr/bin/env bash
# Load test of the release build with wrk, against a trivial static actix-web handler in the same
# run (scripts/loadtest.sh [SECONDS] [CONNECTIONS] [sqlite|postgres]). With `postgres`, the service
# runs as a replica on a throwaway PostgreSQL (scripts/pg.sh) instead of a SQLite file. Prints req/s and p99 for each target and the
# ratios. Both servers run on this machine, as does wrk: figures are for one box, ratios compare
# like with like. Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-64}
backend=${3:-sqlite}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin rota
cargo build --release --quiet -p rota-server --example static_baseline

tmp=$(mktemp -d)
cleanup() {
  kill "${rota_pid:-}" "${static_pid:-}" 2>/dev/null || true
  [[ $backend != postgres ]] || scripts/pg.sh stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
cp -r schedules "$tmp/schedules"
case $backend in
  sqlite) state=$tmp/rota.db ;;
  postgres) state=$(scripts/pg.sh start "$tmp/pg") ;;
  *) echo "loadtest: backend must be sqlite or postgres" >&2; exit 2 ;;
esac
# Logging each request to stderr costs throughput; the load test measures the service at warn level
# (the figures in BENCHMARKS.md say so).
ROTA_LOG=${ROTA_LOG:-warn} target/release/rota serve --bind 127.0.0.1:0 --schedules "$tmp/schedules" --state "$state" >"$tmp/rota.out" 2>"$tmp/rota.err" &
rota_pid=$!
target/release/examples/static_baseline 127.0.0.1:0 >"$tmp/static.out" &
static_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/rota.out" ] && [ -s "$tmp/static.out" ] && break
  sleep 0.1
done
rota=$(sed -n 's/^rota: listening on //p' "$tmp/rota.out")
static=$(sed -n 's/^static: listening on //p' "$tmp/static.out")
feed=$(target/release/rota --schedules "$tmp/schedules" feed url alice --base-url "$rota" --state "$state")

run() { # name url
  local out rps p99
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$2")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
  printf '%-28s %12s req/s   p99 %8s   %s\n' "$1" "$rps" "$p99" "$errors" >&2
  echo "$rps"
}
echo "wrk -t2 -c$conns -d${secs}s, $(nproc) cores, state in $backend, $(date -u +%FT%TZ)" >&2
s1=$(run "static actix handler" "$static/static")
w=$(run "GET /api/v1/whoishero" "$rota/api/v1/whoishero")
f=$(run "GET person feed (.ics)" "$feed")
s2=$(run "static actix handler (again)" "$static/static")
# Not a target: the static handler with a body as large as the feed's, so the report can tell the
# cost of sending 4.7 KB from rota's own work.
k=$(run "static handler, 4.7 KB body" "$static/static-4k")
awk -v s1="$s1" -v s2="$s2" -v w="$w" -v f="$f" -v k="$k" 'BEGIN {
  s = (s1 + s2) / 2
  printf "whoishero / static = %.2f (target >= 0.5)\nperson feed / static = %.2f (target >= 0.5)\n", w / s, f / s
  printf "person feed / static with a 4.7 KB body = %.2f (for reference)\n", f / k
}' >&2
