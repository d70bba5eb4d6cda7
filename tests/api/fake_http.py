"""fake_http — the HTTP scaffolding the local provider fakes share (fake_aliyun, fake_tencent,
fake_wecom): a threaded server on 127.0.0.1 at a free port whose GET and POST requests are answered
by the fake's own methods, and its shutdown. A fake subclasses FakeHTTP and defines
handle_post(path, headers, body) (and handle_get(path, headers) when it answers GET); each returns
(status, bytes), sent as application/json whatever the bytes are (a fake may answer a body that is
not JSON on purpose)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHTTP:
    def __init__(self):
        self.lock = threading.Lock()
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, out):
                code, data = out
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.reply(fake.handle_get(self.path, self.headers))

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.reply(fake.handle_post(self.path, self.headers, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()

    def handle_get(self, path, headers):
        return 405, b'{"error": "method"}'

    def handle_post(self, path, headers, body):
        return 405, b'{"error": "method"}'

    @staticmethod
    def json_answer(obj, status=200):
        return status, json.dumps(obj).encode()
