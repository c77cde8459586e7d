"""The circuit breaker of each source: failing scans in a row pause it; the others go on.

After SCRAPING_BREAKER_FAILURES failed scans in a row (every fetch of the
cycle failed, whatever the exception, or the cycle itself crashed) the source
pauses for SCRAPING_BREAKER_PAUSE_SECONDS,
doubling with each further failure up to a day. One good scan closes it. The
state is a row per source, shown in the admin, where clearing "paused until"
resumes the source at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from scraping.models import SourceState

log = logging.getLogger(__name__)
LONGEST_PAUSE = timedelta(days=1)


def state_of(source: str) -> SourceState:
    return SourceState.objects.get_or_create(source=source)[0]


def record_success(source: str) -> None:
    SourceState.objects.update_or_create(
        source=source,
        defaults={
            "consecutive_failures": 0,
            "paused_until": None,
            "last_success_at": timezone.now(),
        },
    )


def record_failure(source: str, error: str) -> SourceState:
    state = state_of(source)
    state.consecutive_failures += 1
    state.last_error = error[:2000]
    beyond = state.consecutive_failures - settings.SCRAPING_BREAKER_FAILURES
    if beyond >= 0:
        pause = min(
            LONGEST_PAUSE, timedelta(seconds=settings.SCRAPING_BREAKER_PAUSE_SECONDS * 2**beyond)
        )
        state.paused_until = timezone.now() + pause
        log.error(
            "%s: %d failed scans in a row, pausing it for %s: %s",
            source,
            state.consecutive_failures,
            pause,
            error,
        )
    state.save()
    return state


def resume(sources: list[str]) -> None:
    """Close the breakers of `sources` now: a moderator's call."""
    SourceState.objects.filter(source__in=sources).update(paused_until=None, consecutive_failures=0)
    for source in sources:
        log.info("%s: resumed by staff", source)
