"""The project's settings for the test run, with a random SECRET_KEY when none is set.

Production refuses to start without SECRET_KEY; the suite (and every process a
test starts, which inherits the environment) gets a fresh random one instead.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from config.settings import *  # noqa: F403
