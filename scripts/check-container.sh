#!/usr/bin/env bash
# Builds the Dockerfile and runs the image it makes: the service answers on the published port,
# as uid 10001, with its state in the /var/lib/rota volume and its health check passing.
#
# Where a Docker engine runs, with `docker build` and `docker run` and the Dockerfile's default base
# images. Where none runs and Docker Hub cannot be reached (the machine this project is tested on),
# with buildah (Debian's package, installed if missing): chroot isolation and vfs storage, which need
# no daemon and no privileges beyond root, and base images made here from Debian's packages with
# debootstrap: a Debian bookworm minbase for the runtime, and the same plus gcc and this machine's
# Rust toolchain for the build stage. Prints which of the two ran.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
say() { echo "check-container: $*"; }
die() {
    echo "check-container: $*" >&2
    exit 1
}
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } \
        >"$TARGET/check-container-apt.log" 2>&1 || die "apt-get install $* failed: $(tail -5 "$TARGET/check-container-apt.log")"
}
began=$SECONDS
mkdir -p "$TARGET"
REV=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)

wait_healthy() { # URL
    for _ in $(seq 150); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true) == 200 ]] && return 0
        sleep 0.2
    done
    return 1
}

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    say "docker engine found: docker build, docker run"
    docker build --build-arg "ROTA_GIT_REV=$REV" -t rota-check:latest . >"$TARGET/check-container-build.log" 2>&1 ||
        die "docker build failed: $(tail -20 "$TARGET/check-container-build.log")"
    cid=$(docker run -d -p "127.0.0.1:$PORT:8080" -v rota-check-state:/var/lib/rota rota-check:latest)
    trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; docker volume rm rota-check-state >/dev/null 2>&1 || true' EXIT
    wait_healthy "http://127.0.0.1:$PORT/healthz" || die "the container does not answer: $(docker logs "$cid" 2>&1 | tail -20)"
    [[ $(docker exec "$cid" id -u) == 10001 ]] || die "the container runs as $(docker exec "$cid" id -u), not 10001"
    docker exec "$cid" test -f /var/lib/rota/rota.db || die "no state file in the /var/lib/rota volume"
    for _ in $(seq 60); do
        [[ $(docker inspect -f '{{.State.Health.Status}}' "$cid") == healthy ]] && break
        sleep 1
    done
    [[ $(docker inspect -f '{{.State.Health.Status}}' "$cid") == healthy ]] || die "the health check did not pass"
    say "docker: built, served /healthz on 0.0.0.0:8080 as uid 10001, healthy ($((SECONDS - began)) s)"
    exit 0
fi

# --- buildah, with base images made here ---------------------------------------------------------
command -v buildah >/dev/null || { say "installing buildah (Debian)"; apt_install buildah; }
command -v debootstrap >/dev/null || { say "installing debootstrap (Debian)"; apt_install debootstrap; }
BUILDAH=(buildah --storage-driver vfs)
TOOLCHAIN=$(rustc --print sysroot)
[[ -x $TOOLCHAIN/bin/cargo ]] || die "no cargo beside rustc in $TOOLCHAIN"
RUSTC_VERSION=$(rustc --version | awk '{print $2}')
BASES=$TARGET/container-bases
mkdir -p "$BASES"

