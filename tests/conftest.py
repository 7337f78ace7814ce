"""Shared fixtures: a loopback HTTP server with Range support (helpers.py holds the plain helpers)."""
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FileServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; honours Range; can cut transfers off."""

    def __init__(self):
        self.files = {}
        self.requests = []  # (path, Range header or None)
        self.cut_after = {}  # path -> bytes sent before the connection drops (once per entry)
        self.cut_always = {}  # path -> bytes sent before the connection drops (every time)
        self.no_range = set()  # paths served whole (HTTP 200) even to a Range request
        self.no_length = set()  # paths served without Content-Length (the end of the body is the connection's close)
        self.gzip_encoded = set()  # paths served with "Content-Encoding: gzip" (as some servers label a .tar.gz)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                if path not in server.files:
                    self.send_error(404)
                    return
                body = server.files[path]
                if path in server.no_range:
                    rng = None
                start = int(re.match(r"bytes=(\d+)-", rng).group(1)) if rng else 0
                if start >= len(body) and rng:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                if path in server.gzip_encoded:
                    self.send_header("Content-Encoding", "gzip")
                if path not in server.no_length:
                    self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                payload = body[start:]
                cut = server.cut_after.pop(path, server.cut_always.get(path))
                if cut is not None:
                    self.wfile.write(payload[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


# The files of the longest tests first: with --dist loadfile each file stays on one worker, and starting the
# long ones first keeps a worker from being left alone with one at the end (longest-first scheduling).
LONGEST_FIRST = ("test_slurm.py", "test_workflow.py", "test_gcn_robust.py", "test_knn_files.py", "test_small_data.py",
                 "test_gcn_knn_rules.py", "test_gcns.py", "test_lgcn.py", "test_gcnd.py", "test_growing_scales.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
