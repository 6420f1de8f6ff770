"""The queue's triage order and assigning candidates to a steward."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rcu.models import PendingMatch
from stewardship.models import MergeCandidate
from stewardship.services.assign import candidates_assign
from stewardship.services.errors import DecisionForbidden, DecisionInvalid
from stewardship.services.triage import candidates_triage_refresh
from stewardship.triage import Triage, triage_band
from tests.factories import make_user
from tests.stewardship.builders import candidate_between, person

CLEAN = {"contributions": [{"comparison": "first_name", "level": "exact", "weight": 3.0}]}


def test_a_contradiction_stands_apart_whatever_its_score():
    explanation = {**CLEAN, "link_guard": "contradiction:first_name", "probability": 1.0}
    assert triage_band(explanation, {}, {}) is Triage.CONTRADICTION


def test_evidence_against_or_customers_disagreeing_means_to_check():
    against = {"contributions": [*CLEAN["contributions"],
                                 {"comparison": "email", "level": "different", "weight": -2.0}]}
    assert triage_band(against, {}, {}) is Triage.CHECK
    assert triage_band(CLEAN, {"birth_date": "1970-01-01"}, {"birth_date": "1971-01-01"}) is Triage.CHECK
    # One side missing a value is no disagreement; case is no difference.
    assert triage_band(CLEAN, {"email": "A@B.FR"}, {"email": "a@b.fr", "birth_date": "1970-01-01"}) is Triage.LIKELY


@pytest.mark.django_db
def test_the_queue_shows_likely_duplicates_first_and_contradictions_last(
    client, settings, crm, eshop, steward_marketing
):
    settings.RCU_MATCH_AFTER_IMPORT = False
    contradiction = candidate_between(crm, person("C-1"), eshop, person("E-1"), probability=1.0)
    contradiction.explanation = {**CLEAN, "link_guard": "contradiction:first_name"}
    contradiction.weight = 40.0
    contradiction.save()
    to_check = candidate_between(crm, person("C-2", first_name="Paul", birth_date="1970-01-01"),
                                 eshop, person("E-2", first_name="Paul", birth_date="1980-05-05"),
                                 probability=0.99)
    to_check.explanation, to_check.weight = CLEAN, 30.0
    to_check.save()
    likely = candidate_between(crm, person("C-3", first_name="Léa"), eshop, person("E-3", first_name="Léa"),
                               probability=0.8)
    likely.explanation, likely.weight = CLEAN, 5.0
    likely.save()
    PendingMatch.objects.all().delete()
    candidates_triage_refresh(candidate_ids=[contradiction.pk, to_check.pk, likely.pk])
    bands = dict(MergeCandidate.objects.values_list("pk", "triage"))
    assert bands == {likely.pk: 0, to_check.pk: 1, contradiction.pk: 2}

    client.force_login(steward_marketing)
    page = client.get(reverse("stewardship:queue")).content.decode()
    order = [page.index(f'data-candidate="{c.pk}"') for c in (likely, to_check, contradiction)]
    assert order == sorted(order)
    assert "helene.lefevre@orange.fr" in page  # the evidence, in the list
    # Next / previous in the review follow the same order.
    review = client.get(reverse("stewardship:review", args=[likely.pk])).content.decode()
    assert f"/stewardship/candidates/{to_check.pk}/" in review


@pytest.mark.django_db
def test_candidates_go_only_to_a_steward_of_their_queue(
    settings, crm, eshop, service_client_source, steward_marketing, steward_service_client, admin_user
):
    settings.RCU_MATCH_AFTER_IMPORT = False
    candidate = candidate_between(crm, person("C-1"), eshop, person("E-1"))
    colleague = make_user("colleague", roles=[], departments=["marketing"])
    with pytest.raises(DecisionForbidden):
        candidates_assign(candidate_ids=[candidate.pk], assignee=steward_marketing,
                          acting_user=steward_service_client)
    with pytest.raises(DecisionInvalid):  # not a steward: may not decide it
        candidates_assign(candidate_ids=[candidate.pk], assignee=colleague, acting_user=admin_user)
    assert candidates_assign(candidate_ids=[candidate.pk], assignee=steward_marketing,
                             acting_user=steward_marketing) == 1
    candidate.refresh_from_db()
    assert candidate.assigned_to == steward_marketing
    assert candidate.history.first().history_user == steward_marketing
    assert candidates_assign(candidate_ids=[candidate.pk], assignee=None, acting_user=admin_user) == 1


@pytest.mark.django_db
def test_overdue_candidates_are_flagged_and_filtered(client, settings, crm, eshop, steward_marketing):
    from datetime import timedelta

    from django.utils import timezone

    settings.RCU_MATCH_AFTER_IMPORT = False
    old = candidate_between(crm, person("C-1"), eshop, person("E-1"))
    fresh = candidate_between(crm, person("C-2", first_name="Léa"), eshop, person("E-2", first_name="Léa"))
    MergeCandidate.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    client.force_login(steward_marketing)
    page = client.get(reverse("stewardship:queue") + "?age=overdue").content.decode()
    assert f'data-candidate="{old.pk}"' in page and f'data-candidate="{fresh.pk}"' not in page
    assert "data-overdue-count" in page


@pytest.mark.django_db
def test_a_stewards_dashboard_shows_backlog_overdue_theirs_and_service_level(
    client, settings, crm, eshop, steward_marketing, outsider
):
    from datetime import timedelta

    from django.utils import timezone

    settings.RCU_MATCH_AFTER_IMPORT = False
    mine = candidate_between(crm, person("C-1"), eshop, person("E-1"))
    late = candidate_between(crm, person("C-2", first_name="Léa"), eshop, person("E-2", first_name="Léa"))
    quick = candidate_between(crm, person("C-3", first_name="Max"), eshop, person("E-3", first_name="Max"))
    slow = candidate_between(crm, person("C-4", first_name="Zoé"), eshop, person("E-4", first_name="Zoé"))
    now = timezone.now()
    MergeCandidate.objects.filter(pk=late.pk).update(created_at=now - timedelta(days=9))
    MergeCandidate.objects.filter(pk=quick.pk).update(
        status="merged", created_at=now - timedelta(days=3), decided_at=now - timedelta(days=2))
    MergeCandidate.objects.filter(pk=slow.pk).update(
        status="rejected", created_at=now - timedelta(days=20), decided_at=now - timedelta(days=1))
    candidates_assign(candidate_ids=[mine.pk], assignee=steward_marketing, acting_user=steward_marketing)

    client.force_login(steward_marketing)
    home = client.get(reverse("home")).content.decode()
    assert reverse("stewardship:my_backlog") in home
    panel = client.get(reverse("stewardship:my_backlog")).content.decode()
    row = panel[panel.index('data-department="marketing"'):]
    cells = [c.split("<")[0].strip() for c in row.split('class="num"')[1:5]]
    assert cells[0].startswith(">2")  # open: mine and late
    assert ">1<" in row.split('class="num"')[2]  # overdue: late
    assert "50.0 %" in row  # one of two decisions within the 7-day target
    client.force_login(outsider)
    assert "data-department" not in client.get(reverse("stewardship:my_backlog")).content.decode()


@pytest.mark.django_db
def test_the_api_lists_candidates_in_triage_order_with_their_band(client, settings, crm, eshop, steward_marketing):
    settings.RCU_MATCH_AFTER_IMPORT = False
    check = candidate_between(crm, person("C-1"), eshop, person("E-1"))
    likely = candidate_between(crm, person("C-2", first_name="Léa"), eshop, person("E-2", first_name="Léa"))
    MergeCandidate.objects.filter(pk=likely.pk).update(triage=0)
    client.force_login(steward_marketing)
    rows = client.get("/api/v1/candidates/").json()["results"]
    assert [r["id"] for r in rows] == [likely.pk, check.pk]
    assert [r["triage"] for r in rows] == ["likely", "check"]
    only = client.get("/api/v1/candidates/?triage=check").json()["results"]
    assert [r["id"] for r in only] == [check.pk]


@pytest.mark.django_db
def test_a_refresh_locks_the_candidates_it_rewrites_in_id_order_first(crm, eshop, settings):
    """The UPDATE's own row locks follow the table, not the documented order: a merge
    holding one candidate and waiting on another deadlocked with a batch run's refresh."""
    from rcu.models import Customer, SourceRecord
    from stewardship.services.triage import triage_refresh_rows

    settings.RCU_MATCH_AFTER_IMPORT = False
    firsts = [candidate_between(crm, person(f"C-{n}", first_name="Paul", birth_date="1970-01-01"),
                                eshop, person(f"E-{n}", first_name="Paul", birth_date="1980-05-05"),
                                probability=0.99) for n in range(3)]
    unchanged = candidate_between(crm, person("C-9"), eshop, person("E-9"), probability=0.8)
    for candidate in [*firsts, unchanged]:
        candidate.explanation = CLEAN
        candidate.triage = 0 if candidate in firsts else int(Triage.LIKELY)
        candidate.save()
    locked: list[list[int]] = []
    rewritten = triage_refresh_rows(
        candidate_model=MergeCandidate, record_model=SourceRecord, customer_model=Customer,
        candidate_ids=[c.pk for c in reversed([*firsts, unchanged])], lock=locked.append,
    )
    assert rewritten == 3
    assert locked == [sorted(c.pk for c in firsts)]  # those that change, ascending, once
