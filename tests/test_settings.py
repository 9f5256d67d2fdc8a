"""Start-up refuses bad configuration and names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env):
    """Import portal.settings in a fresh interpreter with only the given variables set."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_run_for_development():
    result = load_settings(DEBUG="", SECRET_KEY="", ALLOWED_HOSTS="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_production_without_secret_key_refuses_to_start():
    result = load_settings(DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="kepu.example.cn")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = load_settings(DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "localhost:6379"),
        ("EMAIL_PORT", "abc"),
    ],
)
def test_a_malformed_variable_is_named_in_the_error(variable, value):
    result = load_settings(**{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_postgres_connections_persist_with_health_checks():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['ENGINE'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": "postgres://u@h:5432/db",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["600", "True", "django.db.backends.postgresql"]
