"""Secrets at rest and in transit (#17 item 7): API keys stored as digests (and the plaintext keys of earlier
versions hashed by a migration, still working), production settings with TLS on passing ``check --deploy``."""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from edgeorch.api import keys

from .support import ROOT

pytestmark = pytest.mark.django_db


def test_a_key_works_once_created_and_the_database_holds_none(client, alice):
    key = keys.create_key(alice)
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        stored = cursor.fetchall()
    assert len(stored) == 1 and all(key not in column for column in stored[0])
    # What the database holds does not authenticate: neither the digest nor the prefix is a key.
    for column in stored[0]:
        assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {column}").status_code == 401


def test_a_revoked_key_or_a_deactivated_user_is_refused(client, alice):
    key, other = keys.create_key(alice), keys.create_key(alice)
    assert keys.revoke_key(alice, key[:15]) == 1
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {other}").status_code == 200
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {other}").status_code == 401


def test_the_plaintext_tokens_of_earlier_versions_are_hashed_and_keep_working(client, alice):
    """DRF's ``authtoken_token`` table as an earlier version left it: the migration stores each key's digest,
    drops the table, and the key a script holds still authenticates."""
    old = secrets.token_hex(20)  # DRF's keys: 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL,"
            " user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, now() - interval '3 days', %s)", [old, alice.pk]
        )
    migration = importlib.import_module("edgeorch.api.migrations.0001_hash_drf_tokens")
    from django.apps import apps

    with connection.schema_editor() as editor:
        migration.hash_plaintext_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    (token,) = AuthToken.objects.filter(user=alice)
    assert old not in (token.digest, token.token_key)
    assert (timezone.now() - token.created).days == 3  # its age kept
    assert client.get("/api/devices/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 200


def deploy_check(**env: str) -> subprocess.CompletedProcess:
    """``manage.py check --deploy`` as production runs it: DEBUG off, a long random key, a real host name."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEORCH_TLS", "EDGEORCH_HSTS"))}
    base.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="edge.example.org")
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_production_settings_with_tls_pass_check_deploy_without_a_warning():
    done = deploy_check(EDGEORCH_TLS="true")
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)" in done.stdout


def test_without_tls_check_deploy_names_what_is_missing():
    done = deploy_check(EDGEORCH_TLS="false")
    assert done.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):  # HSTS, the HTTPS redirect, Secure cookies
        assert f"security.{warning}" in done.stderr


def test_tls_settings_trust_the_proxy_header_and_send_hsts(client, settings):
    """With TLS on behind a proxy: a request the proxy marks https is answered with HSTS, a plain one is
    redirected to https."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain.url.startswith("https://")
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200 and "max-age=31536000" in secure.headers["Strict-Transport-Security"]


def test_pages_carry_a_content_security_policy_whose_nonce_their_inline_script_has(client, alice):
    import re

    client.force_login(alice)
    response = client.post("/enroll/", {"name": "x", "max_uses": 1, "ttl_hours": 1, "role": "end"})
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert f'nonce="{nonce}"' in " ".join(scripts)
    assert all("src=" in attributes or f'nonce="{nonce}"' in attributes for attributes in scripts)


def test_a_deployments_secret_is_derived_not_stored(digits):
    """The data-plane secret agents receive is not in the database: an HMAC of the deployment's id under
    SECRET_KEY, the same in every process that has the key, different per deployment."""
    from edgeorch.jobs.models import Deployment

    one, two = (Deployment.objects.create(key=k, model=digits, stages=[], devices=[]) for k in ("a", "b"))
    assert len(one.secret) == 64 and one.secret != two.secret
    assert Deployment.objects.get(pk=one.pk).secret == one.secret
    columns = [
        c.name for c in connection.introspection.get_table_description(connection.cursor(), "jobs_deployment")
    ]
    assert "secret" not in columns
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM jobs_deployment WHERE id = %s", [one.pk])
        assert one.secret not in repr(cursor.fetchone())
