"""Exit 0 when the local web server answers /healthz with 200: the container's health check.

Asks where config/gunicorn.py binds (WEB_BIND, else 127.0.0.1:PORT), a wildcard
address through loopback, with SITE_URL's host as the Host header so that
ALLOWED_HOSTS accepts it. Standard library only: it runs without Django.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def health_url() -> str:
    bind = os.environ.get("WEB_BIND", "").split(",")[0].strip()
    if not bind:
        bind = f"127.0.0.1:{os.environ.get('PORT') or 8000}"
    if bind.startswith(("unix:", "fd://")):
        sys.exit(f"cannot check {bind}: only a host:port bind")
    host, _, port = bind.rpartition(":")
    if host in {"", "0.0.0.0", "[::]"}:
        host = "127.0.0.1"
    return f"http://{host}:{port}/healthz"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect (say, to https) means the check never reached the view: unhealthy.
    def redirect_request(self, *args, **kwargs) -> None:
        return None


def main() -> int:
    site = urlsplit(os.environ.get("SITE_URL") or "http://127.0.0.1:8000")
    request = urllib.request.Request(health_url(), headers={"Host": site.netloc})
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"{request.full_url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{request.full_url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
