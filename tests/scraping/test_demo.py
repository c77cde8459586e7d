"""The demo that `make run` loads: a staff login, users with filters, listings that alert."""

from __future__ import annotations

import re

import pytest
from django_q.models import Schedule

from alerts.models import Alert
from filters.models import Filter
from listings.models import Listing
from scraping.tasks import replay_demo_listings
from users.models import User

pytestmark = pytest.mark.django_db


def test_loaddemo_prints_a_working_login_and_queues_alerts(run_command):
    status, out, _ = run_command("loaddemo")
    assert status == 0
    password = re.search(r"username “demo”, password “(.+?)”", out).group(1)
    staff = User.objects.get(username="demo")
    assert staff.is_staff and staff.check_password(password)
    assert Filter.objects.count() == 7
    assert Listing.objects.filter(market="demo").count() == 30
    assert Alert.objects.filter(status="pending").count() > 0
    assert Schedule.objects.filter(name="demo listings").count() == 1


def test_loaddemo_twice_changes_only_the_password(run_command):
    run_command("loaddemo")
    filters = list(Filter.objects.order_by("pk").values())
    alerts = Alert.objects.count()
    status, _, _ = run_command("loaddemo")
    assert status == 0
    assert list(Filter.objects.order_by("pk").values()) == filters
    assert Alert.objects.count() == alerts
    assert Listing.objects.count() == 30
    assert Schedule.objects.filter(name="demo listings").count() == 1


def test_the_demo_replays_the_bundle_and_then_starts_over_with_new_ids(run_command):
    run_command("loaddemo")
    replay_demo_listings(count=215)  # 30 + 215 = the 240 bundled listings and 5 more
    assert Listing.objects.filter(market="demo").count() == 245
    assert Listing.objects.filter(external_id="demo-0001~2").exists()
    assert not Listing.objects.filter(external_id="demo-0006~2").exists()
