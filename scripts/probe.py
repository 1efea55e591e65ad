#!/usr/bin/env python3
"""The probe's client (run by scripts/probe.sh, which starts the service and sets PROBE_*).

First the cases of issue 11 one by one (hostile calendars, a swap's half override, a revoked
token's session, the year-9999 end, malformed headers, a light slowloris), then random requests
to every route and method with generated ids, query strings, bodies and headers, with and without
auth, some of them valid writes (overrides, swaps and their accepts), until PROBE_REQUESTS are sent
or PROBE_SECONDS have passed.

Every response is checked: status < 500; every 4xx/5xx of /api/v1, /calendars and /healthz is
application/problem+json with status, title and detail; page routes answer errors as text/html;
nothing takes over 1 s; no response carries a secret (the SMTP password, an API token, the content
of /etc/passwd). Prints a summary and every violation with its request; exit 1 if any.

Standard library only. The seed is printed first; PROBE_SEED=N replays the same choices (the
service's answers also depend on today's date and on the slots it offers).
"""

import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

BASE = os.environ["PROBE_URL"]
HOSTPORT = BASE.split("://", 1)[1]
HOST, PORT = HOSTPORT.rsplit(":", 1)
PORT = int(PORT)
ADMIN = os.environ.get("PROBE_ADMIN", "alice")
ADMIN_TOKEN = os.environ["PROBE_ADMIN_TOKEN"]
TOKENS = dict(kv.split("=", 1) for kv in os.environ.get("PROBE_TOKENS", "").split())
FEED_TOKEN = os.environ.get("PROBE_FEED_TOKEN", "")
SMTP_PASSWORD = os.environ.get("PROBE_SMTP_PASSWORD", "")
ROTA = os.environ.get("PROBE_ROTA", "")
SCHEDULES = os.environ.get("PROBE_SCHEDULES", "")
STATE = os.environ.get("PROBE_STATE", "")
SERVER_LOG = os.environ.get("PROBE_LOG", "")
BUDGET = int(os.environ.get("PROBE_REQUESTS", "15000"))
WALL = float(os.environ.get("PROBE_SECONDS", "150"))
SLOW = float(os.environ.get("PROBE_SLOW_SECONDS", "1.0"))
PHASE = os.environ.get("PROBE_PHASE", "all")
FLAGS = os.environ.get("PROBE_FLAGS", "")
ENV_FIRST = os.environ.get("PROBE_ENV_FIRST", "")
SEED = int(os.environ.get("PROBE_SEED") or random.SystemRandom().randrange(1, 10**9))
rnd = random.Random(SEED)

try:
    PASSWD_LINE = open("/etc/passwd").readline().strip()
except OSError:
    PASSWD_LINE = "root:x:0:0:"
# Strings that must never be in a response body (the feed token is on its owner's /me by design).
SECRETS = {"the SMTP password": SMTP_PASSWORD, "the admin's API token": ADMIN_TOKEN,
           "content of /etc/passwd": PASSWD_LINE, "content of the service's /proc/self/environ": ENV_FIRST}
for _p, _t in TOKENS.items():
    SECRETS[f"{_p}'s API token"] = _t

START = time.monotonic()
LOCK = threading.RLock()  # the bursts send from several threads
sent = 0
by_class = {}
timings = []          # (seconds, method, path)
violations = []       # (kind, message, request)
notes = []            # things worth saying that are not violations
slow = []             # requests over SLOW, judged after a second try (see recheck_slow)
http_layer = {}       # route -> [count, an example request]: bare 400s of actix-http's parser


def redact(text):
    """Tokens out of what the probe prints (CI logs are read by many)."""
    for t in [ADMIN_TOKEN, FEED_TOKEN, *TOKENS.values()]:
        if t:
            text = re.sub(re.escape(t[:30]) + "[0-9a-zA-Z_]*", "<token>", text, flags=re.I)
    return text


def short(b, n=120):
    if b is None:
        return ""
    if isinstance(b, (bytes, bytearray)):
        b = b.decode("utf-8", "backslashreplace")
    b = str(b)
    return b if len(b) <= n else b[:n] + f"...({len(b)} chars)"


def violate(kind, msg, method, path, body=None, headers=None):
    req = f"{method} {short(path, 160)}"
    if headers:
        req += " " + short(json.dumps({k: short(v, 40) for k, v in headers.items()}), 200)
    if body is not None:
        req += " body=" + short(body)
    violations.append((kind, msg, req))


class Resp:
    def __init__(self, status, headers, body, secs):
        self.status, self.headers, self.body, self.secs = status, headers, body, secs

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self):
        return self.body.decode("utf-8", "replace")


def kind_of(path):
    p = path.split("?", 1)[0].split("#", 1)[0]
    if p.startswith("/api/") or p.startswith("/calendars/") or p == "/healthz":
        return "api"
    if re.fullmatch(r"/(|signin|signout|me|report|swaps/new|swaps/[^/]+|swaps/[^/]+/[^/]+)", p):
        return "page"
    return "other"


def check(method, path, r, body=None, headers=None, expect_slow_ok=False):
    """The checks every response passes."""
    with LOCK:
        check_locked(method, path, r, body, headers, expect_slow_ok)


def check_locked(method, path, r, body, headers, expect_slow_ok):
    cls = f"{r.status // 100}xx" if r.status else "no-response"
    by_class[cls] = by_class.get(cls, 0) + 1
    timings.append((r.secs, method, path))
    if r.status == 0:
        violate("no-response", "the connection closed without a response", method, path, body, headers)
        return
    if r.status >= 500:
        violate("5xx", f"{r.status}: {short(r.body, 200)}", method, path, body, headers)
    if r.secs > SLOW and not expect_slow_ok:
        slow.append((method, path, body, headers, r))
    text = r.body.decode("utf-8", "replace")
    for name, s in SECRETS.items():
        if s and s in text:
            violate("secret-in-response", f"the response contains {name}", method, path, body, headers)
    if 200 <= r.status < 300 and r.header("content-type").startswith("application/json") and method != "HEAD":
        bad = bad_instants(r.json())
        if bad:
            violate("not-rfc3339", f"{r.status}: instants that are not RFC 3339: {', '.join(sorted(set(bad))[:3])}",
                    method, path, body, headers)
    if r.status >= 400 and bare_http_layer(r):
        # actix-http's parser refused the request line or a header before the app saw it (the
        # app turns every error it makes into problem+json or an HTML page): noted, not judged.
        key = route_of(path)
        e = http_layer.setdefault(key, [0, f"{method} {short(path, 100)}"])
        e[0] += 1
        return
    if r.status >= 400:
        ct = r.header("content-type")
        k = kind_of(path)
        if k == "api":
            problem_ok(method, path, r, body, headers)
        elif k == "page":
            if method != "HEAD" and not ct.startswith("text/html"):
                violate("page-not-html", f"{r.status} from a page route is {ct or 'no content type'}: "
                        f"{short(r.body, 120)}", method, path, body, headers)
        else:
            if method != "HEAD" and not (ct.startswith("application/problem+json") or ct.startswith("text/html")):
                violate("error-without-body", f"{r.status} is {ct or 'no content type'}: {short(r.body, 80)}",
                        method, path, body, headers)
            elif ct.startswith("application/problem+json"):
                problem_ok(method, path, r, body, headers)


RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
INSTANT_KEYS = re.compile(r"(start|end|at|_at|last_success|last_attempt|loaded_at|from|to)$")


def bad_instants(v, out=None):
    """Values of instant fields (start, end, *_at, ...) in a JSON document that are not RFC 3339."""
    out = [] if out is None else out
    if isinstance(v, dict):
        for k, x in v.items():
            # A civil time without an offset (a rotation's `start`) is not an instant; a sign, a
            # year of five digits or a broken offset is a broken one.
            if isinstance(x, str) and INSTANT_KEYS.search(k) and not RFC3339.fullmatch(x) \
                    and (re.match(r"[+-]|\d{5,}-", x) or re.search(r"(Z|[+-]\d\d:?\d\d)$", x)):
                out.append(f"{k}={x}")
            else:
                bad_instants(x, out)
    elif isinstance(v, list):
        for x in v:
            bad_instants(x, out)
    return out


def bare_http_layer(r):
    return r.status == 400 and not r.body and not r.header("content-type") \
        and r.header("connection").lower() == "close"


ROUTES = [r"/api/v1/rotations/[^/]+/(shifts|slots)", r"/api/v1/people/[^/]+/(shifts|sessions)",
          r"/api/v1/overrides/[^/]+", r"/api/v1/swaps/[^/]+/[^/]*", r"/api/v1/swaps/[^/]+",
          r"/calendars/rotations/[^/]+", r"/calendars/people/[^/]+", r"/swaps/new", r"/swaps/[^/]+/[^/]*",
          r"/swaps/[^/]+", r"/api/v1/[^/]+"]


def route_of(path):
    """The route a path belongs to, ids replaced: for grouping violations."""
    p = path.split("?", 1)[0].split("#", 1)[0]
    for pat in ROUTES:
        if re.fullmatch(pat, p):
            return re.sub(r"\[\^/\]\+", "{id}", re.sub(r"\[\^/\]\*", "{verb}", pat)).replace("(", "").replace(")", "")
    return p if len(p) < 40 else p[:40] + "..."


def problem_ok(method, path, r, body, headers):
    ct = r.header("content-type")
    if not ct.startswith("application/problem+json"):
        if method == "HEAD" and not r.body:
            return
        violate("not-problem-json", f"{r.status} is {ct or 'no content type'}: {short(r.body, 120)}",
                method, path, body, headers)
        return
    if method == "HEAD":
        return
    j = r.json()
    if not isinstance(j, dict) or not all(isinstance(j.get(f), str) and j.get(f) for f in ("title", "detail")) \
            or j.get("status") != r.status:
        violate("bad-problem", f"{r.status}: problem lacks status/title/detail: {short(r.body, 160)}",
                method, path, body, headers)


def request(method, path, body=None, headers=None, token=None, cookie=None, checked=True,
            expect_slow_ok=False, timeout=15):
    """One request over a new connection (http.client); returns a Resp (status 0 if none)."""
    global sent
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if cookie:
        h["Cookie"] = cookie
    if isinstance(body, str):
        body = body.encode()
    with LOCK:
        sent += 1
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in h.items():
            conn.putheader(k, v.encode("latin-1", "replace") if isinstance(v, str) else v)
        if body is not None and not any(k.lower() == "content-length" for k in h):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read() if method != "HEAD" else b""
        r = Resp(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, time.monotonic() - t0)
    except (OSError, http.client.HTTPException) as e:
        r = Resp(0, {}, str(e).encode(), time.monotonic() - t0)
    except ValueError as e:  # http.client refused to send it (not the service's doing)
        with LOCK:
            sent -= 1
        conn.close()
        return Resp(0, {}, str(e).encode(), 0.0)
    finally:
        conn.close()
    if checked:
        check(method, path, r, body, h, expect_slow_ok)
    return r


def raw(data, path_label, timeout=10, checked=True):
    """Sends raw bytes; parses status, headers and a Content-Length body."""
    global sent
    sent += 1
    t0 = time.monotonic()
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    buf = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
    except OSError:
        pass
    finally:
        s.close()
    secs = time.monotonic() - t0
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0] if lines else "")
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    r = Resp(int(m.group(1)) if m else 0, hdrs, rest, secs)
    if checked:
        method = data.split(b" ", 1)[0].decode("latin-1")
        check(method, path_label, r, short(data, 100))
    return r


def log_has_path(path):
    """Whether the service logged a request for `path` (its access log names every request that
    reached the app, so a request missing there was answered by the HTTP layer)."""
    try:
        return f"path={path}" in open(SERVER_LOG, errors="replace").read()
    except OSError:
        return None


# --- what the schedule holds ---------------------------------------------------------------------

def get_json(path, **kw):
    r = request("GET", path, **kw)
    return r.json() if r.status == 200 else None


ROTATIONS = [r["id"] for r in (get_json("/api/v1/rotations") or [])]
PEOPLE = sorted({m for r in (get_json("/api/v1/rotations") or []) for m in r.get("members", [])})
MEMBERS = {r["id"]: r.get("members", []) for r in (get_json("/api/v1/rotations") or [])}
override_ids = [o["id"] for o in (get_json("/api/v1/overrides") or [])]
swap_ids = []
session_cookies = {}  # person -> cookie


def token_of(p):
    return ADMIN_TOKEN if p == ADMIN else TOKENS.get(p)


NORMAL = next((p for p in ("bob", "dave", "erin", "frank") if p in TOKENS), None)


def clean_slots(rotation, frm=None, to=None):
    """Future slots of `rotation` whose member is on call by the order alone (tradeable)."""
    q = ""
    if frm:
        q = "?" + urllib.parse.urlencode({"from": frm, "to": to})
    slots = get_json(f"/api/v1/rotations/{rotation}/slots{q}") or []
    now = time.time()
    out = []
    for s in slots:
        oc = s.get("on_call") or []
        if len(oc) == 1 and oc[0].get("source") == "rotation" and oc[0]["person"]["id"] == s.get("member") \
                and iso_to_epoch(s["start"]) > now + 3600:
            out.append(s)
    return out


