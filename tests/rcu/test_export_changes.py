"""Change files: the events after a cursor, resumable, projected for a subscriber."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rcu.services.subscriptions import subscription_create
from tests.factories import TEST_ACTOR, ingest
from tests.stewardship.ledger import one

pytestmark = pytest.mark.django_db

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene.lefevre@orange.fr",
          "city": "Paris"}


def export(tmp_path, *args) -> tuple[str, str]:
    out = StringIO()
    call_command("export_changes", str(tmp_path / "changes.out"), *args, stdout=out)
    return (tmp_path / "changes.out").read_text(encoding="utf-8"), out.getvalue()


def test_changes_export_resumes_from_the_cursor_it_printed(tmp_path, crm):
    one(crm, "C1", HELENE)
    text, said = export(tmp_path, "--format", "jsonl")
    (first,) = [json.loads(line) for line in text.splitlines()]
    assert first["type"] == "customer.created" and first["data"]["attributes"]["city"] == "Paris"
    cursor = said.strip().splitlines()[-1].removeprefix("cursor: ")
    assert cursor == str(first["cursor"])

    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])
    text, _ = export(tmp_path, "--since", cursor)
    assert [json.loads(line)["type"] for line in text.splitlines()] == ["customer.updated"]


def test_a_subscribers_file_shows_only_what_it_may_receive(tmp_path, crm, settings):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    subscription_create(name="mkt", target_url="http://127.0.0.1:9/hooks", purpose="marketing",
                        attributes=["city"], source="crm", acting_user=TEST_ACTOR, from_now=False)
    one(crm, "C-7", HELENE)
    text, _ = export(tmp_path, "--format", "csv", "--subscriber", "mkt")
    (row,) = csv.DictReader(StringIO(text))
    assert row["city"] == "Paris" and "email" not in row and row["source_ids"] == "C-7"


def test_a_bad_cursor_is_refused_plainly(tmp_path):
    with pytest.raises(CommandError, match="--since"):
        export(tmp_path, "--since", "yesterday")
