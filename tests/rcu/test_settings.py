from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from rcu.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a deployment would set: nothing inherited from the test run.
    inherited = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_only_debug_secret_and_hosts_set():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        env={
            "DEBUG": "False",
            "SECRET_KEY": "a-long-random-production-secret-3f9d8a7c6b5e4d3c2b1a0f9e8d7c6b5a",
            "ALLOWED_HOSTS": "rcu.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_with_debug_on():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env={"DEBUG": "True"})
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", env={"DEBUG": "False", "ALLOWED_HOSTS": "rcu.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_mistyped_boolean_is_an_error_not_false(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "Flase")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", True)


@pytest.mark.parametrize("raw, expected", [("1", True), ("yes", True), ("off", False), ("FALSE", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", not expected) is expected


def test_integers_and_lists_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("SOME_INT", "12x")
    with pytest.raises(ImproperlyConfigured, match="SOME_INT"):
        env_int("SOME_INT", 1)
    monkeypatch.setenv("SOME_LIST", " a.example, b.example ,")
    assert env_list("SOME_LIST") == ["a.example", "b.example"]


@pytest.mark.parametrize(("flag", "expected"), [(None, "True"), ("False", "False")])
def test_postgresql_binds_parameters_server_side_unless_turned_off(flag, expected):
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/rcu_settings_check"}
    if flag is not None:
        env["RCU_PG_SERVER_SIDE_BINDING"] = flag
    result = _manage(
        "shell", "-c",
        "from django.conf import settings; "
        "print(bool(settings.DATABASES['default'].get('OPTIONS', {}).get('server_side_binding')))",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
