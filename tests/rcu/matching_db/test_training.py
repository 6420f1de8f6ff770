"""Learning the model from the base: the u of shared e-mails is counted, not sampled."""

from __future__ import annotations

import pytest

from rcu.engine.comparators import COMPARISONS
from rcu.engine.fellegi_sunter import Model
from rcu.services.matching.context import match_context
from rcu.services.matching.pairs import oversized_keys, shared_key_counts
from rcu.services.matching.training import model_train
from tests.factories import ingest

pytestmark = pytest.mark.django_db

EMAIL = [c.name for c in COMPARISONS].index("email")
EXACT = COMPARISONS[EMAIL].levels.index("exact")


def _people(crm, *, shared_family_email: bool):
    """Fifteen people with two records each (same e-mail), and ten relatives who share
    one family address or each have their own."""
    rows = []
    for i in range(15):
        person = {"first_name": f"Prénom{i}", "last_name": f"Nom{i}", "email": f"client{i}@free.fr"}
        rows += [{"id": f"P{i}a", **person}, {"id": f"P{i}b", **person}]
    for i in range(10):
        email = "famille.durand@free.fr" if shared_family_email else f"maison{i}.durand@free.fr"
        rows.append({"id": f"D{i}", "first_name": f"Enfant{i}", "last_name": "Durand", "email": email})
    return ingest(crm, rows)


def _trained_email_u(max_block_size: int) -> float:
    counts = shared_key_counts(2)
    model, report = model_train(
        context=match_context(), oversized=oversized_keys(max_block_size, counts), key_counts=counts
    )
    assert report.pairs > 0
    return Model.from_dict(model).u[EMAIL][EXACT]


def test_an_oversized_block_of_one_email_counts_its_pairs_as_non_matches(crm):
    _people(crm, shared_family_email=True)
    # Ten records share the family address: a block over 5 is never compared.
    u = _trained_email_u(max_block_size=5)
    possible = 40 * 39 / 2
    assert u >= 45 / possible  # the 45 pairs of the family block, every record has an e-mail


def test_where_no_two_people_share_an_email_its_u_is_one_pair_in_all_pairs(crm):
    _people(crm, shared_family_email=False)
    u = _trained_email_u(max_block_size=300)
    # EM finds the fifteen duplicates to be matches and nobody else shares an address:
    # no non-match but the one pseudo-pair, among the 780 pairs of 40 records. Random
    # pairs would count as non-matches the duplicates they draw.
    assert u == pytest.approx(1 / 780, rel=0.01)


def test_a_small_base_tries_to_learn_again_only_once_it_has_doubled(crm, run_match, monkeypatch):
    """Too few blocked pairs keep the old model; a run of the next few records must not
    pay for training in vain again (it did, about 2 s per steward decision's run)."""
    from rcu.services.matching import batch
    from rcu.services.matching.context import match_settings_get

    settings = match_settings_get()
    settings.model_frozen, settings.model, settings.model_trained_at = False, None, None
    settings.save()
    trainings = []
    real_train = batch.model_train
    monkeypatch.setattr(batch, "model_train", lambda **kw: trainings.append(1) or real_train(**kw))

    def people(first: int, count: int):
        ingest(crm, [
            {"id": f"P{i}", "first_name": f"Prénom{i}", "last_name": f"Nom{i}", "email": f"client{i}@free.fr"}
            for i in range(first, first + count)
        ])

    people(0, 10)
    assert "too few to learn" in run_match().message
    assert len(trainings) == 1
    people(10, 5)  # 15 records: less than twice the 10 it tried with
    assert "model" not in run_match().message
    assert len(trainings) == 1
    people(15, 5)  # 20 records: the base has doubled
    assert "too few to learn" in run_match().message
    assert len(trainings) == 2
    assert match_settings_get().model_trained_at is None
def test_a_model_learnt_for_other_comparisons_is_learnt_again_by_the_next_run():
    """After an upgrade that changes the comparisons, the stored model no longer fits:
    the next run learns again, even a run of the waiting records in a base no larger
    than the one the stored model was learnt from."""
    from django.utils import timezone

    from rcu.engine.fellegi_sunter import default_model
    from rcu.services.matching.batch import model_to_learn
    from rcu.services.matching.context import match_settings_get

    settings = match_settings_get()
    settings.model_trained_at = timezone.now()
    settings.model = {**default_model(COMPARISONS).to_dict(), "records": 1_000}
    assert not model_to_learn(settings, full=False, records_now=1_000)
    settings.model["comparisons"][0]["name"] = "given_name"  # another engine's model
    assert model_to_learn(settings, full=False, records_now=1_000)
