"""Values and history words as people read them: French formats, no raw JSON, no English."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.utils import translation

from rcu.display import history_reason, phone_display, value_display
from rcu.models import Customer, PendingMatch, SourceRecord
from stewardship.services.merge import candidate_merge
from stewardship.services.unmerge import decision_undo
from tests.stewardship.builders import candidate_between, person


def test_phones_are_written_the_national_way_for_france_and_international_elsewhere():
    assert phone_display("+33612345678") == "06 12 34 56 78"
    assert phone_display("+442079460000") == "+44 20 7946 0000"
    assert phone_display("not a number") == "not a number"


@pytest.mark.parametrize(("language", "shown"), [("fr", "03/04/1971"), ("en", "04/03/1971")])
def test_birth_dates_follow_the_language(language, shown):
    with translation.override(language):
        assert value_display("birth_date", "1971-04-03") == shown
        assert value_display("first_name", "1971-04-03") == "1971-04-03"  # only dates are dates


def test_machine_reasons_are_translated_and_a_stewards_own_reason_is_kept():
    with translation.override("fr"):
        assert history_reason("undo merge #12") == "fusion n° 12 annulée"
        assert history_reason("import #3") == "import n° 3"
        assert history_reason("the customer called") == "the customer called"
        assert history_reason("matching run #1: matching").startswith("rapprochement n° 1 : ")
        assert history_reason("import #4: import #4") == "import n° 4"


@pytest.mark.django_db
@override_settings(RCU_MATCH_AFTER_IMPORT=False)
def test_the_history_of_a_merged_then_undone_customer_reads_in_french(
    client, crm, eshop, steward_everywhere
):
    candidate = candidate_between(
        crm, person("CRM-1", mobile="0612345678"),
        eshop, person("WEB-1", city="Lyon", postcode="69003", mobile="0698765432"),
    )
    PendingMatch.objects.all().delete()
    decision = candidate_merge(
        candidate_id=candidate.pk, acting_user=steward_everywhere,
        choices={"mobile": candidate.record_b_id},
    )
    survivor = Customer.objects.get(pk=SourceRecord.objects.get(pk=candidate.record_a_id).customer_id)
    decision_undo(decision_id=decision.pk, acting_user=steward_everywhere)
    client.force_login(steward_everywhere)
    page = client.get(f"/customers/{survivor.public_id}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    history = page[page.index('id="history"'):]
    assert "annulée" in history
    assert not re.search(r"undo \w+ #|\bmerge\b|\{\"", history), "English or raw JSON in the history"
    assert "06 98 76 54 32" in history and "+33698765432" not in history
    assert "ESHOP · WEB-1" in history  # the pinned choice, in words