def iso_to_epoch(s):
    import datetime
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


# --- the cases of issue 11 -----------------------------------------------------------------------

def recheck_slow():
    """A slow answer is a violation when it is slow again. The probe shares a small machine with
    compilers, and one stalled scheduler tick is not the service's doing; requests that changed
    something (2xx or 3xx to a write) are not sent twice and stay violations."""
    global slow
    todo, slow = slow, []
    for method, path, body, headers, r in todo:
        if method in ("GET", "HEAD", "OPTIONS") or r.status >= 400:
            h = {k: v for k, v in (headers or {}).items()}
            again = request(method, path, body, h, checked=False)
            if again.secs <= SLOW:
                notes.append(f"slow once, not again: {method} {short(path, 100)}: {r.secs:.2f} s (status {r.status}), "
                             f"then {again.secs:.2f} s")
                continue
            violate("slow", f"{r.secs:.2f} s, then {again.secs:.2f} s (status {r.status})", method, path, body, headers)
        else:
            violate("slow", f"{r.secs:.2f} s (status {r.status})", method, path, body, headers)


def case(name, ok, detail, method="", path=""):
    print(f"case {name}: {'ok' if ok else 'FAILED'}: {redact(detail)}")
    if not ok:
        violations.append((f"case:{name}", detail, f"{method} {path}".strip()))


def case_hostile_recurrence():
    # The absence calendars are read before the service answers; conflicts and the schedule page
    # expand recurrences per request.
    # Run last: a request the client gives up on keeps the service busy. Over 5 s is a time-out.
    for path in ("/api/v1/people/grace/shifts", "/api/v1/report", "/report", "/api/v1/conflicts", "/",
                 "/api/v1/conflicts?from=2026-11-01&to=2027-11-01"):
        r = request("GET", path, checked=False, timeout=5)
        timings.append((r.secs, "GET", path))
        ok = 0 < r.status < 500 and r.secs <= SLOW
        case("1-hostile-recurrence", ok,
             f"GET {path} with 200 x RRULE:FREQ=HOURLY;COUNT=50000 for grace: "
             + (f"{r.status} in {r.secs:.2f} s" if r.status else f"no answer in {r.secs:.1f} s (client time-out)"),
             "GET", path)
        if not ok and FLAGS:
            open(os.path.join(FLAGS, "hostile-slow"), "w").close()


def case_symlinks_fifo():
    startup = os.environ.get("PROBE_STARTUP", "ok")
    case("2-fifo-start", startup == "ok",
         "a FIFO calendar (heidi) " + ("did not hold up the start" if startup == "ok"
                                       else "held up the start for over 20 s (probed without it)"))
    r = request("GET", "/healthz")
    text = r.text()
    leaked = [name for name, s in (("/etc/passwd", PASSWD_LINE), ("/proc/self/environ", ENV_FIRST),
                                   ("the SMTP password", SMTP_PASSWORD)) if s and s in text]
    # The service inherits this environment: any of its longer entries is environ content.
    env_seen = [k for k, v in os.environ.items() if len(v) >= 8 and f"{k}={v}" in text]
    if env_seen and "/proc/self/environ" not in leaked:
        leaked.append(f"/proc/self/environ ({', '.join(env_seen[:3])})")
    case("2-symlink-healthz", not leaked,
         "GET /healthz " + (f"contains the content of {', '.join(leaked)}" if leaked
                             else "shows no content of the symlinked targets"), "GET", "/healthz")
    j = r.json() or {}
    for c in j.get("calendars", []):
        src = str(c.get("source", ""))
        if src.endswith(("carol.ics", "ivan.ics", "heidi.ics")):
            notes.append(f"/healthz: {os.path.basename(src)}: ok={c.get('ok')} error={short(c.get('last_error'), 140)}")
            if c.get("ok") and c.get("events", 0):
                case("2-symlink-read", False, f"{src} was read as a calendar ({c.get('events')} events)",
                     "GET", "/healthz")


def case_swap_half_delete():
    rot = "support-hero"
    slots = clean_slots(rot)
    if len(slots) < 2:
        slots = clean_slots(rot, time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400)),
                            time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400 * 300)))
    pair = None
    for a in slots:
        for b in slots:
            if a["slot"] < b["slot"] and a["member"] != b["member"] and token_of(a["member"]) \
                    and token_of(b["member"]) and a["member"] != ADMIN and b["member"] != ADMIN:
                pair = (a, b)
                break
        if pair:
            break
    if not pair:
        case("3-swap-half-delete", False, "no two tradeable slots of two people found; case not run")
        return
    a, b = pair
    p, q = a["member"], b["member"]
    body = json.dumps({"rotation": rot, "kind": "trade", "my_slot": a["slot"], "counterpart": q,
                       "their_slot": b["slot"]})
    r = request("POST", "/api/v1/swaps", body, {"Content-Type": "application/json"}, token=token_of(p))
    if r.status != 201:
        case("3-swap-half-delete", False, f"proposing a trade failed: {r.status} {short(r.body, 200)}",
             "POST", "/api/v1/swaps")
        return
    sid = (r.json() or {}).get("id")
    swap_ids.append(sid)
    r = request("POST", f"/api/v1/swaps/{sid}/accept", token=token_of(q))
    if r.status != 200:
        case("3-swap-half-delete", False, f"accepting the trade failed: {r.status} {short(r.body, 200)}",
             "POST", f"/api/v1/swaps/{sid}/accept")
        return
    ovs = [o for o in (get_json(f"/api/v1/overrides?rotation={rot}") or [])
           if o.get("origin") == "api" and o.get("person") in (p, q)
           and o.get("start") in (a["start"], b["start"])]
    if len(ovs) != 2:
        case("3-swap-half-delete", False, f"expected the swap's two overrides, found {len(ovs)}")
        return
    for o in ovs:
        override_ids.append(o["id"])
        # The person it puts on call (who may delete overrides that do) and the admin must get
        # 409 naming the swap; the other party may also get 403 (not theirs to delete).
        for who in (q if o["person"] == p else p, o["person"], ADMIN):
            path = f"/api/v1/overrides/{urllib.parse.quote(o['id'], safe='')}"
            r = request("DELETE", path, token=token_of(who))
            detail = (r.json() or {}).get("detail", "") if r.status >= 400 else ""
            ok = r.status == 409 and str(sid) in detail or (r.status == 403 and who != o["person"] and who != ADMIN)
            case("3-swap-half-delete", ok,
                 f"{who} deletes {o['person']}'s half {o['id']} of accepted swap {sid}: {r.status} "
                 f"{short(detail or r.body, 160)}", "DELETE", path)
            if r.status == 204:
                break


