"""Nobody signs up with a password: accounts come from Discord, staff sign in at /admin/."""

from __future__ import annotations

import pytest

from users.models import User

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
FORM = {
    "username": "intruder",
    "email": "intruder@example.com",
    "password1": "a-long-unusual-passphrase-42",
    "password2": "a-long-unusual-passphrase-42",
}


def test_signup_is_closed_and_creates_nobody_while_staff_still_sign_in(client):
    # SOCIALACCOUNT_ONLY: allauth serves no password signup page at all.
    assert client.get(SIGNUP).status_code == 404
    posted = client.post(SIGNUP, FORM)
    assert posted.status_code < 500
    assert not User.objects.exists()

    staff = User.objects.create_user("moderator", password=FORM["password1"])
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    answer = client.post(
        "/admin/login/?next=/admin/", {"username": "moderator", "password": FORM["password1"]}
    )
    assert answer.status_code == 302 and answer.url == "/admin/"


def test_mail_goes_to_the_console_unless_a_backend_is_set(manage_py):
    show = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    default = manage_py("shell", "-v", "0", "-c", show, env={"EMAIL_BACKEND": ""})
    out, err = default.communicate(timeout=60)
    assert default.returncode == 0, err
    assert out.strip() == "django.core.mail.backends.console.EmailBackend"
    chosen = "django.core.mail.backends.smtp.EmailBackend"
    configured = manage_py("shell", "-v", "0", "-c", show, env={"EMAIL_BACKEND": chosen})
    out, err = configured.communicate(timeout=60)
    assert configured.returncode == 0, err
    assert out.strip() == chosen
