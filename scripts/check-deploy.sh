#!/usr/bin/env bash
# Runs the example deployment (deploy/) as far as it can run here: checks the systemd unit with
# `systemd-analyze verify`, then starts two replicas on a throwaway PostgreSQL with the example
# environment file, puts haproxy with deploy/haproxy.cfg in front of them (its ports moved to free
# ones), and checks that requests through the load balancer are answered, that a write through
# it reaches both replicas, and that killing a replica (-9) loses no request. Installs haproxy
# and systemd (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
die() {
    echo "check-deploy: $*" >&2
    for f in "${TMP:-/nonexistent}"/*.log; do [[ -f $f ]] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    exit 1
}
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
need() { # COMMAND PACKAGE
    command -v "$1" >/dev/null && return 0
    echo "check-deploy: installing $2 (Debian)"
    # A package's own service may fail to start in a container; what counts is the command.
    { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"; } \
        >"${TMPDIR:-/tmp}/check-deploy-install.log" 2>&1 || true
    command -v "$1" >/dev/null ||
        die "could not install $2 (apt-get install $2): $(tail -5 "${TMPDIR:-/tmp}/check-deploy-install.log")"
}
need haproxy haproxy
need systemd-analyze systemd

cargo build --quiet --bin rota
ROTA=$PWD/target/debug/rota
TMP=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    scripts/pg.sh stop "$TMP/pg"
    rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The unit, as installed, but pointing at this build and this environment file.
mkdir -p "$TMP/units" "$TMP/etc"
sed -e "s#/usr/local/bin/rota#$ROTA#" -e "s#/etc/rota/rota.env#$TMP/etc/rota.env#" \
    -e "s#/etc/rota/schedules#$PWD/schedules#" deploy/systemd/rota@.service >"$TMP/units/rota@8081.service"
out=$(systemd-analyze verify "$TMP/units/rota@8081.service" 2>&1 | grep -v -e "^$" -e "Failed to .* bus" -e "No such file or directory" -e "/proc/" || true)
[[ -z $out ]] || die "systemd-analyze verify deploy/systemd/rota@.service: $out"
echo "check-deploy: the unit verifies"

# The single-machine unit (DynamicUser, StateDirectory, sandboxed): verified, its exposure scored by
# systemd's own analysis, then its ExecStart run as written, with the example config file.
sed -e "s#/usr/local/bin/rota#$ROTA#" -e "s#/etc/rota/rota.env#$TMP/etc/rota.env#" \
    -e "s#/etc/rota/rota.toml#$TMP/etc/rota.toml#" -e "s#/etc/rota/schedules#$PWD/schedules#" \
    -e "s#/var/lib/rota#$TMP/state#" deploy/systemd/rota.service >"$TMP/units/rota.service"
out=$(systemd-analyze verify "$TMP/units/rota.service" 2>&1 | grep -v -e "^$" -e "Failed to .* bus" -e "No such file or directory" -e "/proc/" || true)
[[ -z $out ]] || die "systemd-analyze verify deploy/systemd/rota.service: $out"
for want in DynamicUser=yes StateDirectory=rota ProtectSystem=strict 'ExecReload=/bin/kill -HUP $MAINPID'; do
    grep -qxF "$want" deploy/systemd/rota.service || die "deploy/systemd/rota.service lacks $want"
done
exposure=$(systemd-analyze security --offline=true "$TMP/units/rota.service" 2>/dev/null | grep -o 'Overall exposure level for rota.service: .*' || true)
echo "check-deploy: deploy/systemd/rota.service verifies; ${exposure:-systemd-analyze security gave no score}"
mkdir -p "$TMP/state"
sed -e "s#/etc/rota/schedules#$PWD/schedules#" -e "s#/var/lib/rota#$TMP/state#" \
    deploy/rota.toml.example >"$TMP/etc/rota.toml"
exec_start=$(sed -n 's/^ExecStart=//p' "$TMP/units/rota.service")
# As systemd runs it, but on a free port (the environment wins over the file, as it would in
# rota.env) and without systemd's sandbox, which needs a running systemd.
port=$(free_port)
# shellcheck disable=SC2086
ROTA_BIND=127.0.0.1:$port $exec_start >"$TMP/single.out" 2>"$TMP/single.log" &
single=$!
trap 'kill -9 "$single" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true) == 200 ]] && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/api/v1/whoishero" >/dev/null || die "the single-machine unit's rota does not answer"
grep -q '"level":"INFO"' "$TMP/single.log" || die "the example config's log_format = json did not take"
kill -HUP "$single"
sleep 0.5
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || die "rota stopped answering after ExecReload's SIGHUP"
grep -q 'schedule files reloaded' "$TMP/single.log" || die "ExecReload's SIGHUP did not reload the schedules"
[[ -f $TMP/state/rota.db ]] || die "the state file is not in the StateDirectory"
kill -TERM "$single"
wait "$single" || die "rota did not stop cleanly on SIGTERM"
trap cleanup EXIT
echo "check-deploy: the single-machine unit's command served, reloaded on SIGHUP and stopped on SIGTERM"

URL=$(scripts/pg.sh start "$TMP/pg")
sed -e "s#^ROTA_DATABASE_URL=.*#ROTA_DATABASE_URL=$URL#" -e "s#^ROTA_BASE_URL=.*#ROTA_BASE_URL=http://127.0.0.1#" \
    deploy/rota.env.example >"$TMP/etc/rota.env"
ports=()
for i in 1 2; do
    port=$(free_port)
    ports+=("$port")
    # As the unit runs it: the environment file, then `rota serve`.
    (set -a; . "$TMP/etc/rota.env"; set +a
     exec "$ROTA" serve --bind "127.0.0.1:$port" --schedules schedules) >"$TMP/r$i.out" 2>"$TMP/r$i.log" &
    pids+=("$!")
done
lb=$(free_port)
sed -e "s#bind 127.0.0.1:8080#bind 127.0.0.1:$lb#" -e "s#127.0.0.1:8081#127.0.0.1:${ports[0]}#" \
    -e "s#127.0.0.1:8082#127.0.0.1:${ports[1]}#" -e "s#log stdout format raw local0 info##" \
    -e "s#^    log global##" deploy/haproxy.cfg >"$TMP/haproxy.cfg"
haproxy -c -q -f "$TMP/haproxy.cfg" || die "haproxy -c rejects deploy/haproxy.cfg"
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
pids+=("$!")
get() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }
for _ in $(seq 100); do
    [[ $(get "http://127.0.0.1:${ports[0]}/healthz") == 200 && $(get "http://127.0.0.1:${ports[1]}/healthz") == 200 &&
        $(get "http://127.0.0.1:$lb/healthz") == 200 ]] && break
    sleep 0.1
done
for _ in $(seq 20); do
    [[ $(get "http://127.0.0.1:$lb/api/v1/whoishero") == 200 ]] || die "whoishero through the load balancer failed"
done
echo "check-deploy: 20 requests through haproxy answered"

token=$("$ROTA" --schedules schedules --database-url "$URL" token issue alice 2>/dev/null)
code=$(curl -s -o "$TMP/ovr.json" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"rotation":"platform-secondary","person":"erin","start":"2030-03-04T09:00:00Z","end":"2030-03-11T09:00:00Z"}' \
    "http://127.0.0.1:$lb/api/v1/overrides")
[[ $code == 201 ]] || die "an override through the load balancer: HTTP $code $(cat "$TMP/ovr.json")"
for port in "${ports[@]}"; do
    ok=
    for _ in $(seq 40); do
        if curl -s "http://127.0.0.1:$port/api/v1/oncall?at=2030-03-05T12:00:00Z" | grep -q '"platform-secondary","person":{"id":"erin"'; then ok=1; break; fi
        sleep 0.05
    done
    [[ -n $ok ]] || die "the override made through the load balancer is not served by the replica on $port"
done
echo "check-deploy: a write through haproxy is served by both replicas"

kill -9 "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
failed=0
for _ in $(seq 50); do
    [[ $(get "http://127.0.0.1:$lb/api/v1/whoishero") == 200 ]] || failed=$((failed + 1))
    sleep 0.05
done
[[ $failed == 0 ]] || die "$failed of 50 requests failed after a replica was killed"
echo "check-deploy: a replica killed with -9, 50 requests through haproxy answered, none lost"
echo "check-deploy: passed"