def case_revoked_session():
    who = next((p for p in ("frank", "erin", "dave") if p in TOKENS), None)
    if not who or not ROTA:
        case("4-revoked-session", False, "no token or binary to run the case")
        return
    s = sign_in(who)
    if not s:
        case("4-revoked-session", False, f"signing in as {who} at /signin failed")
        return
    r = request("GET", "/me", cookie=s)
    if r.status != 200:
        case("4-revoked-session", False, f"/me right after signing in: {r.status}", "GET", "/me")
        return
    out = subprocess.run([ROTA, "--schedules", SCHEDULES, "token", "revoke", TOKENS[who], "--state", STATE],
                         capture_output=True, text=True)
    if out.returncode != 0:
        case("4-revoked-session", False, f"rota token revoke failed: {out.stderr.strip()}")
        return
    TOKENS.pop(who)
    session_cookies.pop(who, None)
    r = request("GET", "/me", cookie=s)
    loc = r.header("location")
    case("4-revoked-session", r.status in (302, 303, 307) and loc.startswith("/signin"),
         f"/me after revoking {who}'s token: {r.status} {('-> ' + loc) if loc else short(r.body, 80)}",
         "GET", "/me")


def sign_in(who):
    tok = token_of(who)
    if not tok:
        return None
    body = urllib.parse.urlencode({"token": tok, "next": "/me"})
    r = request("POST", "/signin", body, {"Content-Type": "application/x-www-form-urlencoded",
                                          "Origin": BASE})
    m = re.search(r"rota_session=([^;]+)", r.header("set-cookie"))
    if r.status in (302, 303) and m:
        c = "rota_session=" + m.group(1)
        session_cookies[who] = c
        return c
    return None


def case_year_9999():
    import datetime
    for path in ("/api/v1/whoishero?at=9999-12-31T23:59:59Z", "/api/v1/oncall?at=9999-12-31T23:59:59Z",
                 "/api/v1/rotations/support-hero/shifts?from=9999-12-01&to=9999-12-31T23:59:59Z"):
        r = request("GET", path)
        if r.status == 400:
            j = r.json() or {}
            case("6-year-9999", r.header("content-type").startswith("application/problem+json")
                 and j.get("field") in ("at", "from", "to"),
                 f"GET {path}: 400 field={j.get('field')} {short(j.get('detail'), 100)}", "GET", path)
            continue
        bad = []

        def walk(v):
            if isinstance(v, dict):
                for k, x in v.items():
                    if k in ("start", "end") and isinstance(x, str):
                        try:
                            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", x):
                                raise ValueError
                            datetime.datetime.fromisoformat(x.replace("Z", "+00:00"))
                        except ValueError:
                            bad.append(f"{k}={x}")
                    else:
                        walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(r.json())
        case("6-year-9999", r.status == 200 and not bad,
             f"GET {path}: {r.status} " + (f"non-RFC 3339 instants: {', '.join(bad[:3])}" if bad
                                           else "every instant is RFC 3339"), "GET", path)


def case_malformed_headers():
    tok = ADMIN_TOKEN
    ov = json.dumps({"rotation": "support-hero", "person": ADMIN, "start": "2030-01-01T00:00:00Z",
                     "end": "2030-01-02T00:00:00Z"})
    for label, ct in (("bad content-type", "application/json; charset"),
                      ("content-type junk", "}{;=="), ("content-type text", "text/plain"),
                      ("content-type empty", ""), ("content-type params", "application/json;;;q=\"")):
        r = request("POST", "/api/v1/overrides", ov, {"Content-Type": ct}, token=tok)
        case("7-malformed-headers", r.status < 500 and r.header("content-type").startswith("application/problem+json")
             if r.status >= 400 else r.status < 300,
             f"POST /api/v1/overrides with Content-Type {ct!r} ({label}): {r.status} {r.header('content-type') or 'no content type'}",
             "POST", "/api/v1/overrides")
        if r.status == 201:
            override_ids.append((r.json() or {}).get("id"))
    # Content-Length that is not a number, and other framing errors: sent raw, to a real route and
    # to a path of their own, to tell the app's answers from the HTTP layer's (the app logs every
    # request that reaches it).
    n = 0
    for label, hdr in (("Content-Length: abc", b"Content-Length: abc\r\n"),
                       ("Content-Length: -1", b"Content-Length: -1\r\n"),
                       ("two Content-Lengths", b"Content-Length: 2\r\nContent-Length: 3\r\n"),
                       ("Transfer-Encoding: bogus", b"Transfer-Encoding: bogus\r\n"),
                       ("header without colon", b"NoColonHere\r\n")):
        n += 1
        marker = f"/api/v1/probe-framing-{n}"
        for path in ("/api/v1/overrides", marker):
            data = (f"POST {path} HTTP/1.1\r\nHost: {HOSTPORT}\r\nAuthorization: Bearer {tok}\r\n"
                    f"Content-Type: application/json\r\nConnection: close\r\n").encode() + hdr + b"\r\n{}"
            r = raw(data, path, checked=False)
            global sent
            by_class[f"{r.status // 100}xx" if r.status else "no-response"] = \
                by_class.get(f"{r.status // 100}xx" if r.status else "no-response", 0) + 1
            timings.append((r.secs, "POST", path))
            problem = r.header("content-type").startswith("application/problem+json")
            if path == marker:
                time.sleep(0.05)
                reached = log_has_path(marker)
                where = "the app" if reached else "the HTTP layer (no access-log line)" if reached is False else "?"
                msg = f"{label}: {r.status or 'no response'} {r.header('content-type') or 'no content type'}, answered by {where}"
                if r.status >= 500:
                    case("7-malformed-headers", False, msg, "POST", path)
                elif r.status >= 400 and not problem and reached:
                    case("7-malformed-headers", False, msg + ": the app answered without problem+json", "POST", path)
                elif r.status >= 400 and not problem:
                    notes.append("7: " + msg)
                    print(f"case 7-malformed-headers: http layer: {msg}")
                else:
                    print(f"case 7-malformed-headers: ok: {msg}")


