#!/usr/bin/env python3
r"""Checks one rota ICS feed against the shifts the JSON API resolves, with two independent readers.

Run by scripts/check-feeds.sh (which installs the dependencies, starts `rota serve` and downloads
the files); usable by hand too:

    check_feeds.py --name rotations/support-hero.ics --ics feed.ics --shifts shifts.json \
        --rotations rotations.json --from 2026-10-24T00:00:00Z --to 2027-11-23T00:00:00Z \
        --khal-workdir /tmp/x

The expected events are the API's shifts, one per shift: start and end as UTC instants, and the
title "{rotation name}: {person name}" (rotation names from GET /api/v1/rotations).

1. Python `icalendar` parses the feed and `recurring_ical_events` lists its events between FROM and
   TO. They must equal the expected events one for one (sorted by start); besides, every VEVENT has
   a unique UID, TRANSP:TRANSPARENT, a DTSTAMP equal to 00:00 UTC of the window's day (FROM + 30
   days), UTC DTSTART/DTEND and no RRULE/RDATE, and the feed has no VEVENT outside the window.
2. khal (a real calendar client) imports the feed into an empty calendar. `khal list --once` (one
   line per UID) must equal the expected events one for one, and the distinct lines of the per-day
   `khal list` (where every occurrence of a recurring event would show) must equal them too.

Prints one summary line; exits 1 naming the feed and the first differing event, 0 if all equal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import recurring_ical_events

UTC = timezone.utc
# Seconds are part of the comparison: khal is told to print them (see KHAL_CONFIG).
KHAL_DT = "%Y-%m-%d %H:%M:%S"


class Mismatch(Exception):
    pass


def parse_utc(text: str) -> datetime:
    """An RFC 3339 instant from the API ("2026-12-07T09:00:00Z"), as an aware UTC datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"instant without offset: {text!r}")
    return t.astimezone(UTC)


