"""`manage.py qcluster`: django-q2's cluster and the market pollers, stopping within seconds.

Besides django-q2's cluster (sends, digests, retention), it runs one poller
thread per source in SCRAPING_SOURCES (scraping/pollers.py): each market is
read at an even pace by a poller that holds its lease, so no scan parks a
worker. On a signal the pollers stop between fetches and hand their leases
back, within the same deadline as the cluster.

django-q2's own command can hang forever on a process group's SIGTERM (as
`make run`, systemd and container runtimes send it): the signal kills the
sentinel while it waits on the stop event, and the main process then blocks
setting that event. This command runs the same cluster, but on a signal it
asks the cluster to stop in a background thread and waits at most
`--stop-timeout` seconds for it (6 by default, so that the whole stop stays
well under 10 s on a loaded machine); whatever is still running then is
killed. Nothing is lost that matters: a stopped poller's market is read again
by the next poller to take its lease,
sends are driven by the outbox, and the ORM broker hands an unacknowledged
task out again after Q_CLUSTER["retry"].

Listed before django_q in INSTALLED_APPS, so it replaces django-q2's command.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.cluster import Cluster

from lib.processes import descendants, kill_all, stop_on_signals
from scraping.pollers import Pollers

log = logging.getLogger("scraping.qcluster")


class Command(BaseCommand):
    help = "Run the django-q2 cluster and the market pollers; stops within seconds on SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=6.0,
            help="seconds to wait for running tasks on SIGTERM before killing them",
        )

    def handle(self, *args, stop_timeout: float = 6.0, **options) -> None:
        cluster = Cluster()
        stopping = threading.Event()

        # Installed after Cluster() so they replace django-q2's own handlers. Its signal
        # thread, already running when the cluster forks, holds no lock while it waits.
        stop_on_signals(stopping, log, "stopping the cluster")
        cluster.start()
        broker = "Redis" if "redis" in settings.Q_CLUSTER else "the database (ORM)"
        workers = settings.Q_CLUSTER["workers"]
        log.info("cluster running: %s workers, tasks through %s", workers, broker)
        # The pollers' threads only after the cluster has forked its processes.
        pollers = Pollers(settings.SCRAPING_SOURCES)
        pollers.start()
        while not stopping.wait(0.5):
            if not cluster.sentinel.is_alive():
                log.error("the cluster's sentinel exited with code %s", cluster.sentinel.exitcode)
                self._finish(stop_timeout, status=1, pollers=pollers)
        self._finish(stop_timeout, status=0, cluster=cluster, pollers=pollers)

    def _finish(
        self,
        timeout: float,
        status: int,
        cluster: Cluster | None = None,
        pollers: Pollers | None = None,
    ) -> None:
        deadline = time.monotonic() + timeout
        stopping_pollers = None
        if pollers is not None:
            # Beside the cluster's stop, not before it: both share the deadline, the pollers
            # a second less so that a stuck one's lease is handed back before the exit.
            stopping_pollers = threading.Thread(
                target=pollers.stop, args=(max(0.5, timeout - 1.0),), daemon=True
            )
            stopping_pollers.start()
        if cluster is not None and cluster.sentinel.is_alive():
            # stop() may block forever if the sentinel died meanwhile: run it where it can't hold us.
            threading.Thread(target=cluster.stop, daemon=True).start()
            while cluster.sentinel.is_alive() and time.monotonic() < deadline:
                time.sleep(0.1)
        if stopping_pollers is not None:
            stopping_pollers.join(max(0.0, deadline - time.monotonic()))
        left = descendants(os.getpid())
        if left:
            log.warning(
                "killing %d cluster processes still running after %.0fs", len(left), timeout
            )
            kill_all(left)
        log.info("cluster stopped")
        sys.stdout.flush()
        sys.stderr.flush()
        # Skip multiprocessing's exit handler, which would join the (possibly dead) sentinel again.
        os._exit(status)
