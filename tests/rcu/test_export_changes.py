"""Change files: the events after a cursor, resumable, projected for a subscriber."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gdpr.models import AccessLogEntry
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


def _download(client, **params):
    answer = client.get("/administration/events/file/", params)
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    return answer, body.decode("utf-8")


def test_an_admin_downloads_the_same_change_file_from_the_app(client, admin_user, crm, tmp_path, settings):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    subscription_create(name="mkt", target_url="http://127.0.0.1:9/hooks", purpose="marketing",
                        attributes=["city"], source="crm", acting_user=TEST_ACTOR, from_now=False)
    one(crm, "C-7", HELENE)
    one(crm, "C-8", {**HELENE, "first_name": "Paul", "email": "paul@orange.fr"})
    client.force_login(admin_user)
    answer, text = _download(client, subscriber="mkt", since="0", format="csv")
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="changes-mkt-after-0.csv"'
    export(tmp_path, "--format", "csv", "--subscriber", "mkt")
    from_command = (tmp_path / "changes.out").read_bytes().decode("utf-8")
    assert text == from_command  # the app and the command never disagree
    rows = list(csv.DictReader(StringIO(text)))
    assert {r["source_ids"] for r in rows} == {"C-7", "C-8"} and "email" not in rows[0]
    logged = AccessLogEntry.objects.filter(user=admin_user, purpose="change_file")
    assert logged.count() == 2  # one access-log row per customer in the file


def test_a_change_file_refuses_a_bad_cursor_and_anyone_but_admins(client, admin_user, steward_marketing, crm):
    one(crm, "C-7", HELENE)
    client.force_login(steward_marketing)
    assert client.get("/administration/events/file/", {"format": "jsonl"}).status_code == 403
    client.force_login(admin_user)
    answer = client.get("/administration/events/file/", {"since": "yesterday", "format": "jsonl"})
    assert answer.status_code == 400
    assert "ISO 8601" in answer.content.decode()
    answer, text = _download(client, since="0", format="jsonl")
    assert json.loads(text.splitlines()[0])["data"]["attributes"]["email"] == "helene.lefevre@orange.fr"
