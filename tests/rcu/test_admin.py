"""The Django admin: mapping preview, read-only domain rows, scoped querysets."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from guardian.shortcuts import get_perms

from gdpr.models import AccessLogEntry
from rcu.models import Customer, Department, FieldMapping, ImportJob, SourceRecord
from rcu.roles import Role
from tests.factories import PLAIN_FIELDS, make_user

HEADER = ";".join(["id", *PLAIN_FIELDS, "updated"])



def stored_counts() -> tuple[int, int, int]:
    return SourceRecord.objects.count(), Customer.objects.count(), ImportJob.objects.count()


def preview_url(source) -> str:
    return reverse("admin:rcu_sourcesystem_preview", args=[source.pk])


def test_mapping_preview_normalises_pasted_csv_rows_and_stores_nothing(client, admin_user, crm, crm_customer):
    client.force_login(admin_user)
    before = stored_counts()
    sample = "\n".join([
        HEADER,
        "P-1;Madame;  élodie ;DUPONT;12/03/1984;Elodie.Dupont@Example.FR;01 42 11 22 33;"
        "06 12 34 56 78;3 rue de la Paix;;7500;Paris Cedex 02;France;2024-01-01 10:00",
        ";M.;Sans;Identifiant;;;;;;;;;;",
    ])
    response = client.post(preview_url(crm), {"sample": sample})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.error == "" and preview.missing_fields == []
    first, second = preview.rows
    assert first.external_id == "P-1"
    assert first.raw["first_name"] == "  élodie "
    assert first.attributes["email"] == "elodie.dupont@example.fr"
    assert first.attributes["mobile"] == "+33612345678"
    assert first.attributes["first_name"] == "élodie"  # trimmed
    assert "postcode.padded" in first.flags
    assert "birth_date.unparseable" in first.flags  # the source's format is %Y-%m-%d
    assert second.refused and second.problem == "missing external id"
    body = response.content.decode()
    assert "+33612345678" in body and "elodie.dupont@example.fr" in body
    assert 'title="postcode.padded"' in body
    assert stored_counts() == before


def test_mapping_preview_reads_json_lines_from_a_file(client, admin_user, crm):
    client.force_login(admin_user)
    rows = [
        {"id": "J-1", "last_name": "lefèvre", "email": "X@Y.FR", "phone": "0142112233", "updated": "2024-01-01 10:00"},
        {"id": "J-2", "last_name": {"nested": True}},
    ]
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    upload = SimpleUploadedFile("sample.jsonl", content, content_type="application/x-ndjson")
    response = client.post(preview_url(crm), {"file": upload})
    preview = response.context["preview"]
    assert preview.facts.file_format == "jsonl"
    first, second = preview.rows
    assert first.attributes["email"] == "x@y.fr"
    assert first.attributes["phone"] == "+33142112233"
    assert second.refused and second.problem_field == "last_name"
    assert "first_name" in preview.missing_fields  # an import would refuse this file
    assert not SourceRecord.objects.exists()


def test_mapping_preview_asks_for_rows(client, admin_user, crm):
    client.force_login(admin_user)
    response = client.post(preview_url(crm), {"sample": "  "})
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["form"].non_field_errors()


def test_mapping_preview_get_shows_the_form_and_mappings(client, admin_user, crm):
    client.force_login(admin_user)
    response = client.get(preview_url(crm))
    assert response.status_code == 200
    assert len(response.context["mappings"]) == len(PLAIN_FIELDS)
    assert '<label for="id_sample">' in response.content.decode()


def test_source_change_page_links_to_the_preview(client, admin_user, crm):
    client.force_login(admin_user)
    response = client.get(reverse("admin:rcu_sourcesystem_change", args=[crm.pk]))
    assert response.status_code == 200
    assert preview_url(crm) in response.content.decode()


@pytest.mark.parametrize("persona", ["steward_marketing", "dpo", "outsider"])
def test_mapping_preview_needs_the_admin(client, request, crm, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(preview_url(crm))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_global_view_cannot_preview(client, crm):
    client.force_login(make_user("staff_steward", departments=["marketing"], is_staff=True))
    assert client.get(preview_url(crm)).status_code in (403, 404)


@pytest.mark.parametrize("model", ["sourcerecord", "customer", "importjob"])
def test_domain_rows_are_read_only_even_for_superusers(client, crm_customer, model):
    superuser = make_user("root", is_staff=True)
    superuser.is_superuser = True
    superuser.save()
    client.force_login(superuser)
    objects = {
        "sourcerecord": crm_customer.records.get(),
        "customer": crm_customer,
        "importjob": ImportJob.objects.create(source=crm_customer.records.get().source, file_name="x.csv"),
    }
    obj = objects[model]
    assert client.get(reverse(f"admin:rcu_{model}_add")).status_code == 403
    assert client.get(reverse(f"admin:rcu_{model}_delete", args=[obj.pk])).status_code == 403
    change = client.get(reverse(f"admin:rcu_{model}_change", args=[obj.pk]))
    assert change.status_code == 200
    assert not change.context["has_change_permission"]
    assert client.post(reverse(f"admin:rcu_{model}_change", args=[obj.pk]), {}).status_code == 403


def test_source_record_admin_shows_the_raw_payload(client, admin_user, crm_customer):
    client.force_login(admin_user)
    record = crm_customer.records.get()
    body = client.get(reverse("admin:rcu_sourcerecord_change", args=[record.pk])).content.decode()
    assert "Helene.Lefevre@Orange.fr" in body
    assert "12 bis av. Victor Hugo" in body


def test_customer_admin_shows_golden_values_and_provenance(client, admin_user, crm_customer):
    client.force_login(admin_user)
    body = client.get(reverse("admin:rcu_customer_change", args=[crm_customer.pk])).content.decode()
    assert "helene.lefevre@orange.fr" in body
    assert "only_value" in body and "CRM-1" in body


def test_admin_lists_respect_departments_when_a_role_is_missing(
    client, crm_customer, service_client_customer
):
    """A staff member whose only extra right is one global view sees that model, nothing else."""
    staff = make_user("limited_staff", departments=["marketing"], is_staff=True)
    group = Group.objects.create(name="sees-source-systems")
    group.permissions.add(Permission.objects.get(codename="view_sourcesystem"))
    staff.groups.add(group)
    client.force_login(staff)
    response = client.get(reverse("admin:rcu_sourcesystem_changelist"))
    assert response.status_code == 200
    assert client.get(reverse("admin:rcu_customer_changelist")).status_code == 403
    assert client.get(reverse("admin:rcu_sourcerecord_changelist")).status_code == 403


def test_admin_role_sees_every_customer_including_retired_ones(client, admin_user, crm_customer, service_client_customer):
    Customer.objects.filter(pk=service_client_customer.pk).update(merged_into=crm_customer)
    client.force_login(admin_user)
    response = client.get(reverse("admin:rcu_customer_changelist"))
    shown = {c.pk for c in response.context["cl"].result_list}
    assert shown == {crm_customer.pk, service_client_customer.pk}


def _source_form_data(source, **changes) -> dict:
    mappings = list(source.mappings.order_by("position", "id"))
    data = {
        "code": source.code, "name": source.name, "department": source.department_id,
        "trust_rank": source.trust_rank, "active": "on" if source.active else "",
        "description": source.description, "default_country": source.default_country,
        "external_id_field": source.external_id_field,
        "business_timestamp_field": source.business_timestamp_field,
        "business_timestamp_format": source.business_timestamp_format,
        "mappings-TOTAL_FORMS": str(len(mappings)), "mappings-INITIAL_FORMS": str(len(mappings)),
        "mappings-MIN_NUM_FORMS": "0", "mappings-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(mappings):
        data.update({
            f"mappings-{i}-id": m.pk, f"mappings-{i}-source": source.pk,
            f"mappings-{i}-attribute": m.attribute,
            f"mappings-{i}-source_fields": json.dumps(m.source_fields),
            f"mappings-{i}-position": m.position, f"mappings-{i}-join_with": m.join_with,
            f"mappings-{i}-trim": "on" if m.trim else "", f"mappings-{i}-case": m.case,
            f"mappings-{i}-date_format": m.date_format, f"mappings-{i}-phone_region": m.phone_region,
        })
    data.update(changes)
    return data


def test_moving_a_source_to_another_department_moves_its_permissions(
    client, admin_user, crm, service_client_source, steward_marketing, steward_service_client
):
    client.force_login(admin_user)
    new_department = service_client_source.department
    response = client.post(
        reverse("admin:rcu_sourcesystem_change", args=[crm.pk]),
        _source_form_data(crm, department=new_department.pk),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    crm.refresh_from_db()
    assert crm.department == new_department
    assert "view_sourcesystem" in get_perms(new_department.group, crm)
    assert get_perms(Group.objects.get(name="department:marketing"), crm) == []


def test_mapping_inline_refuses_unknown_attribute_and_bad_date_format(client, admin_user, crm):
    client.force_login(admin_user)
    data = _source_form_data(crm)
    index = [m.attribute for m in crm.mappings.order_by("position", "id")].index("birth_date")
    data[f"mappings-{index}-date_format"] = "%Q"
    data["mappings-0-attribute"] = "shoe_size"
    response = client.post(reverse("admin:rcu_sourcesystem_change", args=[crm.pk]), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert "attribute" in errors[0]
    assert "date_format" in errors[index]
    assert FieldMapping.objects.get(source=crm, attribute="birth_date").date_format == "%Y-%m-%d"


def test_admin_index_hides_models_from_people_without_a_role(client, crm):
    client.force_login(make_user("bare_staff", is_staff=True))
    body = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:rcu_customer_changelist") not in body


def test_admin_role_user_is_not_a_superuser(admin_user):
    assert not admin_user.is_superuser
    assert admin_user.groups.filter(name=Role.ADMIN.value).exists()


def test_adding_a_department_creates_its_group(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:rcu_department_add"), {"code": "magasins", "name": "Magasins"})
    assert response.status_code == 302
    department = Department.objects.get(code="magasins")
    assert department.group.name == "department:magasins"


def test_reading_customers_in_the_admin_is_logged(client, admin_user, crm_customer, service_client_customer):
    client.force_login(admin_user)
    client.get(reverse("admin:rcu_customer_change", args=[crm_customer.pk]))
    assert list(AccessLogEntry.objects.values_list("customer_public_id", "purpose")) == [
        (crm_customer.public_id, "admin")
    ]
    AccessLogEntry.objects.all().delete()
    client.get(reverse("admin:rcu_customer_changelist"))
    assert set(AccessLogEntry.objects.values_list("customer_public_id", flat=True)) == {
        crm_customer.public_id, service_client_customer.public_id,
    }
    AccessLogEntry.objects.all().delete()
    record = service_client_customer.records.get()
    client.get(reverse("admin:rcu_sourcerecord_change", args=[record.pk]))
    assert list(AccessLogEntry.objects.values_list("customer_public_id", flat=True)) == [
        service_client_customer.public_id
    ]
    AccessLogEntry.objects.all().delete()
    client.get(reverse("admin:rcu_customer_history", args=[crm_customer.pk]))
    assert list(AccessLogEntry.objects.values_list("customer_public_id", flat=True)) == [
        crm_customer.public_id
    ]
