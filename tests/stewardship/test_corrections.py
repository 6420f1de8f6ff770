"""Correcting golden values by hand (`customer_values_correct`): a typed value pinned
with who and why, that survives source updates until a steward changes or unpins it;
a DPO's rectification is the same act, that only the DPO may change afterwards."""

from __future__ import annotations

import pytest

from rcu.models import ChangeEvent, Customer
from rcu.survivorship import RULE_TYPED
from stewardship.models import Decision
from stewardship.services.corrections import CorrectionOrigin, customer_values_correct
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.unmerge import decision_undo
from tests.factories import ingest

pytestmark = pytest.mark.django_db

HELENE = {
    "id": "CRM-1", "first_name": "Hélène", "last_name": "Lefèvre", "birth_date": "1984-03-12",
    "email": "helene.lefevre@orange.fr", "mobile": "06 12 34 56 78",
    "address_line1": "12 rue de la Paix", "postcode": "75002", "city": "Paris", "country": "FR",
    "updated": "2024-05-03 10:00",
}


@pytest.fixture
def helene(crm) -> Customer:
    (record,) = ingest(crm, [HELENE])
    return record.customer


def correct(customer, user, **values):
    reason = values.pop("reason", "she called to give her new e-mail")
    origin = values.pop("origin", CorrectionOrigin.CORRECTION)
    return customer_values_correct(customer_id=customer.pk, values=values, reason=reason,
                                   origin=origin, acting_user=user)


def test_a_corrected_value_becomes_golden_with_who_and_why(helene, steward_marketing):
    decision = correct(helene, steward_marketing, email="Helene.Martin@Gmail.com")
    helene.refresh_from_db()
    assert helene.email == "helene.martin@gmail.com"  # normalised as at ingestion
    provenance = helene.provenance["email"]
    assert provenance["rule"] == RULE_TYPED and provenance["origin"] == "correction"
    assert provenance["by"] == steward_marketing.pk
    assert provenance["reason"] == "she called to give her new e-mail"
    assert provenance["source"] is None
    assert decision.kind == Decision.Kind.CORRECT and decision.decided_by == steward_marketing
    assert helene.pinned["email"]["value"] == "helene.martin@gmail.com"


def test_the_correction_survives_a_source_update_and_recomputation(crm, helene, steward_marketing):
    correct(helene, steward_marketing, email="helene.martin@gmail.com")
    ingest(crm, [{**HELENE, "email": "h.lefevre@orange.fr", "updated": "2024-09-01 10:00"}])
    helene.refresh_from_db()
    assert helene.email == "helene.martin@gmail.com"


def test_null_unpins_and_survivorship_decides_again(helene, steward_marketing):
    correct(helene, steward_marketing, email="helene.martin@gmail.com")
    correct(helene, steward_marketing, email=None, reason="the new address bounced")
    helene.refresh_from_db()
    assert helene.email == "helene.lefevre@orange.fr"
    assert "email" not in helene.pinned
    assert helene.provenance["email"]["source"] == "crm"


def test_the_name_key_follows_the_corrected_name(helene, steward_marketing):
    correct(helene, steward_marketing, last_name="  Martin ")
    helene.refresh_from_db()
    assert helene.last_name == "Martin" and helene.last_name_key == "martin"


def test_the_address_is_corrected_as_one_block(helene, steward_marketing):
    correct(helene, steward_marketing, address_line1="3 rue des Lilas", postcode="69003",
            city="Lyon")
    helene.refresh_from_db()
    assert (helene.address_line1, helene.postcode, helene.city, helene.country) == (
        "3 rue des Lilas", "69003", "Lyon", "FR")
    assert all(helene.pinned[n]["origin"] == "correction" for n in
               ("address_line1", "address_line2", "postcode", "city", "country"))


def test_the_address_block_is_unpinned_whole_never_half(helene, steward_marketing):
    correct(helene, steward_marketing, city="Lyon", postcode="69003")
    with pytest.raises(DecisionInvalid) as refused:
        correct(helene, steward_marketing, city=None, postcode="69002")
    assert refused.value.field in ("city", "postcode")
    correct(helene, steward_marketing, city=None)
    helene.refresh_from_db()
    assert helene.city == "Paris" and not any(n in helene.pinned for n in ("postcode", "city"))


@pytest.mark.parametrize(("name", "value"), [
    ("email", "not-an-address"), ("mobile", "12"), ("birth_date", "31/02/1990"),
])
def test_a_value_ingestion_would_reject_is_refused_naming_the_field(
    helene, steward_marketing, name, value,
):
    with pytest.raises(DecisionInvalid) as refused:
        correct(helene, steward_marketing, **{name: value})
    assert refused.value.field == name
    assert not Decision.objects.exists()


def test_too_long_unknown_and_unexplained_corrections_are_refused(helene, steward_marketing):
    with pytest.raises(DecisionInvalid) as refused:
        correct(helene, steward_marketing, first_name="A" * 151)
    assert refused.value.field == "first_name"
    with pytest.raises(DecisionInvalid) as refused:
        correct(helene, steward_marketing, favourite_colour="blue")
    assert refused.value.field == "favourite_colour"
    with pytest.raises(DecisionInvalid) as refused:
        correct(helene, steward_marketing, email="a@b.fr", reason="  ")
    assert refused.value.field == "reason"


