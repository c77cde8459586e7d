"""The project's settings for the test run, with a random SECRET_KEY when none is set.

Production refuses to start without SECRET_KEY; the suite (and every process a
test starts, which inherits the environment) gets a fresh random one instead.
"""

import os
import secrets
import tempfile

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
# One metrics directory per test run, shared by the processes the tests start.
os.environ.setdefault("METRICS_DIR", tempfile.mkdtemp(prefix="market-alerts-metrics-"))

from config.settings import *  # noqa: F403
from config.settings import DATABASES

# A second alias on the test database, as a replica is to the primary, but no router: only
# tests/config/test_replica.py, which installs it, sends reads through it.
if "replica" not in DATABASES:
    DATABASES["replica"] = {
        **DATABASES["default"],
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},
    }