def case_slowloris_light():
    # Twenty connections that send half a request and stall; meanwhile a normal request must still
    # be answered quickly.
    socks = []
    for _ in range(20):
        try:
            s = socket.create_connection((HOST, PORT), timeout=5)
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOSTPORT}\r\nX-Slow: ".encode())
            socks.append(s)
        except OSError:
            break
    time.sleep(0.5)
    r = request("GET", "/api/v1/whoishero")
    case("5-slowloris-light", r.status == 200 and r.secs <= SLOW,
         f"with {len(socks)} stalled connections, GET /api/v1/whoishero: {r.status} in {r.secs:.2f} s",
         "GET", "/api/v1/whoishero")
    for s in socks:
        s.close()


def case_head():
    missing = []
    for path in ("/healthz", "/api/v1/whoishero", "/api/v1/rotations", "/calendars/rotations/support-hero.ics",
                 "/", "/signin", "/report"):
        r = request("HEAD", path, checked=False)
        by_class[f"{r.status // 100}xx"] = by_class.get(f"{r.status // 100}xx", 0) + 1
        if r.status in (404, 405):
            missing.append(f"{path} {r.status}")
    case("head-on-get", not missing, "HEAD on GET routes: " + (", ".join(missing) if missing else "all answered"))


# --- generated requests --------------------------------------------------------------------------

HOSTILE = ["", " ", "..", "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%00", "a%00b", "#", "?", "%23",
           "é", "Ñandú", "😀", "\u202e", "a" * 300, "x" * 5000, "null", "-1", "0", "1", "18446744073709551616",
           "1e309", "NaN", "%ff%fe", "%c0%af", "alice.ics", "support-hero.ics", ".ics", "alice/../bob",
           "<script>alert(1)</script>", "' OR 1=1 --", "${jndi:x}", "%0d%0aSet-Cookie:x=1", "\\", "~", "*"]

TIMES = ["2026-12-07", "2026-12-07T10:00:00Z", "2026-12-07T10:00:00+05:30", "2026-12-07T10:00",
         "2026-12-07T10:00:00", "2026-12-07 10:00:00Z", "2026-12-07t10:00:00z", "0000-01-01T00:00:00Z",
         "0001-01-01", "9999-12-31T23:59:59Z", "9999-12-31", "-0001-01-01", "+275760-09-13T00:00:00Z",
         "10000-01-01T00:00:00Z", "2026-13-45", "2026-02-30", "2026-02-29", "2028-02-29", "1970-01-01T00:00:00Z",
         "1900-01-01", "now", "", "1765000000", "2026-W49", "2026-12-07T25:00:00Z", "2026-12-07T10:00:60Z",
         "2026-12-07T10:00:00.123456789Z", "2026-12-07T10:00:00.1234567891234Z", "2026-03-29T01:30",
         "2026-10-25T01:30", "2026-12-07T10:00:00+24:00", "2026-12-07T10:00:00-23:59", "2026-12-07T10:00:00+99:99",
         "2262-04-11T23:47:16Z", "1677-09-21T00:12:43Z", "262143-12-31T23:59:59Z", "2026-12-07T10:00:00Z\u0000",
         "２０２６-12-07", "2026-12-07T10:00:00ZZ", "2026-1-7", "2026-12-07T10:00:00 +00:00", " 2026-12-07"]

RANGES = [("9998-01-01", "9999-12-31T23:59:59Z"), ("0001-01-01", "0002-12-31"), ("1900-01-01", "2100-01-01"),
          ("2026-12-07", "2026-12-07"), ("2027-01-01", "2026-01-01"), ("2026-01-01", "2028-01-01"),
          ("2026-12-01", "2028-12-01"), ("9999-12-31T23:00:00Z", "9999-12-31T23:59:59Z"),
          ("0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"), ("-9999-01-01", "-9998-01-01")]


def pick(seq):
    return rnd.choice(seq)


def enc(s):
    """An id in a path: percent-encoded, or now and then raw (http.client refuses spaces and
    control characters, so those stay encoded)."""
    if rnd.random() < 0.25 and not re.search(r"[\s\x00-\x1f\x7f]", s) and s.isascii():
        return s
    return urllib.parse.quote(s, safe="")


def some_rotation():
    r = rnd.random()
    return pick(ROTATIONS) if r < 0.7 and ROTATIONS else pick(HOSTILE)


def some_person():
    r = rnd.random()
    return pick(PEOPLE) if r < 0.7 and PEOPLE else pick(HOSTILE)


def some_override_id():
    return pick(override_ids) if override_ids and rnd.random() < 0.6 else pick(HOSTILE + ["api-1", "xmas-swap-a"])


def some_swap_id():
    return str(pick(swap_ids)) if swap_ids and rnd.random() < 0.6 else pick(HOSTILE + ["1", "999999", "-5"])


def some_time():
    return pick(TIMES)


def query(params):
    """A query string from {name: generator}; sometimes leaves params out, adds unknown ones,
    repeats one, or breaks the encoding."""
    items = []
    for k, gen in params.items():
        if rnd.random() < 0.6:
            items.append((k, gen()))
    if rnd.random() < 0.15:
        items.append((pick(["foo", "token", "at", "from", "limit", "x" * 200, "", "%zz"]), pick(TIMES + HOSTILE)))
    if items and rnd.random() < 0.05:
        items.append(items[0])
    if not items:
        return ""
    q = urllib.parse.urlencode(items)
    if rnd.random() < 0.05:
        q += pick(["&", "&&", "=", "&=x", "%", "%zz", "%ff", ";a=b", "&from"])
    return "?" + q


def range_q():
    if rnd.random() < 0.35:
        f, t = pick(RANGES)
        return "?" + urllib.parse.urlencode({"from": f, "to": t})
    return query({"from": some_time, "to": some_time})


def json_scalar():
    return pick([None, True, 0, -1, 1.5, 2**64, "", "x", "é" * 50, [], {}, "2026-12-07T10:00:00Z", 10**400])


BIG_SLOTS = [2**31, 2**32, 2**53, 2**63 - 1, 2**63, 2**64 - 1, 10**12, 52 * 400, 52 * 8000]


