#!/usr/bin/python3
"""An SMTP server for the email notifier's tests: Debian's python3-aiosmtpd (run with
/usr/bin/python3, the only interpreter that has it) on 127.0.0.1. Each accepted message is
written to DIR/NNNN.eml (the DATA as received) with one line in DIR/mail.jsonl:
{"n", "mail_from", "rcpt_tos", "file", "tls", "auth_user"}.

  smtp_sink.py PORT DIR [--auth USER:PASS] [--starttls CERT KEY] [--implicit-tls CERT KEY]

--starttls makes STARTTLS required before MAIL; --implicit-tls speaks TLS from the first byte
(smtps). With --auth, AUTH is required (aiosmtpd allows it only over TLS unless told otherwise;
it is told otherwise only without TLS). DIR/ready is written once the server listens.
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("dir")
    ap.add_argument("--auth")
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    lock = threading.Lock()
    counter = {"n": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with lock:
                counter["n"] += 1
                n = counter["n"]
                path = os.path.join(args.dir, "%04d.eml" % n)
                with open(path, "wb") as f:
                    f.write(envelope.original_content or envelope.content)
                line = {"n": n, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "file": path,
                        # With implicit TLS the whole connection is TLS; aiosmtpd sets
                        # session.ssl only for STARTTLS.
                        "tls": session.ssl is not None or bool(args.implicit_tls),
                        "auth_user": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None}
                with open(os.path.join(args.dir, "mail.jsonl"), "a") as f:
                    f.write(json.dumps(line) + "\n")
            return "250 OK queued as %04d" % n

    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and \
                auth_data.password.decode() == password
            # handled=False: aiosmtpd then answers 535 itself (with True it would answer nothing).
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(args.starttls or args.implicit_tls))
    if args.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*args.starttls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.implicit_tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*args.implicit_tls)
        kwargs.update(ssl_context=ctx)
    controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    with open(os.path.join(args.dir, "ready"), "w") as f:
        f.write("ready\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