def fmt(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def show(ev: tuple[datetime, datetime, str]) -> str:
    return f"{fmt(ev[0])} .. {fmt(ev[1])} {ev[2]!r}"


def expected_events(
    shifts_path: Path, rotations_path: Path
) -> list[tuple[datetime, datetime, str]]:
    rotations = json.loads(rotations_path.read_text(encoding="utf-8"))
    names = {r["id"]: r["name"] for r in rotations}
    shifts = json.loads(shifts_path.read_text(encoding="utf-8"))
    if not isinstance(shifts, list):
        raise Mismatch(f"the API did not return a list of shifts: {str(shifts)[:200]}")
    out = []
    for s in shifts:
        if s["rotation"] not in names:
            raise Mismatch(
                f"shift of unknown rotation {s['rotation']!r} (not in /api/v1/rotations)"
            )
        title = f"{names[s['rotation']]}: {s['person']['name']}"
        out.append((parse_utc(s["start"]), parse_utc(s["end"]), title))
    return sorted(out)


def compare(reader: str, expected: list, got: list) -> None:
    """One for one, in order; raises naming the first differing event."""
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            raise Mismatch(
                f"{reader}: event #{i + 1} (sorted by start) differs:\n"
                f"    API shift: {show(e)}\n"
                f"    {reader}: {show(g)}"
            )
    if len(expected) != len(got):
        n = min(len(expected), len(got))
        if len(expected) > n:
            raise Mismatch(
                f"{reader}: sees {len(got)} events, the API {len(expected)}; "
                f"first missing: {show(expected[n])}"
            )
        raise Mismatch(
            f"{reader}: sees {len(got)} events, the API {len(expected)}; "
            f"first extra: {show(got[n])}"
        )


def utc_instant(comp, prop: str) -> datetime:
    """A DTSTART/DTEND that must be a UTC date-time (not a date, not floating, not another zone)."""
    uid = str(comp.get("UID", ""))
    if prop not in comp:
        raise Mismatch(f"event {uid!r} has no {prop}")
    v = comp.decoded(prop)
    raw = comp[prop].to_ical().decode()
    if not isinstance(v, datetime):
        raise Mismatch(f"event {uid!r}: {prop} is a date ({raw!r}), not a UTC date-time")
    if v.tzinfo is None or v.utcoffset() != timedelta(0) or "TZID" in comp[prop].params:
        raise Mismatch(
            f"event {uid!r}: {prop} is {raw!r} {dict(comp[prop].params)}, not a UTC instant"
        )
    return v.astimezone(UTC)


def check_icalendar(
    ics: bytes, expected: list, start: datetime, end: datetime, stamp: datetime
) -> int:
    reader = "icalendar+recurring_ical_events"
    cal = icalendar.Calendar.from_ical(ics)
    # The feed's own VEVENTs, as written.
    raw = list(cal.walk("VEVENT"))
    uids: dict[str, datetime] = {}
    for ev in raw:
        uid = str(ev.get("UID", ""))
        s = utc_instant(ev, "DTSTART")
        utc_instant(ev, "DTEND")
        where = f"event {uid!r} at {fmt(s)}"
        if not uid:
            raise Mismatch(f"event at {fmt(s)} has no UID")
        if uid in uids:
            raise Mismatch(f"UID {uid!r} is used twice (events at {fmt(uids[uid])} and {fmt(s)})")
        uids[uid] = s
        for prop in ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "DURATION"):
            if prop in ev:
                raise Mismatch(f"{where} has {prop}: feeds carry concrete events with DTEND only")
        transp = str(ev.get("TRANSP", ""))
        if transp != "TRANSPARENT":
            raise Mismatch(f"{where} has TRANSP {transp!r}, not TRANSPARENT")
        if "DTSTAMP" not in ev:
            raise Mismatch(f"{where} has no DTSTAMP")
        ds = ev.decoded("DTSTAMP")
        if not isinstance(ds, datetime) or ds.tzinfo is None or ds.astimezone(UTC) != stamp:
            raise Mismatch(
                f"{where} has DTSTAMP {ev['DTSTAMP'].to_ical().decode()!r}, "
                f"expected {fmt(stamp)} (00:00 UTC of the feed's day)"
            )
    # The events a client sees in the window.
    events = recurring_ical_events.of(cal).between(start, end)
    got = sorted(
        (
            ev.decoded("DTSTART").astimezone(UTC),
            ev.decoded("DTEND").astimezone(UTC),
            str(ev.get("SUMMARY", "")),
        )
        for ev in events
    )
    compare(reader, expected, got)
    # Every VEVENT of the feed lies in the window: none is hidden from `between`.
    if len(raw) != len(events):
        raise Mismatch(
            f"{reader}: the feed has {len(raw)} VEVENTs but {len(events)} of them lie in "
            f"{fmt(start)} .. {fmt(end)}"
        )
    return len(got)


KHAL_CONFIG = """\
[calendars]
[[feed]]
path = {vdir}
type = calendar

[locale]
timeformat = %H:%M:%S
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M:%S
longdatetimeformat = %Y-%m-%d %H:%M:%S
local_timezone = UTC
default_timezone = UTC

[default]
default_calendar = feed

[sqlite]
path = {db}
"""

KHAL_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (.*)$")


