"""Every writer takes its row locks through one helper (`rcu.services.locks`), which
keeps the one lock order: a lock taken anywhere else could break it."""

from __future__ import annotations

import re
from pathlib import Path

import rcu.services.locks as locks

ROOT = Path(__file__).resolve().parents[2]
APPS = ("rcu", "stewardship", "gdpr")
# Rows that are not customer data, locked first by their own task or service; each is
# listed in the helper's docstring.
DOCUMENTED_EXCEPTIONS = {
    "rcu/services/imports.py": ["ImportJob"],
    "rcu/services/tokens.py": ["ApiToken"],
    "rcu/services/matching/batch.py": ["MatchRun", "MatchRunPartition"],
    "rcu/services/subscriptions.py": ["Subscription"],
    "rcu/services/deliveries.py": ["Subscription", "Delivery"],
    "rcu/services/snapshots.py": ["Subscription"],
    "rcu/services/match_admin.py": ["MatchSettings"],
    "rcu/services/survivorship.py": ["SurvivorshipSettings"],
    "gdpr/services/requests.py": ["SubjectRequest"],
    "gdpr/services/rectification.py": ["SubjectRequest"],
    "gdpr/services/restriction.py": ["SubjectRequest"],
    "gdpr/services/letters.py": ["RequestLetter"],
}
# SQL written by hand is upper case in this code base (`for share in shares` is Python).
LOCKING = re.compile(r"select_for_update|FOR (NO KEY )?UPDATE|FOR (KEY )?SHARE|LOCK TABLE|pg_advisory")


def _locking_lines() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "rcu/services/locks.py" or "/migrations/" in relative:
                continue
            lines = [line.strip() for line in path.read_text().splitlines() if LOCKING.search(line)]
            if lines:
                found[relative] = lines
    return found


def test_no_row_lock_is_taken_outside_the_lock_helper_but_the_documented_job_rows():
    found = _locking_lines()

    strays = {
        path: lines for path, lines in found.items() if path not in DOCUMENTED_EXCEPTIONS
    }
    assert not strays, f"row locks outside rcu/services/locks.py: {strays}"
    for path, lines in found.items():
        for line in lines:
            assert any(f"{model}.objects.select_for_update(" in line
                       for model in DOCUMENTED_EXCEPTIONS[path]), (path, line)


def test_the_documented_exceptions_are_the_ones_the_helper_lists():
    for path, models in DOCUMENTED_EXCEPTIONS.items():
        assert path in locks.__doc__
        for model in models:
            assert f"`{model}`" in locks.__doc__, model


def test_the_grep_would_see_a_stray_lock():
    assert LOCKING.search("Customer.objects.select_for_update().filter(pk=1)")
    assert LOCKING.search('cursor.execute("SELECT 1 FROM rcu_customer FOR UPDATE")')
