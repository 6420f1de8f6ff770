"""Any sequence of consents stated by sources and on customers, merges and undone merges
gives, for every active customer, what a plain model says: the union of the statements of
its records and of those stated on it (or on customers merged into it) decides, a "no"
winning unless a "yes" is later than every "no"; an undone merge gives each side back its
own, plus the "no"s stated on the merged customer.

Each Hypothesis example runs in a savepoint of the test's transaction, rolled back in
`teardown`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gdpr.services.consents import consent_record
from rcu.models import Customer, SourceRecord
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo
from tests.factories import ingest
from tests.gdpr.consent_world import EMAIL, consent_source, in_force, purpose

pytestmark = pytest.mark.django_db

# Four people nobody would match, each in one source.
PEOPLE = [("crm", "C1", "Arnaud"), ("crm", "C2", "Béatrice"), ("shop", "S1", "Corentin"),
          ("shop", "S2", "Delphine")]
# Noon in Paris (RCU's time zone): a source's dd/mm/yyyy is that day's midnight there.
DAYS = [datetime(2024, 1, 1, 12, tzinfo=ZoneInfo("Europe/Paris")) + timedelta(days=d) for d in range(4)]
NEWSLETTER = ("newsletter", "email")

MACHINE_SETTINGS = settings(
    max_examples=40, stateful_step_count=18, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def model_rule(said: list[tuple[bool, datetime]]) -> bool | None:
    """The rule written plainly: None when nothing was said."""
    if not said:
        return None
    yes = [t for granted, t in said if granted]
    no = [t for granted, t in said if not granted]
    return bool(yes) and (not no or max(yes) > max(no))


class ConsentMachine(RuleBasedStateMachine):
    def __init__(self, sources, steward) -> None:
        super().__init__()
        self.sources, self.steward = sources, steward
        self._example = transaction.atomic()
        self._example.__enter__()
        self.records: dict[str, SourceRecord] = {}
        self.said_by_record: dict[str, list[tuple[bool, datetime]]] = {}
        self.said_on: dict[int, list[tuple[bool, datetime]]] = {}  # customer → stated on it
        self.group: dict[int, set[str]] = {}  # active customer → its records
        self.merged_into: dict[int, int] = {}
        self.undo_stack: list[tuple[int, dict[int, set[str]], dict[int, int]]] = []
        self.exercised: set[str] = set()
        self.copied_to: set[int] = set()  # customers merged away that a "no" was copied onto

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    def _row(self, key: str, **values: str) -> dict:
        _source, external_id, first_name = next(p for p in PEOPLE if p[1] == key)
        return {"id": external_id, "first_name": first_name, "last_name": f"Zz{first_name}",
                "email": f"{first_name.lower()}@example.org", "updated": "2024-05-03 10:00", **values}

    @initialize()
    def people_are_imported(self) -> None:
        for source, key, _name in PEOPLE:
            (record,) = ingest(self.sources[source], [self._row(key)])
            self.records[key] = record
            self.said_by_record[key] = []
            self.group[record.customer_id] = {key}

    def _root(self, pk: int) -> int:
        while pk in self.merged_into:
            pk = self.merged_into[pk]
        return pk

    def _family(self, pk: int) -> set[int]:
        family = {pk}
        while True:
            more = {c for c, into in self.merged_into.items() if into in family} - family
            if not more:
                return family
            family |= more

    @rule(key=st.sampled_from([p[1] for p in PEOPLE]), granted=st.booleans(), day=st.sampled_from(DAYS))
    def a_source_states(self, key, granted, day) -> None:
        source = next(p[0] for p in PEOPLE if p[1] == key)
        ingest(self.sources[source], [self._row(key, optin_email="oui" if granted else "non",
                                                optin_date=day.strftime("%d/%m/%Y"))])
        said = self.said_by_record[key]
        midnight = day.replace(hour=0)
        if not said or said[-1] != (granted, midnight):
            said.append((granted, midnight))

    @rule(data=st.data(), granted=st.booleans(), day=st.sampled_from(DAYS))
    def a_person_states_through_the_api(self, data, granted, day) -> None:
        self._state_through_the_api(data.draw(st.sampled_from(sorted(self.group))), granted, day)

    @precondition(lambda self: len(self.group) >= 2)
    @rule(data=st.data())
    def a_steward_merges(self, data) -> None:
        survivor, other = data.draw(st.lists(st.sampled_from(sorted(self.group)), min_size=2, max_size=2,
                                             unique=True))
        decision = customers_merge(customer_ids=[survivor, other], survivor_id=survivor,
                                   acting_user=self.steward)
        self.undo_stack.append((decision.pk, {k: set(v) for k, v in self.group.items()},
                                dict(self.merged_into)))
        self.group[survivor] |= self.group.pop(other)
        self.merged_into[other] = survivor
        self.exercised.add("merge")

    @precondition(lambda self: bool(self.undo_stack))
    @rule(day=st.sampled_from(DAYS))
    def a_no_on_a_merged_customer_then_the_merge_undone(self, day) -> None:
        """The case that matters most: a "no" said while a wrong merge stood."""
        _decision, _group, merged_before = self.undo_stack[-1]
        retired = next(pk for pk in self.merged_into if pk not in merged_before)
        self._state_through_the_api(self._root(retired), False, day)
        self.the_last_merge_is_undone()

    def _state_through_the_api(self, customer: int, granted: bool, day: datetime) -> None:
        consent_record(customer=Customer.objects.get(pk=customer), purpose=purpose(), channel=EMAIL,
                       granted=granted, stated_at=day, wording="v1", acting_user=self.steward)
        targets = {customer} if granted else self._family(customer)
        for pk in targets:
            self.said_on.setdefault(pk, []).append((granted, day))
        if not granted and len(targets) > 1:
            self.copied_to |= targets - {customer}

    @precondition(lambda self: bool(self.undo_stack))
    @rule()
    def the_last_merge_is_undone(self) -> None:
        decision_id, self.group, self.merged_into = self.undo_stack.pop()
        decision_undo(decision_id=decision_id, acting_user=self.steward)
        self.exercised.add("undo")
        if self.copied_to & set(self.group):
            self.exercised.add("a copied no back on its own")

    @invariant()
    def every_active_customer_holds_what_the_model_says(self) -> None:
        if not self.group:
            return
        assert set(Customer.objects.filter(merged_into__isnull=True, records__isnull=False)
                   .values_list("pk", flat=True)) == set(self.group)
        for customer, keys in self.group.items():
            said = [s for k in keys for s in self.said_by_record[k]]
            said += [s for pk, stated in self.said_on.items() if self._root(pk) == customer for s in stated]
            assert in_force(customer).get(NEWSLETTER) == model_rule(said), (customer, said)


def test_any_sequence_of_statements_merges_and_undos_matches_the_model(steward_everywhere):
    sources = {"crm": consent_source("crm", department="marketing", trust_rank=1),
               "shop": consent_source("shop", department="ecommerce", trust_rank=2)}
    exercised: set[str] = set()

    def machine() -> ConsentMachine:
        m = ConsentMachine(sources, steward_everywhere)
        m.exercised = exercised  # shared across examples: did the run cover each branch?
        return m

    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
    assert {"merge", "undo", "a copied no back on its own"} <= exercised
