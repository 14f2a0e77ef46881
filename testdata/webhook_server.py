"""A webhook endpoint for webhook_test.go: Python's http.server, over TLS with
--cert/--key, storing every POST in --dir as NNNN.json ({"path", "headers",
"body"}) before it answers. --answers 500,429,... gives the status of the
first requests (then 200). It prints "ready PORT" once it listens on
127.0.0.1 (--port 0 picks a free port) and stops on SIGTERM.
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=0)
p.add_argument("--dir", required=True)
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--answers", default="", help="comma-separated statuses of the first requests")
a = p.parse_args()

answers = [int(s) for s in a.answers.split(",") if s]
lock = threading.Lock()
count = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        with lock:
            count += 1
            n = count
            status = answers.pop(0) if answers else 200
        record = {"path": self.path, "headers": dict(self.headers.items()), "body": body, "status": status}
        tmp = os.path.join(a.dir, ".%04d.json" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(a.dir, "%04d.json" % n))  # whole files only
        reply = b"ok" if status == 200 else b"failing as told"
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "30")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook_server: " + (fmt % args) + "\n")


os.makedirs(a.dir, exist_ok=True)
server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
if a.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print("ready %d" % server.server_address[1], flush=True)
server.serve_forever()
