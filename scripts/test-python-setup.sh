#!/usr/bin/env bash
# Installs the Python the Rust tests run on a fresh machine: a venv under target/test-venv with
# aiosmtpd (PyPI), which runs scripts/smtp_sink.py, a real SMTP server on 127.0.0.1 (tests/notify.rs),
# and prometheus_client, the Prometheus project's own parser of the text format, which reads
# /metrics (tests/server.rs), and standardwebhooks, the Standard Webhooks reference library, which
# verifies the signatures of rota's webhooks (tests/webhooks.rs). Skips the install when the pinned
# versions are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
VENV=$TARGET/test-venv
PY_DEPS=(aiosmtpd==1.4.6 prometheus_client==0.26.0 standardwebhooks==1.3.0)

if "$VENV/bin/python" -c '
import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (a.split("==") for a in sys.argv[1:])))
' "${PY_DEPS[@]}" 2>/dev/null; then
    exit 0
fi
echo "test-python-setup: installing ${PY_DEPS[*]} into ${VENV#"$ROOT"/}"
if ! python3 -m venv --clear "$VENV" >/dev/null 2>&1; then
    # Debian's own python3 makes venvs only with python3-venv.
    as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
    python3 -m venv --clear "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_DEPS[@]}"
