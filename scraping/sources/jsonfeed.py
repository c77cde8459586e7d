"""The jsonfeed source: listings as JSON Lines (the `import_listings` format) from a URL or a file.

For partners who publish their own listings, and for tests. Every cycle reads
the whole feed; listings already seen are recognised by market and id and
never alert twice. A bad line is skipped, counted and logged with its number.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from lib.errors import ValidationFailed
from lib.jsonl import LineError, parse_jsonl
from listings.records import parse_listing
from scraping.http import FetchRequest, SourceClient
from scraping.sources.base import Page

log = logging.getLogger(__name__)

CODE = "jsonfeed"


def parse(body: str | bytes) -> Page:
    """The feed's listings; each bad line is counted as broken and logged with its problems."""
    page = Page()
    for number, item in parse_jsonl(body):
        if not isinstance(item, LineError):
            try:
                page.records.append(parse_listing(item))
                continue
            except ValidationFailed as failed:
                item = LineError(number, "", str(failed))  # "field: problem; field: problem"
        page.broken += 1
        log.warning("jsonfeed line %d skipped: %s", number, item.detail)
    return page


def read(location: str, client: SourceClient) -> Page:
    """The feed at an http(s) URL (fetched politely) or in a local file."""
    if urlsplit(location).scheme in {"http", "https"}:
        return parse(client.fetch(FetchRequest(location, location)))
    return parse(Path(location).read_bytes())
