#!/usr/bin/env python3
"""A real SMTP server for rota's tests: listens on 127.0.0.1, accepts every message, and writes each
one to DIR as NNNNNN.eml (the bytes as received) plus NNNNNN.json (envelope, the client's EHLO name,
headers and parsed parts, read by tests/notify.rs). Each file is written to a temporary name, fsync'd and renamed, so a reader
never sees half a message.

    smtp_sink.py DIR [--port N] [--fail-first N] [--hold-first SECS]

Prints "smtp_sink: listening on 127.0.0.1:PORT" once it accepts connections (port 0 picks a free
port). --fail-first N answers the first N messages with a temporary failure (451), for retry tests.
--hold-first SECS waits that long after the first message's data before answering (and writing
it), so a test can kill the sender in the middle of the SMTP transaction.
Runs until killed. Needs aiosmtpd (scripts/test-python-setup.sh installs it in target/test-venv).
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, fail_first, hold_first=0.0):
        self.out = out
        self.fail_first = fail_first
        self.hold_first = hold_first
        self.seen = 0
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        mine = self.seen
        if mine == 1 and self.hold_first > 0:
            await asyncio.sleep(self.hold_first)
        if mine <= self.fail_first:
            return "451 4.3.0 try again later (smtp_sink --fail-first)"
        self.n += 1
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            content = part.get_content()
            if isinstance(content, bytes):
                content = content.decode("utf-8", "replace")
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "filename": part.get_filename(),
                    "disposition": part.get_content_disposition(),
                    "content": content,
                }
            )
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "rota_key": str(msg["X-Rota-Key"]),
            "reply_to": str(msg["Reply-To"]) if msg["Reply-To"] else None,
            "auto_submitted": msg["Auto-Submitted"],
            "auto_response_suppress": msg["X-Auto-Response-Suppress"],
            "helo": session.host_name,
            "content_type": msg.get_content_type(),
            "parts": parts,
        }
        base = os.path.join(self.out, f"{self.n:06d}")
        for ext, data in ((".eml", raw), (".json", json.dumps(record).encode())):
            # The temporary name must not end in .json/.eml, or a reader listing *.json sees it half-written.
            tmp = os.path.join(self.out, f".tmp-{self.n:06d}{ext}.part")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, base + ext)
        return "250 2.0.0 OK"


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--hold-first", type=float, default=0.0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir, args.fail_first, args.hold_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-sink.test"), "127.0.0.1", args.port
    )
    port = server.sockets[0].getsockname()[1]
    print(f"smtp_sink: listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
