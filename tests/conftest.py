"""Shared fixtures: a loopback HTTP server with Range support, and small archives in the real layout."""
import hashlib
import io
import re
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
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


def make_tar(members: dict, mode="w:gz", links=()) -> bytes:
    """A tar archive (bytes) of name -> content; ``links`` adds (name, target, kind) link members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target, kind in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def dataset_archive(names=("toy_train", "toy_test"), dim=8, n=30, seed=0, prefix="data/") -> tuple[bytes, dict]:
    """An archive in the learn-to-cluster layout (under ``data/`` like the original) and its contents."""
    rng = np.random.default_rng(seed)
    members = {}
    for name in names:
        feats = rng.standard_normal((n, dim)).astype(np.float32)
        labels = rng.integers(0, 5, n)
        members[f"{prefix}features/{name}.bin"] = feats.tobytes()
        members[f"{prefix}labels/{name}.meta"] = ("\n".join(map(str, labels)) + "\n").encode()
    return make_tar(members), members


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
