"""The DPO's pages: the dashboard (by deadline, flags, filters, counts), a new request,
a request's page and its actions; nobody else sees any of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gdpr.models import SubjectRequest
from gdpr.services.requests import subject_request_create, subject_request_refuse
from rcu.normalisation.dates import paris_today

pytestmark = pytest.mark.django_db


def _create(dpo, days_ago: int, **subject):
    return subject_request_create(
        kind="access", received_on=paris_today() - timedelta(days=days_ago),
        subject=subject or {"email": f"p{days_ago}@example.fr"}, acting_user=dpo,
    )


def test_the_dashboard_lists_open_requests_by_deadline_with_flags_and_counts(client, dpo):
    late = _create(dpo, 45, email="same@example.fr")
    fresh = _create(dpo, 0, email="SAME@example.fr")
    closed = _create(dpo, 3)
    subject_request_refuse(request=closed, reason="r", acting_user=dpo)
    client.force_login(dpo)

    page = client.get(reverse("gdpr:requests")).content.decode()

    assert page.index(f'data-request="{late.pk}"') < page.index(f'data-request="{fresh.pk}"')
    assert f'data-request="{closed.pk}"' not in page
    assert f'data-request="{late.pk}" data-overdue' in page
    assert page.count('data-flag="duplicate"') == 2
    assert 'data-count="open">2<' in page and 'data-count="overdue">1<' in page
    assert 'data-count="closed"><a href="?state=closed">1<' in page

    closed_page = client.get(reverse("gdpr:requests"), {"state": "closed"}).content.decode()
    assert f'data-request="{closed.pk}"' in closed_page and f'data-request="{late.pk}"' not in closed_page
    by_kind = client.get(reverse("gdpr:requests"), {"kind": "erasure"}).content.decode()
    assert 'id="requests-none"' in by_kind
    assert client.get(reverse("gdpr:requests"), {"state": "lost"}).status_code == 200


def test_the_dpo_records_a_request_from_the_form_and_lands_on_its_page(client, dpo):
    client.force_login(dpo)
    assert client.get(reverse("gdpr:request_new")).status_code == 200
    response = client.post(reverse("gdpr:request_new"), {
        "kind": "rectification", "received_on": paris_today().isoformat(), "channel": "letter",
        "language": "fr", "email": "helene.lefevre@orange.fr", "birth_date": "1984-03-12",
    })
    created = SubjectRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("gdpr:request_detail", args=[created.pk])
    assert created.subject == {"email": "helene.lefevre@orange.fr", "birth_date": "1984-03-12"}
    client.post(reverse("gdpr:request_new"), {
        "kind": "access", "received_on": paris_today().isoformat(), "channel": "letter",
        "language": "fr", "customer_number_source": "crm", "customer_number": "C-1001",
    })
    numbered = SubjectRequest.objects.latest("pk")
    assert numbered.subject == {"customer_number": {"source": "crm", "external_id": "C-1001"}}
    page = client.get(reverse("gdpr:request_detail", args=[numbered.pk])).content.decode()
    assert "crm: C-1001" in page
    empty = client.post(reverse("gdpr:request_new"), {
        "kind": "access", "received_on": paris_today().isoformat(), "channel": "email", "language": "fr",
    })
    assert empty.status_code == 200 and SubjectRequest.objects.count() == 2


def test_the_request_page_shows_its_parts_and_every_action_works_from_it(client, dpo):
    request = _create(dpo, 2, email="helene.lefevre@orange.fr")
    client.force_login(dpo)
    detail = reverse("gdpr:request_detail", args=[request.pk])

    page = client.get(detail).content.decode()
    for part in ("request-identifiers", "request-actions", "request-letters", "request-notes",
                 "request-attachments", "request-trail", "request-extend"):
        assert f'id="{part}"' in page
    assert "helene.lefevre@orange.fr" in page

    client.post(reverse("gdpr:request_transition", args=[request.pk]), {"state": "identity_to_verify"})
    client.post(reverse("gdpr:request_attachment", args=[request.pk]), {
        "kind": "identity_proof", "file": SimpleUploadedFile("cni.pdf", b"%PDF"),
    })
    client.post(reverse("gdpr:request_identity", args=[request.pk]))
    client.post(reverse("gdpr:request_note", args=[request.pk]), {"text": "Rappelée."})
    client.post(reverse("gdpr:request_extend", args=[request.pk]), {"reason": "Sources nombreuses."})
    client.post(reverse("gdpr:letter_draft", args=[request.pk]), {"kind": "answer"})
    request.refresh_from_db()
    letter = request.letters.get(kind="answer")
    client.post(reverse("gdpr:letter_edit", args=[request.pk, letter.pk]),
                {"subject_line": "Réponse", "body": "Voici vos données."})
    client.post(reverse("gdpr:letter_sent", args=[request.pk, letter.pk]),
                {"sent_on": paris_today().isoformat()})
    attachment = request.attachments.get()
    download = client.get(reverse("gdpr:attachment_download", args=[request.pk, attachment.pk]))
    assert b"".join(download.streaming_content) == b"%PDF"
    client.post(reverse("gdpr:request_transition", args=[request.pk]), {"state": "done"})

    request.refresh_from_db()
    letter.refresh_from_db()
    assert request.state == "done" and request.extended_due_on is not None
    assert request.identity_verified_by == dpo
    assert letter.body == "Voici vos données." and letter.sent_on == paris_today()
    assert [n.text for n in request.notes.all()] == ["Rappelée."]
    assert request.attachments.get().deleted_at is not None
    assert sorted(request.letters.values_list("kind", flat=True)) == ["answer", "extension", "identity"]
    page = client.get(detail).content.decode()
    assert f'data-sent-on="{paris_today().isoformat()}"' in page
    assert 'id="request-actions"' not in page  # closed: nothing more to do
    assert client.get(reverse("gdpr:attachment_download", args=[request.pk, attachment.pk])).status_code == 404


def test_a_refused_action_is_shown_as_a_message_and_writes_nothing(client, dpo):
    request = _create(dpo, 60)  # past its first deadline
    client.force_login(dpo)
    response = client.post(reverse("gdpr:request_extend", args=[request.pk]), {"reason": "r"}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    request.refresh_from_db()
    assert request.extended_due_on is None


def test_the_navigation_shows_requests_only_to_the_dpo(client, personas):
    for name, user in personas.items():
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert ('data-nav="gdpr"' in page) == (name == "dpo"), name


@pytest.mark.parametrize("persona", ["steward_marketing", "auditor", "admin", "outsider", None])
def test_nobody_but_the_dpo_sees_or_acts_on_requests(client, personas, dpo, persona):
    request = _create(dpo, 1)
    letter_url = reverse("gdpr:letter_draft", args=[request.pk])
    urls = [
        ("get", reverse("gdpr:requests")), ("get", reverse("gdpr:request_new")),
        ("post", reverse("gdpr:request_new")),
        ("get", reverse("gdpr:request_detail", args=[request.pk])),
        ("post", reverse("gdpr:request_transition", args=[request.pk])),
        ("post", reverse("gdpr:request_identity", args=[request.pk])),
        ("post", reverse("gdpr:request_extend", args=[request.pk])),
        ("post", reverse("gdpr:request_refuse", args=[request.pk])),
        ("post", reverse("gdpr:request_note", args=[request.pk])),
        ("post", reverse("gdpr:request_attachment", args=[request.pk])),
        ("post", letter_url),
    ]
    if persona is not None:
        client.force_login(personas[persona])
    for method, url in urls:
        response = getattr(client, method)(url, {"state": "in_progress", "reason": "r", "text": "t"})
        if persona is None:
            assert response.status_code == 302 and "/login" in response.url, url
        else:
            assert response.status_code == 403, url
    request.refresh_from_db()
    assert request.state == "received" and request.steps.count() == 1
    assert not personas["dpo"].is_staff and not personas["dpo"].is_superuser


def test_the_dashboard_and_a_request_page_cost_the_same_queries_however_many_requests(
    client, dpo,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(dpo)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        # The session's own writes (after a form was posted) are not the page's reads.
        return sum(
            "django_session" not in query["sql"] and "SAVEPOINT" not in query["sql"]
            for query in captured.captured_queries
        )

    first = _create(dpo, 1, email="same@example.fr")
    few = queries(reverse("gdpr:requests")), queries(reverse("gdpr:request_detail", args=[first.pk]))
    for days in range(2, 12):
        request = _create(dpo, days, email="same@example.fr")
        client.post(reverse("gdpr:request_note", args=[first.pk]), {"text": f"note {days}"})
        client.post(reverse("gdpr:letter_draft", args=[first.pk]), {"kind": "answer"})
    many = queries(reverse("gdpr:requests")), queries(reverse("gdpr:request_detail", args=[first.pk]))
    assert request.pk and few == many
