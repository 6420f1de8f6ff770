"""Who sees which figures (pages, API, exports, drill-down), quality rules and their
mailed breaches, the trends, and the nightly task."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry
from quality.models import QualityFigure, QualityRule, QualitySnapshot
from quality.selectors import quality_trend
from quality.services import quality_rule_save, quality_snapshot_take
from quality.tasks import quality_snapshot_task
from tests.factories import TEST_ACTOR
from tests.quality.base import build_base


@pytest.fixture
def base(sources, steward_everywhere):
    records = build_base(sources, steward=steward_everywhere)
    quality_snapshot_take(acting_user=TEST_ACTOR)
    return records


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_steward_sees_only_their_departments_sources(base, steward_marketing):
    api = _api(steward_marketing)

    sources = api.get("/api/v1/quality/sources/").json()
    kpis = api.get("/api/v1/quality/kpis/").json()

    assert [s["code"] for s in sources] == ["crm"]
    assert api.get("/api/v1/quality/sources/crm/attributes/").status_code == 200
    assert api.get("/api/v1/quality/sources/eshop/attributes/").status_code == 404
    # Not the whole base, nor the golden customers: only their department.
    assert kpis["base"] is None
    assert [d["department"] for d in kpis["departments"]] == ["marketing"]
    rows = api.get("/api/v1/quality/sources/crm/attributes/").json()
    assert {r["golden_completeness"] for r in rows} == {None}


def test_the_pages_follow_the_same_rules(base, client, steward_marketing):
    client.force_login(steward_marketing)

    dashboard = client.get(reverse("quality:dashboard")).content.decode()
    kpis = client.get(reverse("quality:kpis")).content.decode()

    assert 'data-source="crm"' in dashboard and 'data-source="eshop"' not in dashboard
    assert 'id="quality-golden"' not in dashboard
    assert 'data-scope="base"' not in kpis and 'data-scope="department:marketing"' in kpis
    assert client.get(reverse("quality:source", args=["eshop"])).status_code == 404
    assert client.get(reverse("quality:records", args=["eshop"]), {"flag": "x"}).status_code == 404
    export = client.get(reverse("quality:dashboard"), {"export": "sources"}).content.decode("utf-8-sig")
    assert "crm;" in export and "eshop;" not in export


def test_an_outsider_sees_nothing_and_anonymous_callers_are_refused(base, client, outsider):
    assert APIClient().get("/api/v1/quality/sources/").status_code == 401
    assert APIClient().get("/api/v1/quality/kpis/").status_code == 401
    assert client.get(reverse("quality:dashboard")).status_code == 302  # to the sign-in page

    api = _api(outsider)
    assert api.get("/api/v1/quality/sources/").json() == []
    assert api.get("/api/v1/quality/sources/crm/attributes/").status_code == 404
    kpis = api.get("/api/v1/quality/kpis/").json()
    assert kpis["base"] is None and kpis["departments"] == [] and kpis["stewards"] == []
    client.force_login(outsider)
    assert client.get(reverse("quality:source", args=["crm"])).status_code == 404
    assert 'id="kpis-none"' in client.get(reverse("quality:kpis")).content.decode()


def test_measuring_now_is_for_admins(base, client, steward_marketing, admin_user):
    client.force_login(steward_marketing)
    assert client.post(reverse("quality:measure")).status_code == 403

    client.force_login(admin_user)
    response = client.post(reverse("quality:measure"))

    assert response.status_code == 302
    assert QualitySnapshot.objects.get().taken_by == admin_user


def test_the_drill_down_is_a_logged_read_of_personal_data(base, client, admin_user):
    client.force_login(admin_user)

    client.get(reverse("quality:records", args=["crm"]), {"flag": "city.postcode_mismatch"})

    entry = AccessLogEntry.objects.get(purpose="quality_drill_down")
    assert entry.user == admin_user


def _rule(source, attribute: str, metric: str, minimum: str, admin) -> QualityRule:
    return quality_rule_save(
        rule=QualityRule(source=source, attribute=attribute, metric=metric, minimum=Decimal(minimum)),
        acting_user=admin,
    )


def test_a_rule_not_met_shows_and_is_mailed_once_a_day(sources, steward_everywhere, admin_user,
                                                        client, settings,
                                                        django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    build_base(sources, steward=steward_everywhere)
    crm = sources["crm"]
    # e-mail validity is 2/3 (0.667): a minimum of 0.9 is not met, 0.6 is.
    missed = _rule(crm, "email", "validity", "0.9", admin_user)
    _rule(crm, "email", "completeness", "0.5", admin_user)  # 2/4: exactly the minimum, met

    with django_capture_on_commit_callbacks(execute=True):
        quality_snapshot_take(acting_user=TEST_ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        quality_snapshot_take(acting_user=TEST_ACTOR)  # again the same day: no second mail

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_user.email]
    assert "crm" in mail.outbox[0].body and "email" in mail.outbox[0].body
    missed.refresh_from_db()
    assert missed.notified_on == QualitySnapshot.objects.get().taken_on
    assert missed.history.first().history_user == admin_user

    breaches = _api(admin_user).get("/api/v1/quality/sources/").json()
    crm_row = next(s for s in breaches if s["code"] == "crm")
    assert crm_row["breaches"] == [{
        "attribute": "email", "metric": "validity", "minimum": 0.9, "rate": 2 / 3,
        "numerator": 2, "denominator": 3,
    }]
    client.force_login(admin_user)
    page = client.get(reverse("quality:dashboard")).content.decode()
    assert 'data-breach="crm:email:validity"' in page
    assert 'data-breach="crm:email:completeness"' not in page


def test_trends_read_one_line_per_source_over_the_days_kept(base):
    today = QualitySnapshot.objects.get().taken_on
    # Yesterday's figures: the same, with one more e-mail filled.
    yesterday = today - timedelta(days=1)
    for figure in QualityFigure.objects.filter(taken_on=today, scope="source:crm"):
        figure.pk = None
        figure.taken_on = yesterday
        if figure.attribute == "email" and figure.metric == "completeness":
            figure.numerator += 1
        figure.save()

    (line,) = quality_trend(scopes={"crm": "source:crm"}, metric="completeness",
                            attribute="email", days=30, today=today)

    assert [(day, r.numerator, r.denominator) for day, r in line.points] == [
        (yesterday, 3, 4), (today, 2, 4),
    ]


def test_the_source_page_draws_an_accessible_chart(base, client, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("quality:source", args=["crm"]), {"attribute": "email"}).content.decode()

    assert 'role="img"' in html and 'id="chart-attribute-title"' in html
    assert "<polyline" in html or "<circle" in html


def test_the_nightly_task_takes_the_snapshot(sources, steward_everywhere):
    build_base(sources, steward=steward_everywhere)

    result = quality_snapshot_task.delay().get()

    assert QualitySnapshot.objects.get().finished_at is not None
    assert str(QualitySnapshot.objects.get().taken_on) in result


def test_an_undone_merge_counts_as_an_overturn(base, admin_user, steward_everywhere):
    from stewardship.models import Decision
    from stewardship.services.unmerge import decision_undo

    merge = Decision.objects.get(kind=Decision.Kind.MERGE)
    decision_undo(decision_id=merge.pk, acting_user=steward_everywhere)

    payload = _api(admin_user).get("/api/v1/quality/kpis/").json()
    departments = {d["department"]: d for d in payload["departments"]}
    assert departments["marketing"]["overturn_rate"] == {"rate": 1.0, "numerator": 1, "denominator": 1}
    # the merge and its undo: two decisions today.
    assert payload["stewards"][0]["decisions"] == 2


def test_admins_declare_rules_in_the_admin_with_history(client, admin_user, crm):
    client.force_login(admin_user)

    response = client.post(reverse("admin:quality_qualityrule_add"), {
        "source": crm.pk, "attribute": "email", "metric": "completeness", "minimum": "0.95",
        "active": "on",
    })

    assert response.status_code == 302
    rule = QualityRule.objects.get()
    assert (rule.attribute, rule.minimum, rule.created_by) == ("email", Decimal("0.950"), admin_user)
    assert rule.history.get().history_user == admin_user
    bad = client.post(reverse("admin:quality_qualityrule_add"), {
        "source": crm.pk, "attribute": "email", "metric": "validity", "minimum": "1.5",
    })
    assert bad.status_code == 200 and QualityRule.objects.count() == 1


def test_a_steward_may_not_declare_rules(client, steward_marketing, crm):
    client.force_login(steward_marketing)

    response = client.get(reverse("admin:quality_qualityrule_add"))

    assert response.status_code in (302, 403)
    assert not QualityRule.objects.exists()


def test_a_mail_server_down_keeps_the_figures(sources, steward_everywhere, admin_user, settings,
                                               django_capture_on_commit_callbacks, monkeypatch):
    build_base(sources, steward=steward_everywhere)
    rule = _rule(sources["crm"], "email", "validity", "0.9", admin_user)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP server")

    monkeypatch.setattr("quality.services.send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        quality_snapshot_take(acting_user=TEST_ACTOR)

    assert QualityFigure.objects.exists()
    rule.refresh_from_db()
    assert rule.notified_on is None  # mailed again by the next measure


def test_the_trend_api_gives_a_source_figure_day_by_day(base, admin_user, steward_marketing):
    today = QualitySnapshot.objects.get().taken_on
    api = _api(admin_user)

    points = api.get("/api/v1/quality/sources/crm/trend/", {"metric": "validity", "attribute": "email"}).json()

    assert points == [{"day": today.isoformat(), "rate": 2 / 3, "numerator": 2, "denominator": 3}]
    assert api.get("/api/v1/quality/sources/crm/trend/", {"metric": "nope"}).status_code == 400
    assert api.get("/api/v1/quality/sources/crm/trend/", {"days": "7"}).status_code == 400
    assert _api(steward_marketing).get("/api/v1/quality/sources/eshop/trend/").status_code == 404