def test_a_correction_writes_a_customer_updated_event(helene, steward_marketing):
    correct(helene, steward_marketing, email="helene.martin@gmail.com")
    event = ChangeEvent.objects.filter(customer_id=helene.pk).latest("version")
    assert event.type == ChangeEvent.Type.UPDATED
    assert event.changes == {"email": "helene.martin@gmail.com"}
    assert event.actor_id == steward_marketing.pk


def test_a_rectification_writes_a_customer_rectified_event(helene, dpo):
    decision = correct(helene, dpo, email="helene.martin@gmail.com",
                       origin=CorrectionOrigin.RECTIFICATION, reason="art. 16 request")
    event = ChangeEvent.objects.filter(customer_id=helene.pk).latest("version")
    assert event.type == ChangeEvent.Type.RECTIFIED
    assert event.changes == {"email": "helene.martin@gmail.com"}
    assert decision.kind == Decision.Kind.CORRECT


def test_only_the_dpo_rectifies(helene, steward_marketing):
    with pytest.raises(DecisionForbidden):
        correct(helene, steward_marketing, email="x@y.fr", origin=CorrectionOrigin.RECTIFICATION)


def test_a_rectified_value_is_changed_or_unpinned_by_the_dpo_only(helene, steward_marketing, dpo):
    correct(helene, dpo, email="helene.martin@gmail.com", origin=CorrectionOrigin.RECTIFICATION)
    for value in ("other@gmail.com", None):
        with pytest.raises(DecisionForbidden) as refused:
            correct(helene, steward_marketing, email=value)
        assert "DPO" in str(refused.value)
    # Other attributes stay the steward's to correct.
    correct(helene, steward_marketing, first_name="Helena")
    correct(helene, dpo, email=None, origin=CorrectionOrigin.RECTIFICATION)
    helene.refresh_from_db()
    assert helene.email == "helene.lefevre@orange.fr" and helene.first_name == "Helena"


@pytest.mark.parametrize("who", ["steward_service_client", "outsider", "auditor", "admin", "dpo"])
def test_who_may_not_correct_a_marketing_customer(helene, personas, who):
    with pytest.raises(DecisionForbidden):
        correct(helene, personas[who], email="x@y.fr")
    helene.refresh_from_db()
    assert helene.email == "helene.lefevre@orange.fr" and not helene.pinned


def test_undoing_a_correction_restores_the_previous_pins_and_values(helene, steward_marketing):
    correct(helene, steward_marketing, email="first@gmail.com")
    second = correct(helene, steward_marketing, email="second@gmail.com", first_name="Helena")
    decision_undo(decision_id=second.pk, acting_user=steward_marketing)
    helene.refresh_from_db()
    assert helene.email == "first@gmail.com" and helene.first_name == "Hélène"
    assert set(helene.pinned) == {"email"}
    second.refresh_from_db()
    assert second.undone_at is not None


def test_an_older_correction_is_undone_only_after_the_later_one(helene, steward_marketing):
    first = correct(helene, steward_marketing, email="first@gmail.com")
    correct(helene, steward_marketing, email="second@gmail.com")
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=first.pk, acting_user=steward_marketing)


def test_a_rectification_is_undone_by_the_dpo_only(helene, steward_marketing, dpo):
    rectified = correct(helene, dpo, email="helene.martin@gmail.com",
                        origin=CorrectionOrigin.RECTIFICATION)
    with pytest.raises(DecisionForbidden):
        decision_undo(decision_id=rectified.pk, acting_user=steward_marketing)
    decision_undo(decision_id=rectified.pk, acting_user=dpo)
    helene.refresh_from_db()
    assert helene.email == "helene.lefevre@orange.fr"


def test_a_merge_choice_does_not_override_a_rectified_value(crm, eshop, helene, dpo,
                                                            steward_everywhere):
    from stewardship.services.merge import customers_merge

    correct(helene, dpo, email="helene.martin@gmail.com", origin=CorrectionOrigin.RECTIFICATION)
    (other,) = ingest(eshop, [{**HELENE, "id": "E1", "email": "h.l@gmail.com"}])
    with pytest.raises(DecisionForbidden):
        customers_merge(customer_ids=[helene.pk, other.customer_id],
                        choices={"email": other.pk}, acting_user=steward_everywhere)
    decision = customers_merge(customer_ids=[helene.pk, other.customer_id],
                               acting_user=steward_everywhere)
    survivor = Customer.objects.get(pk=decision.survivor_id)
    assert survivor.email == "helene.martin@gmail.com"  # the rectified value survives the merge


def test_undoing_a_merge_keeps_a_correction_made_since_on_the_survivor(crm, eshop, helene,
                                                                      steward_everywhere):
    from stewardship.services.merge import customers_merge

    (other,) = ingest(eshop, [{**HELENE, "id": "E1", "email": "h.l@gmail.com"}])
    merge = customers_merge(customer_ids=[helene.pk, other.customer_id],
                            survivor_id=helene.pk, acting_user=steward_everywhere)
    correction = correct(helene, steward_everywhere, first_name="Helena")
    decision_undo(decision_id=merge.pk, acting_user=steward_everywhere)
    helene.refresh_from_db()
    assert helene.first_name == "Helena" and helene.pinned["first_name"]["value"] == "Helena"
    assert Customer.objects.get(pk=other.customer_id).merged_into_id is None
    decision_undo(decision_id=correction.pk, acting_user=steward_everywhere)
    helene.refresh_from_db()
    assert helene.first_name == "Hélène" and "first_name" not in helene.pinned