if ! "${BUILDAH[@]}" inspect localhost/rota-base:bookworm >/dev/null 2>&1; then
    say "making the runtime base: debootstrap bookworm (minbase)"
    rm -rf "$BASES/base"
    debootstrap --variant=minbase bookworm "$BASES/base" http://deb.debian.org/debian >"$BASES/base.log" 2>&1 ||
        die "debootstrap failed: $(tail -5 "$BASES/base.log")"
    rm -rf "$BASES/base/var/cache/apt/archives"/*.deb
    tar -C "$BASES/base" -c . | "${BUILDAH[@]}" import - localhost/rota-base:bookworm >/dev/null 2>&1 ||
        tar -C "$BASES/base" -c . | podman --storage-driver vfs import - localhost/rota-base:bookworm >/dev/null
fi
CA_SUM=$(sha256sum /etc/ssl/certs/ca-certificates.crt | cut -c1-12)
if ! "${BUILDAH[@]}" inspect "localhost/rota-rust:$RUSTC_VERSION-$CA_SUM" >/dev/null 2>&1; then
    say "making the build base: minbase + gcc + this machine's Rust $RUSTC_VERSION"
    rm -rf "$BASES/rust"
    debootstrap --variant=minbase --include=gcc,libc6-dev,ca-certificates bookworm "$BASES/rust" \
        http://deb.debian.org/debian >"$BASES/rust.log" 2>&1 || die "debootstrap failed: $(tail -5 "$BASES/rust.log")"
    rm -rf "$BASES/rust/var/cache/apt/archives"/*.deb
    mkdir -p "$BASES/rust/usr/local/rust"
    cp -a "$TOOLCHAIN/." "$BASES/rust/usr/local/rust/"
    for b in cargo rustc rustdoc; do ln -sf "/usr/local/rust/bin/$b" "$BASES/rust/usr/local/bin/$b"; done
    # This machine's trusted certificates (a network may reach crates.io through its own CA).
    cp /etc/ssl/certs/ca-certificates.crt "$BASES/rust/etc/ssl/certs/ca-certificates.crt"
    c=$("${BUILDAH[@]}" from scratch)
    "${BUILDAH[@]}" copy "$c" "$BASES/rust/" / >/dev/null
    "${BUILDAH[@]}" config --env PATH=/usr/local/bin:/usr/bin:/bin "$c"
    "${BUILDAH[@]}" commit "$c" "localhost/rota-rust:$RUSTC_VERSION-$CA_SUM" >/dev/null
    "${BUILDAH[@]}" rm "$c" >/dev/null
fi

if [[ ${1:-} == --reuse ]] && "${BUILDAH[@]}" inspect localhost/rota-check:latest >/dev/null 2>&1; then
    say "--reuse: running the image built before"
else
say "buildah bud (chroot isolation, vfs storage) with local base images"
"${BUILDAH[@]}" bud --isolation chroot --format docker --layers=false \
    --build-arg "RUST_IMAGE=localhost/rota-rust:$RUSTC_VERSION-$CA_SUM" \
    --build-arg BASE_IMAGE=localhost/rota-base:bookworm \
    --build-arg "ROTA_GIT_REV=$REV" -t localhost/rota-check:latest . >"$TARGET/check-container-build.log" 2>&1 ||
    die "buildah bud failed: $(tail -30 "$TARGET/check-container-build.log")"
say "built in $((SECONDS - began)) s"
fi

# What the image says about itself.
cfg=$("${BUILDAH[@]}" inspect --type image localhost/rota-check:latest |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["Docker"]["config"]))')
python3 - "$cfg" <<'PY' || die "the image's configuration is not as documented"
import json, sys
c = json.loads(sys.argv[1])
problems = []
if c.get("User") != "10001:10001": problems.append(f"User is {c.get('User')!r}")
env = dict(e.split("=", 1) for e in c.get("Env") or [])
if env.get("ROTA_BIND") != "0.0.0.0:8080": problems.append(f"ROTA_BIND is {env.get('ROTA_BIND')!r}")
if set(c.get("Volumes") or {}) != {"/var/lib/rota", "/etc/rota/schedules"}: problems.append(f"Volumes are {c.get('Volumes')}")
hc = (c.get("Healthcheck") or {}).get("Test") or []
if "/healthz" not in " ".join(hc): problems.append(f"Healthcheck is {hc}")
if c.get("Entrypoint") != ["/usr/local/bin/rota"] or c.get("Cmd") != ["serve"]: problems.append("entrypoint")
for p in problems: print("check-container:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# Run it: buildah run uses the image's user, environment and working directory; chroot isolation
# shares this machine's network, so the port is moved with ROTA_BIND (still 0.0.0.0).
c=$("${BUILDAH[@]}" from localhost/rota-check:latest)
trap '"${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true' EXIT
"${BUILDAH[@]}" run --isolation chroot --env "ROTA_BIND=0.0.0.0:$PORT" "$c" -- /usr/local/bin/rota serve \
    >"$TARGET/check-container-run.log" 2>&1 &
run_pid=$!
trap 'kill "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true' EXIT
wait_healthy "http://127.0.0.1:$PORT/healthz" || die "the image's rota does not answer: $(tail -20 "$TARGET/check-container-run.log")"
curl -sf "http://127.0.0.1:$PORT/api/v1/whoishero" >/dev/null || die "whoishero failed"
grep -q '"rota serving"' "$TARGET/check-container-run.log" || die "the log is not JSON lines"
uid=$("${BUILDAH[@]}" run --isolation chroot "$c" -- id -u)
[[ $uid == 10001 ]] || die "the image runs as uid $uid, not 10001"
# The image's own health check command, as the engine runs it (CMD-SHELL: sh -c), inside the image
# with the same ROTA_BIND.
health=$(python3 -c 'import json, sys; t = json.loads(sys.argv[1])["Healthcheck"]["Test"]; assert t[0] == "CMD-SHELL"; print(t[1])' "$cfg")
"${BUILDAH[@]}" run --isolation chroot --env "ROTA_BIND=0.0.0.0:$PORT" "$c" -- sh -c "$health" ||
    die "the image's health check fails: $health"
"${BUILDAH[@]}" run --isolation chroot "$c" -- test -f /var/lib/rota/rota.db || die "no state file in /var/lib/rota"
version=$("${BUILDAH[@]}" run --isolation chroot "$c" -- /usr/local/bin/rota --version)
say "buildah: built ($version), served on 0.0.0.0 as uid 10001 with its state in /var/lib/rota; the health check's command passes ($((SECONDS - began)) s)"
