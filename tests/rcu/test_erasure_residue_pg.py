"""The residue test on PostgreSQL: after an erasure, a dump of the whole database, the
media folder and the log files hold none of the person's canary values, in any form
(raw, lower-case, unaccented, E.164, national); the neighbour of the same surname in
the same town and the other people's rows of the shared files are untouched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import TestCase

from rcu.roles import Role
from rcu.services.erasure import persons_erase
from tests.factories import make_user
from tests.rcu.erasure_scenario import (
    canaries_in,
    neighbour_snapshot,
    residue_in_files,
    seed_person,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump of the test database; needs DATABASE_URL"
)


def _dump() -> str:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["pg_dump", "--data-only", "--no-owner", "-h", db.get("HOST") or "127.0.0.1",
               "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres", db["NAME"]]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def _log_files() -> list[Path]:
    folder = Path(settings.BASE_DIR) / "var"
    return [p for p in folder.rglob("*.log")] if folder.exists() else []


@pytest.mark.django_db(transaction=True)
def test_after_an_erasure_the_database_dump_media_and_logs_hold_no_canary(sources, media_root):
    dpo = make_user("dpo_residue", roles=[Role.DPO])
    scenario = seed_person(sources, media_root)
    before = canaries_in(_dump())
    assert before, "the scenario must spread the person's values before the erasure"

    with TestCase.captureOnCommitCallbacks(execute=True):
        report = persons_erase(customer_ids=[scenario.person_customer_id], acting_user=dpo)

    dump = _dump()
    assert canaries_in(dump) == []
    assert residue_in_files(media_root) == {}
    for log in _log_files():
        assert canaries_in(log.read_text(errors="replace")) == [], log
    assert neighbour_snapshot(scenario.neighbour_customer_id) == scenario.neighbour_state
    assert "claire.martin@example.org" in dump and "Martin" in dump
    rejects = scenario.rejects_path.read_text(encoding="utf-8")
    assert "jeanne.martin@example.org" in rejects
    assert "C-3004" in scenario.upload_path.read_text(encoding="utf-8")
    print("\nerasure report:", report.totals())