def mutate_body(obj):
    """A JSON body from a valid-looking object: wrong types, missing and extra fields, nesting,
    huge, invalid UTF-8, not JSON."""
    r = rnd.random()
    o = dict(obj)
    if r < 0.15 and o:
        o.pop(pick(list(o)))
    elif r < 0.35 and o:
        k = pick(list(o))
        if k in ("start", "end"):
            o[k] = pick(TIMES)
        elif k in ("my_slot", "their_slot"):
            o[k] = pick(BIG_SLOTS)
        else:
            o[k] = json_scalar() if rnd.random() < 0.8 else 10**400
    elif r < 0.45:
        o[pick(["extra", "id", "origin", "created_by", "__proto__", "status"])] = json_scalar()
    elif r < 0.5:
        depth = pick([20, 200, 5000])
        return "[" * depth + "]" * depth
    elif r < 0.55:
        return json.dumps({**o, "reason": "r" * pick([400, 501, 20000, 70000])})
    elif r < 0.6:
        return b'{"rotation":"\xff\xfe","person":"\xc0\xaf"}'
    elif r < 0.65:
        return pick(["", "null", "[]", "{", "not json", "\ufeff{}", '{"a":1}{"b":2}', "1e999999", '"str"',
                     "{\"rotation\":\"support-hero\",\"rotation\":\"x\"}"])
    elif r < 0.7:
        return json.dumps([o])
    return json.dumps(o, default=str) if rnd.random() < 0.98 else json.dumps(o).encode("utf-16")


def auth_choice(normal):
    r = rnd.random()
    if r < 0.25:
        return {}
    if r < 0.55:
        return {"Authorization": "Bearer " + ADMIN_TOKEN}
    if r < 0.8 and normal and token_of(normal):
        return {"Authorization": "Bearer " + token_of(normal)}
    return {"Authorization": pick(["Bearer wrong", "Basic YWxpY2U6eA==", "Bearer", "Bearer  ", "bearer " + ADMIN_TOKEN,
                                   "Bearer " + ADMIN_TOKEN[:-1], "Bearer " + "x" * 9000, "Bearer \xff\xfe",
                                   "Bearer " + ADMIN_TOKEN + " extra", "Bearer rota_" + "0" * 64, "Token x"])}


def ctype():
    r = rnd.random()
    if r < 0.75:
        return {"Content-Type": "application/json"}
    return {"Content-Type": pick(["application/json; charset=utf-8", "text/plain", "application/json; charset=latin1",
                                  "application/x-www-form-urlencoded", "multipart/form-data", "application/json;;;",
                                  "application/", "/", "a" * 2000, "application/problem+json", "APPLICATION/JSON",
                                  "application/json\t", "*/*", ""])} if rnd.random() < 0.9 else {}


def valid_override_body(who):
    """An override that could be accepted: `who` on call in a rotation of theirs, some hours ahead."""
    rots = [r for r, m in MEMBERS.items() if who in m] or ROTATIONS
    start = time.time() + 86400 * rnd.randint(30, 300) + rnd.randint(0, 86400)
    start -= start % 3600
    end = start + 3600 * rnd.choice([1, 5, 24, 72])
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    return {"rotation": pick(rots), "person": who, "start": fmt(start), "end": fmt(end), "reason": "probe"}


def gen_override_post():
    who = NORMAL if rnd.random() < 0.5 and NORMAL else ADMIN
    body = valid_override_body(who)
    valid = rnd.random() < 0.35
    b = json.dumps(body) if valid else mutate_body(body)
    h = {"Content-Type": "application/json", "Authorization": "Bearer " + token_of(who)} if valid \
        else {**ctype(), **auth_choice(NORMAL)}
    r = request("POST", "/api/v1/overrides", b, h)
    if r.status == 201:
        override_ids.append((r.json() or {}).get("id"))


def gen_swap_post():
    rot = pick(ROTATIONS) if ROTATIONS else "support-hero"
    slots = clean_slots(rot) if rnd.random() < 0.5 else []
    valid = False
    if len(slots) >= 2:
        a, b = rnd.sample(slots, 2)
        p, q = a["member"], b["member"]
        if p != q and token_of(p):
            kind = pick(["trade", "trade", "cover"])
            body = {"rotation": rot, "kind": kind, "my_slot": a["slot"], "counterpart": q}
            if kind == "trade":
                body["their_slot"] = b["slot"]
            valid = rnd.random() < 0.5
            h = {"Content-Type": "application/json", "Authorization": "Bearer " + token_of(p)}
            if valid:
                r = request("POST", "/api/v1/swaps", json.dumps(body), h)
                if r.status == 201:
                    sid = (r.json() or {}).get("id")
                    swap_ids.append(sid)
                    # Now and then the counterpart (or the admin) decides at once.
                    verb = pick(["accept", "accept", "decline", "cancel", None])
                    if verb:
                        who = p if verb == "cancel" else pick([q, ADMIN])
                        if token_of(who):
                            request("POST", f"/api/v1/swaps/{sid}/{verb}", token=token_of(who))
                return
    body = {"rotation": rot, "kind": pick(["trade", "cover", "swap", 1, None]), "my_slot": rnd.randint(-2, 80),
            "counterpart": some_person(), "their_slot": rnd.randint(0, 80)}
    if rnd.random() < 0.2:
        body["on_behalf_of"] = some_person()
    request("POST", "/api/v1/swaps", mutate_body(body), {**ctype(), **auth_choice(NORMAL)})


def csrf_of(path, cookie):
    page = request("GET", path, cookie=cookie)
    m = re.search(r'name="csrf" value="([^"]+)"', page.text())
    return m.group(1) if m else ""


def gen_page_swap_flow():
    """A swap made and decided through the pages, as a browser would: the form, then the
    counterpart's button."""
    rot = pick(ROTATIONS) if ROTATIONS else "support-hero"
    slots = clean_slots(rot)
    if len(slots) < 2:
        return
    a, b = rnd.sample(slots, 2)
    p, q = a["member"], b["member"]
    if p == q or not token_of(p) or not token_of(q):
        return
    cp = session_cookies.get(p) or sign_in(p)
    if not cp:
        return
    kind = pick(["trade", "cover"])
    step3 = "/swaps/new?" + urllib.parse.urlencode({"rotation": rot, "slot": a["slot"], "counterpart": q})
    form = {"csrf": csrf_of(step3, cp), "rotation": rot, "my_slot": str(a["slot"]), "kind": kind,
            "counterpart": q, "their_slot": str(b["slot"]) if kind == "trade" else ""}
    h = {"Content-Type": "application/x-www-form-urlencoded", "Origin": BASE}
    r = request("POST", "/swaps/new", urllib.parse.urlencode(form), h, cookie=cp)
    m = re.match(r"/swaps/([^/?]+)$", r.header("location"))
    if r.status != 303 or not m:
        return
    sid = m.group(1)
    swap_ids.append(sid)
    verb = pick(["accept", "accept", "decline", "cancel"])
    who = p if verb == "cancel" else q
    cw = session_cookies.get(who) or sign_in(who)
    if cw:
        body = urllib.parse.urlencode({"csrf": csrf_of(f"/swaps/{sid}", cw)})
        request("POST", f"/swaps/{sid}/{verb}", body, h, cookie=cw)


