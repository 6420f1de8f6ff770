"""One way to record a change: every history row is written through
`rcu.services.changes`, every write service names its actor, reasons are kept whole,
RCU's own changes say so, and a decision's states are typed and still undo when
written in the older shape."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

from rcu.actors import SystemActor
from rcu.models import Customer, MatchSettings, SourceRecord
from rcu.roles import Role
from rcu.services.changes import HISTORY_REASON_MAX, history_reason
from stewardship.decision_states import CustomerBefore, PairChanges, StateAfter, StateBefore
from stewardship.models import Decision
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo
from tests.factories import TEST_ACTOR, frozen_default_model, make_user
from tests.stewardship.ledger import one

ROOT = Path(__file__).resolve().parent.parent
RECORDING_MODULES = {
    ROOT / "rcu/services/changes.py", ROOT / "rcu/services/history_sql.py",
    # An erasure deletes and scrubs history rows instead of appending them: the one
    # documented exception (docs/erasure.md), kept in its own module.
    ROOT / "rcu/services/erasure_history.py",
}
SIMPLE_HISTORY_INTERNALS = re.compile(
    r"\b_history_user|\b_change_reason|bulk_create_with_history|bulk_update_with_history"
    r"|update_change_reason|skip_history_when_saving|history_sql|pg_insert_(new_)?with_history"
)
SERVICE_PACKAGES = ["rcu.services", "stewardship.services", "gdpr", "quality.services"]


def _product_modules():
    for app in ("rcu", "stewardship", "gdpr", "quality"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_only_the_recording_helper_touches_simple_history_internals():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _product_modules() if path not in RECORDING_MODULES
        for match in SIMPLE_HISTORY_INTERNALS.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _service_functions():
    for package_name in SERVICE_PACKAGES:
        package = importlib.import_module(package_name)
        paths = getattr(package, "__path__", None)
        modules = [package] if paths is None else [
            importlib.import_module(f"{package_name}.{info.name}")
            for info in pkgutil.walk_packages(paths) if not info.name.startswith("_")
        ]
        for module in modules:
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ == module.__name__ != "rcu.services.changes":
                    yield f"{module.__name__}.{name}", inspect.signature(function)


def test_every_write_service_requires_its_actor_by_keyword():
    services = dict(_service_functions())
    taking_an_actor = {name: sig.parameters["acting_user"] for name, sig in services.items()
                       if "acting_user" in sig.parameters}
    assert len(taking_an_actor) > 40  # the check looks at the real services
    loose = [
        name for name, parameter in taking_an_actor.items()
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY
        or parameter.default is not inspect.Parameter.empty
    ]
    assert loose == []


@pytest.mark.django_db
def test_a_reason_is_kept_whole_where_it_fits_and_cut_in_one_place_where_it_does_not():
    steward = make_user("steward")
    short = "Même personne : la cliente a déménagé"
    assert history_reason(short, acting_user=steward) == short
    long = "x" * 300
    cut = history_reason(long, acting_user=steward)
    assert len(cut) == HISTORY_REASON_MAX and cut.endswith("…")
    assert history_reason("", acting_user=SystemActor("import #3")) == "import #3"
    assert history_reason("linked", acting_user=SystemActor("import #3")) == "import #3: linked"


@pytest.mark.django_db
def test_a_long_reason_and_the_word_merge_are_stored_whole_on_the_decision(crm, eshop):
    steward = make_user("steward", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])
    a = one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre"})
    b = one(eshop, "E1", {"first_name": "Hélène", "last_name": "Lefèvre"})
    long = "Appel de la cliente le 3 mars : " + "elle confirme son adresse. " * 30
    merged = customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                             reason=long)
    assert Decision.objects.get(pk=merged.pk).reason == long
    history = Customer.history.filter(id=a.customer_id).latest("history_id")
    assert history.history_user == steward
    assert len(history.history_change_reason) == HISTORY_REASON_MAX

    undone = decision_undo(decision_id=merged.pk, acting_user=steward, reason="merge")
    assert undone.reason == "merge"  # a steward's word, not a sentinel for "none given"


@pytest.mark.django_db
def test_rcu_own_changes_have_no_user_and_name_the_job(crm, eshop):
    record = one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre"})
    created = record.history.earliest("history_id")
    assert created.history_user is None
    assert created.history_change_reason == f"{TEST_ACTOR.job}: ingest"


@pytest.mark.django_db
def test_the_tests_set_their_scene_through_the_recording_helper_too():
    frozen_default_model()
    row = MatchSettings.history.latest("history_id")
    assert row.model_frozen and row.model is None
    assert row.history_user is None
    assert row.history_change_reason == f"{TEST_ACTOR.job}: the default model, frozen"


def test_decision_states_go_to_json_and_back_exactly():
    before = StateBefore(
        records={11: 1, 12: 2},
        customers={1: CustomerBefore(merged_into=None,
                                     pinned={"email": {"source": "crm", "external_id": "C1"}})},
        candidates={7: "open"},
        golden={1: {"first_name": "HÉLÈNE", "birth_date": "1980-01-02"}},
        fingerprints={11: "ab", 12: "cd"},
    )
    after = StateAfter(
        records={11: 1, 12: 1}, merged_into={1: None, 2: 1}, created=[],
        pair_decisions=PairChanges(created=[(11, 12)], replaced=[(11, 13, "cannot_link")]),
        candidates={7: "merged"},
    )
    assert StateBefore.from_json(before.to_json()) == before
    assert StateAfter.from_json(after.to_json()) == after
    assert before.to_json()["version"] == after.to_json()["version"] == 1


@pytest.mark.django_db
def test_a_decision_written_in_the_older_untyped_shape_still_undoes(crm, eshop):
    steward = make_user("steward", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])
    a = one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre"})
    b = one(eshop, "E1", {"first_name": "Helene", "last_name": "Lefevre"})
    merged = customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward)
    # The shape written before states were typed: the same keys, no version.
    old_before = {k: v for k, v in merged.before.items() if k != "version"}
    old_after = {k: v for k, v in merged.after.items() if k != "version"}
    Decision.objects.filter(pk=merged.pk).update(before=old_before, after=old_after)

    decision_undo(decision_id=merged.pk, acting_user=steward)

    assert SourceRecord.objects.get(pk=a.pk).customer_id == a.customer_id
    assert SourceRecord.objects.get(pk=b.pk).customer_id == b.customer_id
    assert Customer.objects.get(pk=b.customer_id).merged_into_id is None
