"""The benchmark's account of missed true pairs, on a small matched base."""

from __future__ import annotations

import pytest

from bench.missed_pairs import missed_pairs
from tests.factories import ingest
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP

pytestmark = pytest.mark.django_db

LUCIE_CRM = {"first_name": "Lucie", "last_name": "Martin", "postcode": "13001", "city": "Marseille"}
# Lucie after her marriage and a move: only her first name is left in common.
LUCIE_ESHOP = {"first_name": "Lucie", "last_name": "Garnier", "postcode": "59000", "city": "Lille"}


def test_a_pair_sharing_only_a_first_name_is_missed_without_a_shared_key(
    crm, eshop, run_match, tmp_path
):
    ingest(crm, [{"id": "C1", **JEANNE}, {"id": "C2", **LUCIE_CRM}])
    ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}, {"id": "E2", **LUCIE_ESHOP}])
    run_match(full=True)
    (tmp_path / "truth.csv").write_text(
        "source,external_id,person_id\ncrm,C1,1\neshop,E1,1\ncrm,C2,2\neshop,E2,2\n"
    )

    report = missed_pairs(tmp_path)

    assert report["true_pairs"] == 2
    assert report["missed"] == 1  # Jeanne's two records are one customer
    assert report["missed_without_shared_key"] == 1
    assert report["missed_agreeing_on_one_field_or_none"] == 1
    assert report["of_which_without_shared_key"] == 1
    [vector] = report["top_vectors"]
    assert vector["missed"] == 1
    assert vector["levels"].startswith("first_name exact, last_name different")
    assert vector["probability"] < 0.5