def gen_page_post():
    if rnd.random() < 0.15:
        return gen_page_swap_flow()
    who = pick([p for p in session_cookies] or [NORMAL or ADMIN])
    cookie = session_cookies.get(who) or sign_in(who)
    csrf = ""
    if cookie and rnd.random() < 0.6:
        csrf = csrf_of("/me", cookie)  # the sign-out form's; the same token for every form
    target = pick(["/swaps/new", f"/swaps/{enc(some_swap_id())}/{pick(['accept', 'decline', 'cancel', 'x', ''])}",
                   "/signout", "/signin"])
    form = {"csrf": csrf if rnd.random() < 0.8 else pick(HOSTILE), "rotation": some_rotation(),
            "my_slot": str(rnd.randint(-1, 60)) if rnd.random() < 0.7 else pick(HOSTILE + [str(n) for n in BIG_SLOTS]),
            "kind": pick(["trade", "cover", "", "x"]), "counterpart": some_person(),
            "their_slot": pick(["", str(rnd.randint(0, 60)), "x"]), "token": pick(HOSTILE + [ADMIN_TOKEN[:-1]]),
            "next": pick(["/me", "//evil.example", "https://evil.example/", "/\\evil", "javascript:alert(1)", "/swaps/new"])}
    for k in list(form):
        if rnd.random() < 0.2:
            del form[k]
    h = {"Content-Type": pick(["application/x-www-form-urlencoded"] * 4 + ["application/json", "text/plain", ""])}
    if rnd.random() < 0.85:
        h["Origin"] = pick([BASE] * 4 + ["https://evil.example", "null", BASE + "/", "http://" + HOSTPORT.upper()])
    body = urllib.parse.urlencode(form) if rnd.random() < 0.9 else mutate_body(form)
    r = request("POST", target, body, h, cookie=cookie if rnd.random() < 0.9 else None)
    loc = r.header("location")
    if loc and not (loc.startswith("/") and not loc.startswith("//") and not loc.startswith("/\\")):
        violate("open-redirect", f"{r.status} redirects to {loc}", "POST", target, body, h)


def gen_get():
    """A GET (or another method now and then) of any route."""
    choices = [
        lambda: "/api/v1/whoishero" + query({"at": some_time}),
        lambda: "/api/v1/oncall" + query({"at": some_time}),
        lambda: "/api/v1/rotations" + query({}),
        lambda: f"/api/v1/rotations/{enc(some_rotation())}/shifts" + range_q(),
        lambda: f"/api/v1/rotations/{enc(some_rotation())}/slots" + range_q(),
        lambda: f"/api/v1/people/{enc(some_person())}/shifts" + range_q(),
        lambda: "/api/v1/overrides" + query({"rotation": some_rotation}),
        lambda: "/api/v1/conflicts" + range_q(),
        lambda: "/api/v1/report" + range_q(),
        lambda: "/api/v1/swaps" + query({}),
        lambda: f"/api/v1/swaps/{enc(some_swap_id())}",
        lambda: "/api/v1/audit" + query({"limit": lambda: pick(["1", "0", "100", "1001", "-1", "x", "4294967296", ""]),
                                         "before": lambda: pick(["1", "0", "-1", "9223372036854775808", "x", ""])}),
        lambda: "/healthz" + query({}),
        lambda: f"/calendars/rotations/{enc(some_rotation())}.ics" + query({}),
        lambda: f"/calendars/rotations/{enc(some_rotation())}",
        lambda: f"/calendars/people/{enc(some_person())}.ics" + query({"token": lambda: pick([FEED_TOKEN, FEED_TOKEN, "x", "", FEED_TOKEN.upper()])}),
        lambda: "/" + query({"at": some_time}),
        lambda: "/signin" + query({"next": lambda: pick(["/me", "//evil.example", "https://evil.example", "/\\evil", pick(HOSTILE)])}),
        lambda: "/me" + query({}),
        lambda: "/swaps/new" + query({"rotation": some_rotation, "slot": lambda: pick(["1", "-1", "x", "99999999999999999999", "40"] + [str(n) for n in BIG_SLOTS]),
                                      "counterpart": some_person, "their_slot": lambda: pick(["2", "x", ""] + [str(n) for n in BIG_SLOTS])}),
        lambda: f"/swaps/{enc(some_swap_id())}",
        lambda: "/report" + range_q(),
        lambda: "/" + enc(pick(HOSTILE)) + pick(["", "/", "/x"]),
        lambda: "/api/v1/" + enc(pick(HOSTILE)),
        lambda: pick(["//", "/api/v1", "/api/v1/", "/api//v1/rotations", "/api/v1/rotations/", "/calendars/",
                      "/./healthz", "/healthz/", "/HEALTHZ", "/api/v1/overrides/", "/swaps/", "/me/"]),
    ]
    path = pick(choices)()
    method = "GET" if rnd.random() < 0.85 else pick(["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND"])
    h = auth_choice(NORMAL) if path.startswith("/api") else {}
    cookie = None
    if kind_of(path) == "page" and session_cookies and rnd.random() < 0.6:
        cookie = pick(list(session_cookies.values()))
    if rnd.random() < 0.05:
        h["If-None-Match"] = pick(['"x"', "*", "W/\"" + "a" * 100 + "\"", ""])
    if rnd.random() < 0.05:
        h["Accept"] = pick(["text/html", "application/json", "*/*", "\u00ff", "text/calendar;q=0"])
    request(method, path, None if method in ("GET", "HEAD", "OPTIONS", "TRACE") else mutate_body({}), h, cookie=cookie)


def gen_delete():
    path = pick([f"/api/v1/overrides/{enc(some_override_id())}", f"/api/v1/people/{enc(some_person())}/sessions"])
    h = auth_choice(NORMAL)
    r = request("DELETE", path, None, h)
    if r.status == 204 and path.startswith("/api/v1/overrides/"):
        oid = urllib.parse.unquote(path.rsplit("/", 1)[1])
        if oid in override_ids:
            override_ids.remove(oid)


def gen_swap_verb():
    sid = some_swap_id()
    verb = pick(["accept", "decline", "cancel", "ACCEPT", "x", ""])
    path = f"/api/v1/swaps/{enc(sid)}/{verb}"
    who = pick(PEOPLE) if PEOPLE else ADMIN
    h = {"Authorization": "Bearer " + token_of(who)} if token_of(who) and rnd.random() < 0.7 else auth_choice(NORMAL)
    body = None if rnd.random() < 0.7 else mutate_body({"x": 1})
    request(pick(["POST"] * 9 + ["GET"]), path, body, {**h, **(ctype() if body else {})})


