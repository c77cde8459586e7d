"""What Django's error reports show: no credentials, even on the DEBUG technical 500 page.

Django hides settings whose names look secret (KEY, TOKEN, PASS, …) but shows
DATABASE_URL, REDIS_URL, JSONFEED_URLS and SCRAPING_PROXY with their passwords,
and the same URLs again where they are copied (CACHES' LOCATION, Q_CLUSTER's
redis). So the filter also hides URL-ish and DSN/proxy names, and redacts every
other string it shows (settings, request.META, frame variables) as log lines are
(lib.logs.redact); the reporter redacts the finished page and text once more, for
secrets inside exception messages and the reprs of local variables.

`URLS?$` hides harmless ones too (SITE_URL, STATIC_URL): a name cannot tell an
operator's URL with credentials from one without, and the page loses little.
"""

from __future__ import annotations

import re

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from lib.logs import redact


class SafeErrorReportFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DSN|PROXY|URLS?$", flags=re.I
    )

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, redact(value) if isinstance(value, str) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class SafeErrorReporter(ExceptionReporter):
    """The technical 500 page and its text version, redacted as a whole.

    Both stay what Django's reporter returns, rendered text marked safe: redaction only
    puts the *** mask in place of secrets."""

    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_html(), escaped=True))

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))
