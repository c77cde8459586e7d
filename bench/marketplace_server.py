"""A fake marketplace for the freshness benchmark: new listings appear on the four markets at a
steady rate, and each market's search answers in that market's real format.

Searches behave like the sites': every word must appear in the title, newest
first, with each site's paging (Mercari page tokens, Yahoo! Auctions offsets,
PayPay Fleamarket offsets, Rakuma page numbers). An empty search is the
market's newest-first feed. The server remembers when each listing was
published, so the benchmark can time publication → alert.
"""

from __future__ import annotations

import html
import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from filters.text import normalize
from lib.markets import CHOOSABLE

MARKETS = CHOOSABLE


class FakeMarketplace:
    def __init__(
        self, titles: Iterator[str], rate: float, seed: int = 7, limit: int | None = None
    ) -> None:
        """Publish `rate` listings a second in all, and stop after `limit` of them if given."""
        self.titles, self.rate, self.rng, self.limit = titles, rate, random.Random(seed), limit
        self.finished = threading.Event()  # set once `limit` listings are out
        self.items: dict[str, list[dict]] = {market: [] for market in MARKETS}  # oldest first
        self.published: dict[tuple[str, str], float] = {}  # (market, id) → wall time
        self.requests: dict[str, int] = dict.fromkeys(MARKETS, 0)
        self._ids = itertools.count(10_000_000_000)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- publishing ---------------------------------------------------------------
    def start(self, publish: bool = True) -> None:
        """Serve; and publish now, or later with `start_publishing` (after the scanners are up)."""
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        if publish:
            self.start_publishing()

    def start_publishing(self) -> None:
        threading.Thread(target=self._publish, daemon=True).start()

    def stop_publishing(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()

    def _publish(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            if self.limit is not None and len(self.published) >= self.limit:
                self.finished.set()
                return
            market = self.rng.choice(MARKETS)
            number = next(self._ids)
            item_id = {
                "mercari": f"m{number}",
                "yahoo_auctions": f"x{number}",
                "paypay_fleamarket": f"z{number}",
                "rakuma": f"{number:032x}",
            }[market]
            title = next(self.titles)
            item = {"id": item_id, "title": title, "norm": normalize(title)}
            item["price"] = self.rng.randrange(3000, 150_000)
            with self._lock:
                self.items[market].append(item)
                self.published[(market, item_id)] = time.time()
            next_at += self.rng.expovariate(self.rate)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    # -- searching ----------------------------------------------------------------
    def search(self, market: str, keyword: str, offset: int, size: int) -> tuple[list[dict], int]:
        words = [normalize(word) for word in keyword.split()]
        with self._lock:
            self.requests[market] += 1
            found = [i for i in reversed(self.items[market]) if all(w in i["norm"] for w in words)]
        return found[offset : offset + size], len(found)

    # -- the HTTP side ------------------------------------------------------------
    def _handler(self):
        market_place = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/search/search":
                    body = market_place.yahoo(query)
                elif parts.path == "/api/v1/search":
                    body = market_place.paypay(query)
                elif parts.path == "/s":
                    body = market_place.rakuma(query)
                else:
                    return self._send(404, b"not found")
                self._send(200, body.encode())

            def do_POST(self) -> None:
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self._send(200, market_place.mercari(data).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def mercari(self, data: dict) -> str:
        token = data.get("pageToken") or "v1:0"
        page = int(token.split(":")[1])
        size = int(data.get("pageSize") or 120)
        items, total = self.search("mercari", data["searchCondition"]["keyword"], page * size, size)
        more = (page + 1) * size < total
        now = str(int(time.time()))
        return json.dumps(
            {
                "meta": {"nextPageToken": f"v1:{page + 1}" if more else "", "numFound": str(total)},
                "items": [
                    {
                        "id": i["id"],
                        "name": i["title"],
                        "price": str(i["price"]),
                        "status": "ITEM_STATUS_ON_SALE",
                        "created": now,
                        "thumbnails": [],
                        "itemType": "ITEM_TYPE_MERCARI",
                    }
                    for i in items
                ],
            },
            ensure_ascii=False,
        )

    def paypay(self, query: dict) -> str:
        offset, size = int(query.get("offset", 0)), int(query.get("results", 100))
        items, total = self.search("paypay_fleamarket", query.get("query", ""), offset, size)
        return json.dumps(
            {
                "totalResultsAvailable": total,
                "totalResultsReturned": len(items),
                "offset": offset,
                "items": [
                    {"id": i["id"], "title": i["title"], "price": i["price"], "itemStatus": "OPEN"}
                    for i in items
                ],
            },
            ensure_ascii=False,
        )

    def yahoo(self, query: dict) -> str:
        offset, size = int(query.get("b", 1)) - 1, int(query.get("n", 50))
        items, _ = self.search("yahoo_auctions", query.get("p", ""), offset, size)
        end = int(time.time()) + 7 * 86400
        rows = "".join(
            f'<li class="Product"><div class="Product__bonus" data-auction-id="{i["id"]}" '
            f'data-auction-price="{i["price"]}" data-auction-endtime="{end}"></div>'
            f'<a class="Product__titleLink" data-auction-id="{i["id"]}" '
            f'data-auction-title="{html.escape(i["title"])}" href="#">{html.escape(i["title"])}</a></li>'
            for i in items
        )
        return f'<div class="Products"><ul>{rows}</ul></div>'

    def rakuma(self, query: dict) -> str:
        page = int(query.get("page", 1))
        items, _ = self.search("rakuma", query.get("query", ""), (page - 1) * 40, 40)
        rows = "".join(
            f'<div class="item-box"><div class="item-box__image-wrapper">'
            f'<a href="https://item.fril.jp/{i["id"]}"><img data-original=""></a></div>'
            f'<p class="item-box__item-name"><span>{html.escape(i["title"])}</span></p>'
            f'<span itemprop="price" data-content="{i["price"]}">{i["price"]}</span></div>'
            for i in items
        )
        return f"<div>{rows or '該当する商品が見つかりません'}</div>"
