"""An SMTP server with AUTH for mail_test.go: aiosmtpd's Controller with an
authenticator that accepts one user and password, storing every mail in a
Maildir. It prints "ready" once it listens and stops on SIGTERM or SIGINT.
Each authentication attempt is appended to --log as "MECHANISM ok|fail tls|plain".
"""
import argparse
import signal
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--dir", required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--tlscert", help="offer STARTTLS with this certificate (and require it)")
p.add_argument("--tlskey")
p.add_argument("--only", choices=["PLAIN", "LOGIN"], help="the one AUTH mechanism to offer")
p.add_argument("--log", required=True)
a = p.parse_args()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login == a.user.encode()
          and auth_data.password == a.password.encode())
    with open(a.log, "a") as f:
        f.write("%s %s %s\n" % (mechanism, "ok" if ok else "fail", "tls" if session.ssl is not None else "plain"))
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


kw = dict(authenticator=authenticator, auth_required=True, auth_require_tls=bool(a.tlscert))
if a.tlscert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.tlscert, a.tlskey)
    kw.update(tls_context=ctx, require_starttls=True)
if a.only:
    kw["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m != a.only]

# Block the stop signals before the server thread starts, so that only
# sigwait below receives them.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
controller = Controller(Mailbox(a.dir), hostname="127.0.0.1", port=a.port, **kw)
controller.start()
print("ready", flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
controller.stop()
