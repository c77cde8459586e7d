"""Security: CSP and hardening headers on every page, CSRF on every form, https settings from SITE_URL."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from tests.builders import make_filter, make_user
from tests.conftest import ROOT

# The settings derived from the environment, printed by a fresh process (settings.py only
# runs once per process, so the test's own settings cannot show what another env gives).
DERIVED = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "CSRF_TRUSTED_ORIGINS",
]
PRINT_DERIVED = (
    "import json, django; django.setup(); from django.conf import settings; "
    f"print(json.dumps({{name: getattr(settings, name) for name in {DERIVED!r}}}))"
)


def production_env(**env: str) -> dict[str, str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SITE_URL", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "HSTS_SECONDS"}
    }
    return environment | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": "/nonexistent/.env",  # a developer's own .env must not change the result
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "alerts.example.com",
        "DATABASE_URL": "sqlite:////tmp/security-never-created.sqlite3",
        **env,
    }


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def derived(**env: str) -> dict:
    done = run(["-c", PRINT_DERIVED], **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_check_deploy_is_clean_with_production_settings():
    done = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SITE_URL="https://alerts.example.com",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout + done.stderr


def test_an_https_site_gets_the_ssl_redirect_secure_cookies_and_hsts():
    values = derived(SITE_URL="https://alerts.example.com")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://alerts.example.com"]


def test_an_http_site_works_over_plain_http_even_with_debug_false():
    values = derived(SITE_URL="http://127.0.0.1:8000")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_hsts_seconds_and_the_proxy_header_come_from_the_environment():
    values = derived(
        SITE_URL="https://alerts.example.com",
        HSTS_SECONDS="600",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        CSRF_TRUSTED_ORIGINS="https://www.alerts.example.com",
    )
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["CSRF_TRUSTED_ORIGINS"] == [
        "https://alerts.example.com",
        "https://www.alerts.example.com",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SITE_URL": "alerts.example.com"}, "SITE_URL must be an http:// or https:// address"),
        ({"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"}, "SECURE_PROXY_SSL_HEADER must be"),
    ],
)
def test_a_malformed_security_setting_is_refused_by_name(env, message):
    done = run(["-c", PRINT_DERIVED], **env)
    assert done.returncode != 0
    assert message in done.stderr


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_hardened(response) -> None:
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no eval
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_every_page_carries_the_csp_and_the_hardening_headers():
    client = Client()
    assert_hardened(client.get("/"))
    assert_hardened(client.get("/api/v1/schema/"))
    client.force_login(make_user())
    assert_hardened(client.get("/filters/new/"))
    assert_hardened(client.get("/"))


@pytest.mark.django_db
def test_sign_in_may_redirect_to_discord_after_its_form_post(settings):
    settings.DISCORD_API_BASE = "http://127.0.0.1:9999/api/v10"
    response = Client().get("/")
    assert directives(response)["form-action"] == ["'self'", "http://127.0.0.1:9999"]


@pytest.mark.django_db
def test_the_api_docs_render_with_a_csp_that_allows_swagger_ui():
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    csp = directives(response)
    assert "'unsafe-inline'" in csp["style-src"]  # the page's own <style>
    assert "data:" in csp["img-src"]  # Swagger UI's icons
    assert csp["script-src"] == ["'self'"]  # its start-up script is a file of its own
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", response.content.decode())
    script = Client().get("/api/v1/docs/?script=")
    assert script.status_code == 200


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.IGNORECASE | re.DOTALL)


@pytest.mark.django_db
def test_pages_have_no_inline_script_and_every_post_form_has_a_csrf_token():
    user = make_user()
    made = make_filter(user, "Rick Owens", brands=["Rick Owens"])
    client = Client()
    client.force_login(user)
    pages = ["/", "/filters/new/", f"/filters/{made.pk}/edit/", f"/filters/{made.pk}/delete/"]
    pages += ["/alerts/", "/settings/", "/accounts/"]
    post_forms = 0
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        # The CSP refuses inline script, so a page must have none (the preview is a file).
        assert "'unsafe-inline'" not in directives(response)["script-src"], page
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), page
        assert not re.search(r"<[^>]+\son[a-z]+=", html, re.IGNORECASE), page  # no onclick=…
        for form in FORM.findall(html):
            if re.search(r"method=[\"']?post", form, re.IGNORECASE):
                post_forms += 1
                assert "csrfmiddlewaretoken" in form, (page, form[:200])
    assert post_forms >= 3


@pytest.mark.django_db
def test_an_admin_login_post_behind_a_tls_proxy_passes_the_csrf_origin_check(
    django_user_model,
):
    # The settings settings.py derives for an https site behind a proxy, applied here.
    values = derived(
        SITE_URL="https://alerts.example.com",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    django_user_model.objects.create_superuser(
        "moderator", "", "a long passphrase 42", discord_id="1"
    )
    client = Client(enforce_csrf_checks=True)
    proxied = {
        "HTTP_HOST": "alerts.example.com",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_ORIGIN": "https://alerts.example.com",
    }
    with override_settings(ALLOWED_HOSTS=["alerts.example.com"], **values):
        form = client.get("/admin/login/", **proxied)
        assert form.status_code == 200  # not redirected to https: the proxy said it was https
        token = client.cookies["csrftoken"].value
        response = client.post(
            "/admin/login/?next=/admin/",
            {
                "username": "moderator",
                "password": "a long passphrase 42",
                "csrfmiddlewaretoken": token,
            },
            HTTP_REFERER="https://alerts.example.com/admin/login/",
            **proxied,
        )
    assert b"Origin checking failed" not in response.content
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_a_refused_host_and_a_static_file_carry_the_headers_too(settings):
    refused = Client().get("/", HTTP_HOST="evil.example")
    assert refused.status_code == 400
    assert_hardened(refused)

    settings.WHITENOISE_USE_FINDERS = True  # serve from the apps' static folders, as `make run`
    settings.WHITENOISE_AUTOREFRESH = True
    static = Client().get("/static/css/site.css")
    assert static.status_code == 200
    assert_hardened(static)
