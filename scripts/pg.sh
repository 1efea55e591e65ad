#!/usr/bin/env bash
# A throwaway PostgreSQL server for rota's tests and benchmarks: installs Debian's `postgresql` when
# no server binaries are on the machine, makes a cluster in DIR, starts it on a free port of
# 127.0.0.1 (its socket in DIR too, nothing in /var/run), and prints its URL.
#
#   scripts/pg.sh start DIR    # prints postgres://rota@127.0.0.1:PORT/rota; DIR must not exist
#   scripts/pg.sh stop DIR     # stops it (DIR can then be removed)
#
# The cluster is for tests: fsync is off, so it is fast and not crash-safe. Runs the server as the
# `postgres` user when started as root (PostgreSQL refuses to run as root). It accepts TLS with a
# certificate for the name `localhost` (not 127.0.0.1) signed by a CA made for it, DIR/ca.crt, so
# the tests can try every sslmode; plain connections are accepted too.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl ]] && { echo "$d"; return 0; }
    done
    return 1
}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || die "usage: scripts/pg.sh start|stop DIR"
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac

case $cmd in
stop)
    BIN=$(bindir) || exit 0
    [[ -f $dir/data/postmaster.pid ]] || exit 0
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    else
        "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
start)
    if ! BIN=$(bindir); then
        echo "pg.sh: installing postgresql (Debian)" >&2
        # In a container without an init system the package's own cluster may fail to start;
        # that is not ours to care about: what counts is that the server binaries are there.
        { as_root apt-get update -qq &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } \
            >"${TMPDIR:-/tmp}/pg-install.log" 2>&1 || true
        BIN=$(bindir) || die "could not install PostgreSQL (apt-get install postgresql): $(tail -5 "${TMPDIR:-/tmp}/pg-install.log")"
    fi
    [[ ! -e $dir ]] || die "$dir already exists"
    mkdir -p "$dir"
    run=()
    if [[ $(id -u) == 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        chown postgres "$dir"
        # The server runs as postgres, which must be able to reach DIR (mktemp -d makes 0700).
        parent=$(dirname "$dir")
        while [[ $parent != / ]]; do
            if ! runuser -u postgres -- test -x "$parent"; then chmod o+x "$parent"; fi
            parent=$(dirname "$parent")
        done
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$BIN/initdb" -D "$dir/data" -U rota --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -5 "$dir/initdb.log")"
    # TLS: a CA of its own and a server certificate for localhost (ten years, so tests with the
    # clock moved ahead still find it valid).
    command -v openssl >/dev/null || {
        { as_root apt-get update -qq &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl; } \
            >/dev/null 2>&1 || die "could not install openssl: apt-get install openssl"
    }
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
            -subj "/CN=rota test CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
        printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
            -days 3650 -extfile server.ext
        chmod 0644 ca.crt server.crt
        chmod 0600 server.key ca.key
    ) >"$dir/tls.log" 2>&1 || die "could not make the test certificates: $(tail -5 "$dir/tls.log")"
    cp "$dir/server.crt" "$dir/server.key" "$dir/data/"
    [[ ${#run[@]} == 0 ]] || chown postgres "$dir/data/server.crt" "$dir/data/server.key"
    printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$dir/data/postgresql.conf"
    # A free port: ask the kernel for one, then let PostgreSQL bind it (a race with another
    # process is possible and reported below).
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${run[@]}" "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -h 127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null 2>&1 || die "PostgreSQL did not start: $(tail -5 "$dir/server.log" 2>/dev/null)"
    "${run[@]}" "$BIN/psql" -h 127.0.0.1 -p "$port" -U rota -d postgres -qAt -c 'CREATE DATABASE rota' >/dev/null ||
        die "could not create the database rota"
    echo "postgres://rota@127.0.0.1:$port/rota"
    ;;
*) die "usage: scripts/pg.sh start|stop DIR" ;;
esac