def gen_raw():
    """Requests http.client will not send: raw bytes in the path, odd request lines."""
    path = pick([b"/api/v1/people/\xff\xfe/shifts", b"/api/v1/rotations/a b/shifts", b"/healthz#frag",
                 b"/api/v1/whoishero?at=2026-12-07T10:00:00Z#x", b"/swaps/\xc3\x28", b"/calendars/people/\x00.ics",
                 b"/api/v1/rotations/%/shifts", b"/me?next=%", b"*", b"http://evil.example/healthz",
                 b"/api/v1/overrides/" + b"a" * 20000])
    method = pick([b"GET", b"POST", b"DELETE", b"BREW", b"get"])
    data = method + b" " + path + b" HTTP/1.1\r\nHost: " + HOSTPORT.encode() + b"\r\nConnection: close\r\n\r\n"
    label = path.decode("latin-1")
    r = raw(data, label if label.startswith("/") else "/" + label, checked=False)
    # Only the status and the time are judged: the HTTP layer answers some of these itself.
    by_class[f"{r.status // 100}xx" if r.status else "no-response"] = by_class.get(f"{r.status // 100}xx" if r.status else "no-response", 0) + 1
    timings.append((r.secs, method.decode(), label))
    if r.status >= 500 or r.status == 0 and method in (b"GET",) and path.startswith(b"/"):
        violate("5xx" if r.status else "no-response", f"{r.status}: {short(r.body, 120)}", method.decode(), label)
    if r.secs > SLOW:
        violate("slow", f"{r.secs:.2f} s", method.decode(), label)


def gen_burst():
    """Sixteen requests at once, mostly writes to the state file: concurrent transactions must
    wait for each other, never fail with a 5xx (SQLITE_BUSY) or take over a second."""
    jobs = []
    for _ in range(16):
        r = rnd.random()
        who = pick([NORMAL, ADMIN]) if NORMAL else ADMIN
        if r < 0.4:
            jobs.append(("POST", "/api/v1/overrides", json.dumps(valid_override_body(who)),
                         {"Content-Type": "application/json", "Authorization": "Bearer " + token_of(who)}))
        elif r < 0.55:
            jobs.append(("POST", "/signin", urllib.parse.urlencode({"token": token_of(who), "next": "/me"}),
                         {"Content-Type": "application/x-www-form-urlencoded", "Origin": BASE}))
        elif r < 0.7 and override_ids:
            jobs.append(("DELETE", f"/api/v1/overrides/{enc(pick(override_ids))}", None,
                         {"Authorization": "Bearer " + ADMIN_TOKEN}))
        elif r < 0.8:
            jobs.append(("DELETE", f"/api/v1/people/{pick(PEOPLE)}/sessions", None,
                         {"Authorization": "Bearer " + ADMIN_TOKEN}))
        elif r < 0.9:
            jobs.append(("GET", pick(["/api/v1/conflicts", "/", "/api/v1/report", "/healthz"]), None, {}))
        else:
            jobs.append(("GET", "/api/v1/audit?limit=1000", None, {"Authorization": "Bearer " + ADMIN_TOKEN}))
    results = [None] * len(jobs)

    def run(i, job):
        results[i] = request(*job)
    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (m, path, _, _), r in zip(jobs, results):
        if m == "POST" and path == "/api/v1/overrides" and r and r.status == 201:
            override_ids.append((r.json() or {}).get("id"))


GENERATORS = [(gen_burst, 1), (gen_get, 55), (gen_override_post, 10), (gen_swap_post, 8), (gen_delete, 7), (gen_swap_verb, 7),
              (gen_page_post, 9), (gen_raw, 4)]


def main():
    if PHASE in ("cases", "all"):
        print(f"probe: the cases of issue 11; {BASE}")
        case_symlinks_fifo()
        case_year_9999()
        case_swap_half_delete()
        case_revoked_session()
        case_malformed_headers()
        case_slowloris_light()
        case_head()
        case_hostile_recurrence()
    if PHASE in ("fuzz", "all"):
        print(f"probe: seed {SEED} (replay with PROBE_SEED={SEED}); budget {BUDGET} requests or {WALL:.0f} s; {BASE}")
        override_ids.extend(o["id"] for o in (get_json("/api/v1/overrides") or []) if o["id"] not in override_ids)
        swap_ids.extend(x["id"] for x in (get_json("/api/v1/swaps", token=ADMIN_TOKEN) or []) if x["id"] not in swap_ids)
        for p in (NORMAL, ADMIN):
            if p:
                sign_in(p)
        gens, weights = zip(*GENERATORS)
        while sent < BUDGET and time.monotonic() - START < WALL:
            rnd.choices(gens, weights)[0]()
        if sent < BUDGET:
            notes.append(f"stopped by the wall-clock cap ({WALL:.0f} s) before the request budget")
    recheck_slow()
    elapsed = time.monotonic() - START
    print(f"\nprobe ({PHASE}): {sent} requests in {elapsed:.1f} s")
    print("by status class: " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())))
    print("slowest:")
    for secs, m, p in sorted(timings, reverse=True)[:5]:
        print(f"  {secs:.3f} s  {m} {short(p, 120)}")
    for n in notes:
        print("note: " + redact(n))
    for route, (count, example) in sorted(http_layer.items()):
        print(f"note: the HTTP layer answered a bare 400 (no body) {count} time(s) on {route}, e.g. {redact(example)}")
    if violations:
        # One line per kind of problem and route, with the methods and how often.
        seen = {}
        for kind, msg, req in violations:
            method, _, rest = req.partition(" ")
            m = re.match(r"(\d{3})", msg)
            if kind in ("page-not-html", "not-problem-json", "bad-problem", "error-without-body", "slow", "5xx"):
                key = (kind, m.group(1) if m else "", route_of(rest.split(" ", 1)[0]))
            else:
                key = (kind, re.sub(r"\d+\.\d\d s", "N s", msg), "")
            e = seen.setdefault(key, {"n": 0, "methods": set(), "msg": msg, "req": req})
            e["n"] += 1
            e["methods"].add(method)
        print(f"\n{len(violations)} VIOLATIONS ({len(seen)} distinct):")
        for (kind, _, route), e in sorted(seen.items()):
            where = f" [{route}: {', '.join(sorted(m for m in e['methods'] if m))}]" if route else ""
            print(f"VIOLATION {kind}{where}: {redact(e['msg'])}" + (f" (x{e['n']})" if e["n"] > 1 else ""))
            print(f"    e.g. {redact(e['req'])}")
        sys.exit(1)
    print("no violations")


if __name__ == "__main__":
    main()
