"""Who may open which page: every UI endpoint for every persona.

Marketing owns the CRM (crm_customer), service client owns the customer-service
base (service_client_customer). A steward sees their department's sources, records,
customers and jobs only; the DPO, the auditor and the admin read everything; only
stewards (own department) and the admin may import; the outsider sees empty lists
and gets 404 on objects; anonymous people are sent to the login page. In the Django
admin only staff holding a role's global permissions get in.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rcu.models import ImportJob
from rcu.services.imports import import_job_create, import_job_run
from tests.factories import PLAIN_FIELDS, TEST_ACTOR, make_user

PERSONAS = [
    "anonymous", "steward_marketing", "steward_service_client", "dpo", "admin_user", "auditor",
    "outsider",
]
SEES_CRM = {"steward_marketing", "dpo", "admin_user", "auditor"}
SEES_SC = {"steward_service_client", "dpo", "admin_user", "auditor"}
FEEDS_CRM = {"steward_marketing", "admin_user"}
MAY_IMPORT_SOMEWHERE = {"steward_marketing", "steward_service_client", "admin_user"}

HEADER = ["id", *PLAIN_FIELDS, "updated"]


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    lines = [";".join(HEADER)]
    lines += [";".join(row.get(name, "") for name in HEADER) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def crm_job(crm, tmp_path) -> ImportJob:
    """A finished CRM import with one rejected row, so it has a rejects file."""
    path = tmp_path / "crm-batch.csv"
    path.write_bytes(csv_bytes([
        {"id": "CRM-77", "first_name": "Zoé", "last_name": "Garnier", "updated": "2024-01-02 08:00"},
        {"id": "", "first_name": "Sans", "last_name": "Identifiant"},
    ]))
    job, _ = import_job_create(source=crm, path=path, acting_user=TEST_ACTOR)
    job = import_job_run(job=job)
    assert job.rejects_file
    return job


@pytest.fixture
def world(crm, service_client_source, crm_customer, service_client_customer, crm_job):
    return {
        "crm": crm,
        "crm_customer": crm_customer,
        "service_client_customer": service_client_customer,
        "crm_job": crm_job,
    }


def login(client, request, persona: str):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))


def expected(persona: str, allowed: set[str], *, denied: int = 404) -> int:
    if persona == "anonymous":
        return 302
    return 200 if persona in allowed else denied


EVERYONE = set(PERSONAS) - {"anonymous"}


def _page_cases(w) -> list[tuple[str, str, set[str]]]:
    return [
        ("home", reverse("home"), EVERYONE),
        ("customer_list", reverse("customer_list") + "?q=lefevre", EVERYONE),
        ("crm_customer", reverse("customer_detail", args=[w["crm_customer"].public_id]), SEES_CRM),
        (
            "service_client_customer",
            reverse("customer_detail", args=[w["service_client_customer"].public_id]),
            SEES_SC,
        ),
        ("import_list", reverse("import_list"), EVERYONE),
        ("import_detail", reverse("import_detail", args=[w["crm_job"].pk]), SEES_CRM),
        ("import_new", reverse("import_new"), EVERYONE),
        ("import_rejects", reverse("import_rejects", args=[w["crm_job"].pk]), SEES_CRM),
        ("source_list", reverse("source_list"), EVERYONE),
        ("source_detail", reverse("source_detail", args=["crm"]), SEES_CRM),
    ]


PAGE_NAMES = [
    "home", "customer_list", "crm_customer", "service_client_customer", "import_list",
    "import_detail", "import_new", "import_rejects", "source_list", "source_detail",
]


@pytest.mark.parametrize("page", PAGE_NAMES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_page_status_by_persona(client, request, world, persona, page):
    cases = {name: (url, allowed) for name, url, allowed in _page_cases(world)}
    url, allowed = cases[page]
    login(client, request, persona)
    response = client.get(url)
    assert response.status_code == expected(persona, allowed), (persona, page)
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_customer_search_shows_only_visible_customers(client, request, world, persona):
    login(client, request, persona)
    response = client.get(reverse("customer_list"), {"q": "lefevre"})
    if persona == "anonymous":
        assert response.status_code == 302
        return
    shown = str(world["crm_customer"].public_id) in response.content.decode()
    assert shown is (persona in SEES_CRM)


@pytest.mark.parametrize("persona", PERSONAS)
def test_import_list_shows_only_visible_jobs(client, request, world, persona):
    login(client, request, persona)
    response = client.get(reverse("import_list"))
    if persona == "anonymous":
        assert response.status_code == 302
        return
    shown = reverse("import_detail", args=[world["crm_job"].pk]) in response.content.decode()
    assert shown is (persona in SEES_CRM)


@pytest.mark.parametrize("persona", PERSONAS)
def test_source_list_shows_only_visible_sources(client, request, world, persona):
    login(client, request, persona)
    response = client.get(reverse("source_list"))
    if persona == "anonymous":
        assert response.status_code == 302
        return
    shown = reverse("source_detail", args=["crm"]) in response.content.decode()
    assert shown is (persona in SEES_CRM)


@pytest.mark.parametrize("persona", PERSONAS)
def test_import_upload_offers_only_ingestable_sources(client, request, world, persona):
    login(client, request, persona)
    response = client.get(reverse("import_new"))
    if persona == "anonymous":
        assert response.status_code == 302
        return
    offers_crm = f'value="{world["crm"].pk}"' in response.content.decode()
    assert offers_crm is (persona in FEEDS_CRM)


@pytest.mark.parametrize("persona", PERSONAS)
def test_import_upload_post_to_crm(client, request, world, persona, django_capture_on_commit_callbacks):
    login(client, request, persona)
    before = ImportJob.objects.count()
    upload = SimpleUploadedFile(
        "crm.csv", csv_bytes([{"id": "CRM-500", "last_name": "Roux"}]), content_type="text/csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_new"), {"source": world["crm"].pk, "file": upload})
    if persona == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif persona in FEEDS_CRM:
        job = ImportJob.objects.latest("id")
        assert response.status_code == 302
        assert response["Location"] == reverse("import_detail", args=[job.pk])
    elif persona in MAY_IMPORT_SOMEWHERE:
        assert response.status_code == 200  # the form refuses a source they may not feed
        assert response.context["form"].errors["source"]
    else:
        assert response.status_code == 403
    created = ImportJob.objects.count() - before
    assert created == (1 if persona in FEEDS_CRM else 0)


ADMIN_PAGES = ["rcu_sourcesystem", "rcu_customer", "rcu_sourcerecord", "rcu_importjob", "rcu_department"]


@pytest.mark.parametrize("model", ADMIN_PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_changelist_by_persona(client, request, world, persona, model):
    login(client, request, persona)
    response = client.get(reverse(f"admin:{model}_changelist"))
    if persona == "admin_user":
        assert response.status_code == 200
    else:  # not staff: the admin sends them to its login page
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_admin_staff_without_a_role_sees_nothing(client, world, model):
    client.force_login(make_user("bare_staff", is_staff=True))
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert reverse(f"admin:{model}_changelist") not in index.content.decode()


@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_admin_staff_steward_sees_nothing_beyond_their_role(client, world, model):
    steward = make_user("staff_steward", departments=["marketing"], is_staff=True)
    client.force_login(steward)
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 403


def test_admin_objects_are_not_reachable_by_bare_staff(client, world):
    client.force_login(make_user("bare_staff", is_staff=True))
    customer = world["crm_customer"]
    response = client.get(reverse("admin:rcu_customer_change", args=[customer.pk]))
    assert response.status_code in (302, 403)
    response = client.get(reverse("admin:rcu_sourcesystem_preview", args=[world["crm"].pk]))
    assert response.status_code in (302, 403, 404)