def khal(conf: Path, *args: str) -> str:
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", TZ="UTC", PYTHONIOENCODING="utf-8")
    # The Debian package's khal runs on the system Python, not on this venv's.
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env.pop("VIRTUAL_ENV", None)
    p = subprocess.run(
        ["khal", "-c", str(conf), *args],
        check=False,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    if p.returncode != 0:
        raise Mismatch(
            f"khal {' '.join(args)} failed (exit {p.returncode}):\n"
            f"{p.stderr.strip()}\n{p.stdout.strip()}"
        )
    return p.stdout


def khal_list(
    conf: Path, first: str, last: str, *opts: str
) -> list[tuple[datetime, datetime, str]]:
    out = khal(
        conf, "list", *opts, "--format", "{start} {end} {title}", "--day-format", "", first, last
    )
    got = []
    for line in out.splitlines():
        if not line.strip():
            continue  # the (empty) day headings
        m = KHAL_LINE.match(line)
        if not m:
            raise Mismatch(
                f"khal list printed a line that is not '{{start}} {{end}} {{title}}': {line!r}"
            )
        s = datetime.strptime(m[1], KHAL_DT).replace(tzinfo=UTC)
        e = datetime.strptime(m[2], KHAL_DT).replace(tzinfo=UTC)
        got.append((s, e, m[3]))
    return sorted(got)


def check_khal(
    ics_path: Path, expected: list, start: datetime, end: datetime, workdir: Path
) -> int:
    vdir = workdir / "calendar"
    vdir.mkdir(parents=True)
    conf = workdir / "khal.conf"
    conf.write_text(KHAL_CONFIG.format(vdir=vdir, db=workdir / "khal.db"), encoding="utf-8")
    khal(conf, "import", "--batch", "-a", "feed", str(ics_path))
    # A day either side: khal lists the events that overlap the range, and the feed holds only the
    # window's events, so khal must list exactly the API's shifts.
    first = (start - timedelta(days=1)).date().isoformat()
    last = (end + timedelta(days=1)).date().isoformat()
    # `--once` prints each UID once (a multi-day event is otherwise printed under every day it
    # covers): one line per imported event, to compare one for one.
    once = khal_list(conf, first, last, "--once")
    compare("khal", expected, once)
    # But `--once` would also fold the occurrences of a recurring event into one line. Listed per
    # day, every occurrence shows up (repeated under each of its days, and printed with its own
    # absolute start and end): the distinct lines must be the same events again.
    per_day = sorted(set(khal_list(conf, first, last)))
    compare("khal (list per day, distinct lines)", sorted(set(expected)), per_day)
    imported = len(list(vdir.glob("*.ics")))
    if imported != len(expected):
        raise Mismatch(f"khal: imported {imported} event files, the API has {len(expected)} shifts")
    return len(once)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--name", required=True, help="the feed, for messages")
    ap.add_argument("--ics", required=True, type=Path)
    ap.add_argument("--shifts", required=True, type=Path, help="the API's shifts (JSON)")
    ap.add_argument("--rotations", required=True, type=Path, help="GET /api/v1/rotations (JSON)")
    ap.add_argument("--from", dest="start", required=True, help="window start, RFC 3339 UTC")
    ap.add_argument("--to", dest="end", required=True, help="window end, RFC 3339 UTC")
    ap.add_argument(
        "--khal-workdir", type=Path, help="an empty directory for khal (omit to skip khal)"
    )
    ap.add_argument("--tally", type=Path, help="append the number of events to this file")
    a = ap.parse_args()

    start, end = parse_utc(a.start), parse_utc(a.end)
    stamp = start + timedelta(days=30)
    try:
        expected = expected_events(a.shifts, a.rotations)
    except Exception as e:
        print(
            f"check-feeds: FAILED on {a.name}: the API's shifts: {type(e).__name__}: {e}",
            file=sys.stderr,
        )
        return 1
    # Both readers run whatever the other found, so a report names every reader that disagrees.
    checks = [
        (
            "icalendar+recurring_ical_events",
            lambda: check_icalendar(a.ics.read_bytes(), expected, start, end, stamp),
        )
    ]
    if a.khal_workdir:
        checks.append(("khal", lambda: check_khal(a.ics, expected, start, end, a.khal_workdir)))
    failures = []
    counts = []
    for reader, run in checks:
        try:
            counts.append(run())
        except Mismatch as e:
            msg = str(e)
            failures.append(msg if msg.startswith(reader) else f"{reader}: {msg}")
        except Exception as e:  # a reader that cannot read the feed is a failure too
            failures.append(f"{reader} failed: {type(e).__name__}: {e}")
    if failures:
        for f in failures:
            print(f"check-feeds: MISMATCH in {a.name}: {f}", file=sys.stderr)
        return 1
    n = counts[0]
    readers = ", ".join(r for r, _ in checks)
    print(f"check-feeds: ok {a.name}: {n} events equal to the API's shifts ({readers})")
    if a.tally:
        with a.tally.open("a", encoding="utf-8") as f:
            f.write(f"{n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
