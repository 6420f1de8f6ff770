"""Any sequence of asking, approving, refusing, withdrawing, executing and recording
holds, by any of the DPO, a second DPO, an admin and a steward, keeps the four-eyes
rule: the person is erased only once, by the DPO, after someone other than who asked
(with the DPO or admin role) approved exactly that; a refusal always has its reason;
at most one execution is in force. Each Hypothesis example runs in a savepoint rolled
back in `teardown`."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone, translation
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from gdpr.models import ErasureApproval, ErasureStatus, RequestKind
from gdpr.services.erasure_requests import (
    request_erasure_approve,
    request_erasure_ask,
    request_erasure_execute,
    request_erasure_refuse,
    request_legal_hold_add,
)
from gdpr.services.requests import (
    RequestRefused,
    subject_request_create,
    subject_request_identity_verify,
)
from gdpr.services.scope import request_scope_set
from rcu.models import Customer
from rcu.roles import Role
from tests.factories import ingest, make_user

pytestmark = pytest.mark.django_db

PEOPLE = ["dpo", "dpo2", "admin", "steward"]
MACHINE_SETTINGS = settings(
    max_examples=15, stateful_step_count=10, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# What the examples reached, across all of them: a run that never approved or executed
# would prove nothing about the rule.
SEEN: Counter[str] = Counter()


class FourEyesMachine(RuleBasedStateMachine):
    def __init__(self, users: dict, crm) -> None:
        super().__init__()
        self.users, self.crm = users, crm
        self._example = transaction.atomic()
        self._example.__enter__()
        (record,) = ingest(crm, [{"id": "C-1", "first_name": "Odile", "last_name": "Vasseur",
                                  "email": "odile.vasseur@exemple.fr"}])
        self.customer_id = record.customer_id
        dpo = users["dpo"]
        self.request = subject_request_create(kind=RequestKind.ERASURE, received_on=timezone.localdate(),
                                              subject={"email": "odile.vasseur@exemple.fr"},
                                              acting_user=dpo)
        subject_request_identity_verify(request=self.request, acting_user=dpo)
        request_scope_set(request=self.request, customer_public_ids=[record.customer.public_id],
                          record_ids=[], acting_user=dpo)
        self.executions = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    def _try(self, action, **kwargs) -> bool:
        try:
            action(request=self.request, **kwargs)
        except RequestRefused:
            return False
        return True

    @rule(who=st.sampled_from(PEOPLE))
    def ask(self, who) -> None:
        self._try(request_erasure_ask, acting_user=self.users[who])

    @rule(who=st.sampled_from(PEOPLE))
    def approve(self, who) -> None:
        live = ErasureApproval.objects.exclude(status=ErasureStatus.REFUSED).first()
        done = self._try(request_erasure_approve, acting_user=self.users[who])
        if done:
            SEEN["approved"] += 1
            assert live is not None and live.status == ErasureStatus.ASKED
            assert live.asked_by != self.users[who] and who != "steward"

    @rule(who=st.sampled_from(PEOPLE), reason=st.sampled_from(["wrong person", "not the same person", " "]))
    def refuse(self, who, reason) -> None:
        done = self._try(request_erasure_refuse, reason=reason, acting_user=self.users[who])
        if done:
            SEEN["refused"] += 1
            assert reason.strip() and who != "steward"

    @rule(who=st.sampled_from(PEOPLE))
    def execute(self, who) -> None:
        approved = ErasureApproval.objects.filter(status=ErasureStatus.APPROVED).first()
        done = self._try(request_erasure_execute, acting_user=self.users[who])
        if done:
            SEEN["executed"] += 1
            self.executions += 1
            assert approved is not None and who in ("dpo", "dpo2")

    @rule(who=st.sampled_from(PEOPLE))
    def hold(self, who) -> None:
        before = ErasureApproval.objects.exclude(status=ErasureStatus.REFUSED).exists()
        done = self._try(request_legal_hold_add, source_code=self.crm.code, legal_basis="art. L123-22",
                         reason="invoices", keep_until=timezone.localdate() + timedelta(days=900),
                         acting_user=self.users[who])
        if done:
            assert not before  # holds are fixed once the execution is asked for

    @invariant()
    def erased_only_after_a_second_pair_of_eyes(self) -> None:
        erased = not Customer.objects.filter(pk=self.customer_id).exists()
        executed = list(ErasureApproval.objects.filter(status=ErasureStatus.EXECUTED))
        assert erased == bool(executed)
        assert self.executions == len(executed) <= 1
        for approval in executed:
            assert approval.decided_by_id != approval.asked_by_id
            assert approval.decided_by.has_perm("gdpr.approve_erasure")
            assert approval.executed_by.has_perm("gdpr.handle_subjectrequest")

    @invariant()
    def one_execution_in_force_and_reasons_for_refusals(self) -> None:
        assert ErasureApproval.objects.exclude(status=ErasureStatus.REFUSED).count() <= 1
        assert not ErasureApproval.objects.filter(status=ErasureStatus.REFUSED, refusal_reason="").exists()


def test_any_sequence_keeps_the_four_eyes_rule(crm):
    users = {
        "dpo": make_user("dpo", roles=[Role.DPO]), "dpo2": make_user("dpo2", roles=[Role.DPO]),
        "admin": make_user("admin", roles=[Role.ADMIN]),
        "steward": make_user("steward", roles=[Role.STEWARD], departments=["marketing"]),
    }
    with translation.override("en"):
        run_state_machine_as_test(lambda: FourEyesMachine(users, crm), settings=MACHINE_SETTINGS)
    assert SEEN["approved"] and SEEN["executed"] and SEEN["refused"], SEEN
