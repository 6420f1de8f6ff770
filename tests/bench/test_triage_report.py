"""The triage bench: its figures against the demo truth, and its report."""

from __future__ import annotations

import pytest

from bench.triage import measure, results_table
from rcu.models import PendingMatch
from stewardship.models import MergeCandidate
from tests.stewardship.builders import candidate_between, person


@pytest.mark.django_db
def test_the_share_of_true_duplicates_is_counted_against_the_truth(settings, crm, eshop, tmp_path):
    settings.RCU_MATCH_AFTER_IMPORT = False
    same = candidate_between(crm, person("C-1"), eshop, person("E-1"))
    different = candidate_between(crm, person("C-2", first_name="Léa"), eshop, person("E-2", first_name="Léo"))
    PendingMatch.objects.all().delete()
    MergeCandidate.objects.filter(pk=same.pk).update(triage=0)
    MergeCandidate.objects.filter(pk=different.pk).update(triage=2, probability=1.0)
    truth = tmp_path / "truth.csv"
    truth.write_text("source,external_id,person_id\ncrm,C-1,1\neshop,E-1,1\ncrm,C-2,2\neshop,E-2,3\n")
    result = measure(truth)
    marketing = result["departments"]["marketing"]
    assert marketing["triage"] == {"shown": 2, "true_duplicates": 0.5, "different_people": 0.5}
    assert result["worst_different_people"] == 0.5 and not result["meets_targets"]
    result["persons"] = 4
    table = results_table(result)
    assert "| marketing | 2 | 50% | 50% |" in table
