"""Factories and small builders shared by every test module.

Records are stored through the real ingestion path (mapping, normalisation,
upsert), so tests see the same data the application would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from rcu.actors import SystemActor
from rcu.models import MatchSettings, SourceRecord, SourceSystem
from rcu.roles import Role
from rcu.selectors.sources import source_row_mapper
from rcu.services.changes import change_save
from rcu.services.ingestion import records_upsert
from rcu.services.matching.context import match_settings_get
from rcu.services.sources import department_get_or_create, source_configure

PASSWORD = "correct-horse-battery-staple"
# Who sets a test's scene up: RCU itself, not one of the users under test.
TEST_ACTOR = SystemActor(job="test setup")

# A source whose columns are the canonical attribute names: handy in tests.
PLAIN_FIELDS = [
    "civility", "first_name", "last_name", "birth_date", "email", "phone", "mobile",
    "address_line1", "address_line2", "postcode", "city", "country",
]


def frozen_default_model() -> MatchSettings:
    """The engine's default model and thresholds, frozen: known scores. Written as any
    change to the settings is, through the recording helper (its history row names the
    test's actor)."""
    settings = match_settings_get()
    for name, value in {"auto_link": 0.99, "review": 0.5, "max_block_size": 300, "model": None,
                        "model_frozen": True, "model_trained_at": timezone.now()}.items():
        setattr(settings, name, value)
    change_save(settings, acting_user=TEST_ACTOR, reason="the default model, frozen")
    return settings


STAFF_FIRST_NAMES = ("Théodule", "Pémartine", "Brindille", "Oswaldine")
STAFF_LAST_NAMES = ("Brindejonc", "Quenouille", "Vautrinel", "Pémartin")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    # Staff names never drawn from the names the tests give customers: a page that must not
    # show the person ("Hélène") may well show who is signed in.
    first_name = factory.Sequence(lambda n: STAFF_FIRST_NAMES[n % len(STAFF_FIRST_NAMES)])
    last_name = factory.Sequence(lambda n: STAFF_LAST_NAMES[n % len(STAFF_LAST_NAMES)])
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)


def make_user(username: str, *, roles: Iterable[Role] = (), departments: Iterable[str] = (),
              is_staff: bool = False):
    user = UserFactory(username=username, is_staff=is_staff)
    user.save()
    for role in roles:
        user.groups.add(Group.objects.get(name=role.value))
    for code in departments:
        user.groups.add(department_get_or_create(code=code, acting_user=TEST_ACTOR).group)
    return user


def make_source(code: str, *, department: str, trust_rank: int = 5,
                fields: Iterable[str] = PLAIN_FIELDS, date_format: str = "%Y-%m-%d",
                extra: Mapping[str, Any] | None = None) -> SourceSystem:
    """A source whose columns are named like the canonical attributes, plus `id` and `updated`."""
    config: dict[str, Any] = {
        "code": code,
        "name": code.upper(),
        "department": department,
        "trust_rank": trust_rank,
        "default_country": "FR",
        "external_id": "id",
        "business_timestamp": {"source": "updated", "format": "%Y-%m-%d %H:%M"},
        "fields": [
            {"source": f, "attribute": f, **({"format": date_format} if f == "birth_date" else {})}
            for f in fields
        ],
    }
    config.update(extra or {})
    source, _ = source_configure(data=config, acting_user=TEST_ACTOR)
    return source


def ingest(source: SourceSystem, rows: Iterable[Mapping[str, Any]], *, acting_user: Any = TEST_ACTOR) -> list[SourceRecord]:
    """Store rows through the real mapping + normalisation + upsert path."""
    mapper = source_row_mapper(source)
    mapped = []
    for line, row in enumerate(rows, start=2):
        outcome = mapper.map(line, {k: ("" if v is None else v) for k, v in row.items()})
        assert not hasattr(outcome, "reason"), f"row refused: {outcome}"
        mapped.append(outcome)
    result = records_upsert(source=source, rows=mapped, acting_user=acting_user)
    by_id = SourceRecord.objects.select_related("customer").in_bulk(result.record_ids.values())
    return [by_id[result.record_ids[m.external_id]] for m in mapped]
