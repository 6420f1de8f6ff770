"""Blocking keys are stored as they are made, whatever characters they hold, by COPY
(many) or by INSERT (few)."""

from __future__ import annotations

import pytest

from rcu.engine.blocking import key_bucket
from rcu.models import MatchKey
from rcu.services.matching.keys import COPY_MIN_ROWS, match_keys_write
from tests.factories import ingest
from tests.rcu.matching_db.people import JEANNE

pytestmark = pytest.mark.django_db

AWKWARD = ["ln:back\\slash", "ln:tab\there", "ln:new\nline", "ln:cr\rhere", "ln:\\N", "ln:plain é ß"]


@pytest.mark.parametrize("copies", [COPY_MIN_ROWS, 1], ids=["many (COPY on PostgreSQL)", "few"])
def test_keys_with_copy_special_characters_are_stored_exactly(crm, copies):
    [record] = ingest(crm, [{"id": "C1", **JEANNE}])
    MatchKey.objects.all().delete()
    keys = [f"{key}:{i}" for i in range(copies) for key in AWKWARD][: max(copies, len(AWKWARD))]

    match_keys_write(records=[(record.pk, keys)], queue=False)

    stored = set(MatchKey.objects.values_list("bucket", "key", "record_id"))
    assert stored == {(key_bucket(k), k, record.pk) for k in keys}
