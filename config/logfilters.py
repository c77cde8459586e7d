"""Logging filters used by `LOGGING` in config/settings.py."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """A 4xx response is logged once, by its request's own line (`web.request`, which names
    its status): Django's line for it ("Not Found: …", "Forbidden (Permission denied): …",
    with the traceback of the check that refused) is dropped. A security refusal
    (`django.security.*`: a Host not allowed, a body over the limit) keeps its one line,
    without the traceback, since it says what was refused. A 5xx keeps Django's line and
    its traceback: that one is our bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not (record.name.startswith("django.") and isinstance(status, int)):
            return True
        if not 400 <= status < 500:
            return True
        if record.name.startswith("django.security."):
            record.exc_info, record.exc_text = None, None
            return True
        return False
