#!/usr/bin/env bash
# Runs libical's iTIP restriction check (icalrestriction_check, what Evolution and other libical
# clients apply to a calendar with a METHOD) on each .ics file given, e.g. the golden feeds or an
# attachment saved from a test's SMTP sink:
#
#     scripts/check-ical-restrictions.sh crates/rota-server/tests/golden/*.ics
#
# Builds a small C helper against libical-dev (installed with apt-get when missing) into target/.
# Prints one line per file and exits 1 if any file fails to parse or fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$TARGET/ical-restrictions
if ! pkg-config --exists libical 2>/dev/null; then
    as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libical-dev pkg-config
fi
if [[ ! -x $BIN || $0 -nt $BIN ]]; then
    mkdir -p "$TARGET"
    cat >"$TARGET/ical-restrictions.c" <<'C'
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { perror(argv[i]); bad = 1; continue; }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc(n + 1);
        size_t got = fread(buf, 1, n, f);
        buf[got] = 0;
        fclose(f);
        icalcomponent *c = icalparser_parse_string(buf);
        free(buf);
        if (!c) { printf("%s: does not parse\n", argv[i]); bad = 1; continue; }
        int ok = icalrestriction_check(c);
        int errors = icalcomponent_count_errors(c);
        printf("%s: %s (%d errors)\n", argv[i], ok && !errors ? "ok" : "FAILED", errors);
        if (!ok || errors) { fputs(icalcomponent_as_ical_string(c), stdout); bad = 1; }
        icalcomponent_free(c);
    }
    return bad;
}
C
    # shellcheck disable=SC2046
    cc -O1 -o "$BIN" "$TARGET/ical-restrictions.c" $(pkg-config --cflags --libs libical)
fi
exec "$BIN" "$@"
