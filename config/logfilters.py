"""Logging filters used by `LOGGING` in config/settings.py."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """Log a 4xx response as its one line, without the traceback of the exception behind it.

    Django logs a 403 (a staff member without the permission, a read-only page
    posted to) or a 400 with the PermissionDenied or SuspiciousOperation it turned
    into the response; that traceback only shows the check that refused, on
    purpose. A 5xx keeps its traceback: that one is our bug.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
