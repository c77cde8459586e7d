from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Reply:
    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeMarketplace:
    """A marketplace on 127.0.0.1: each path answers its queued replies in turn, repeating the
    last one; every request is recorded."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (path, query, headers)
        self._lock = threading.Lock()
        marketplace = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                marketplace.answer(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                marketplace.answer(self)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, path: str, *replies: Reply) -> None:
        self.replies[path] = list(replies)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        with self._lock:
            self.requests.append((path, query, dict(handler.headers)))
            queue = self.replies.get(path) or [Reply(b"not found", 404)]
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        time.sleep(reply.delay)
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def marketplace(settings):
    server = FakeMarketplace()
    settings.MARKETPLACE_BASE_URLS = {
        code: server.url for code in ("mercari", "yahoo_auctions", "paypay_fleamarket", "rakuma")
    }
    settings.SCRAPING_REQUESTS_PER_MINUTE = 6000
    settings.SCRAPING_TIMEOUT_SECONDS = 0.5
    settings.SCRAPING_RETRIES = 2
    yield server
    server.close()
