"""Ingest takes the filter index before its transaction, so a rebuild holds no writer lock."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from django.db import connection

from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user


class _WhileIndexing(logging.Handler):
    """At the moment the index is built or patched, can another process write?"""

    def __init__(self) -> None:
        super().__init__()
        self.others_could_write: list[bool] = []

    def emit(self, record: logging.LogRecord) -> None:
        if connection.vendor != "sqlite":
            # PostgreSQL writers don't share one lock; being outside a transaction is
            # what keeps the batch's row locks from being held through a rebuild.
            self.others_could_write.append(not connection.in_atomic_block)
            return
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            self.others_could_write.append(True)
        except sqlite3.OperationalError:  # database is locked
            self.others_could_write.append(False)
        finally:
            other.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_index_is_built_before_the_ingest_transaction_takes_the_writer_lock():
    alice = make_user()
    make_filter(alice, brands=["Sacai"])  # the index is stale: the ingest must build it
    watcher = _WhileIndexing()
    logger = logging.getLogger("filters.matching")
    logger.addHandler(watcher)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        result = ingest_listings([listing("sacai knit")])
    finally:
        logger.removeHandler(watcher)
        logger.setLevel(level)
    assert result.alerts == 1
    assert watcher.others_could_write and all(watcher.others_could_write)
