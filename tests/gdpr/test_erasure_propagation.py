"""An executed erasure is told to sources and subscribers (`customer.erased`, ids only,
signed and verified by receivers on 127.0.0.1), and the request stays open until each
acknowledged: a subscriber by a 2xx, here one source's subscription that fails and then
recovers; sources without a subscription by the DPO's hand. Then it closes and the
events keep only the keyed pseudonym. Once with the sends run in this process, once
(PostgreSQL) with a real Celery worker over the real broker."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.utils import translation

from gdpr.models import RequestState, SubjectRequest
from gdpr.selectors.erasure import erasure_state
from gdpr.services.erasure_requests import (
    request_erasure_acknowledge,
    request_erasure_approve,
    request_erasure_ask,
    request_erasure_execute,
)
from gdpr.services.requests import subject_request_identity_verify
from gdpr.services.scope import request_scope_set
from rcu.models import ChangeEvent, Delivery, Subscription, public_id_pseudonym
from rcu.roles import Role
from rcu.services.deliveries import deliveries_fan_out, deliveries_send_due
from rcu.services.subscriptions import subscription_create
from rcu.tasks import subscriptions_kick
from tests.factories import TEST_ACTOR, make_user
from tests.gdpr.builders import access_request, person_with_history
from tests.webhook_receiver import Receiver


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def receivers():
    crm_side, analytics = Receiver().start(), Receiver().start()
    yield crm_side, analytics
    crm_side.stop()
    analytics.stop()


def subscribe(receiver: Receiver, name: str, **options) -> Subscription:
    created = subscription_create(name=name, target_url=receiver.url, purpose="operations",
                                  acting_user=TEST_ACTOR, attributes=["city"], **options)
    receiver.secret = created.secret
    return created.subscription


def executed_erasure(*, crm, service_client_source, eshop, steward, settings, receivers):
    """The person of three sources; the CRM has its own subscription (it is told its own
    external id), an analytics tool subscribes to everything; the other two sources have
    no subscription. The erasure is asked, approved by a second DPO and executed."""
    crm_side, analytics = receivers
    scenario = person_with_history(crm=crm, service_client_source=service_client_source,
                                   eshop=eshop, steward=steward, settings=settings)
    Subscription.objects.filter(pk=scenario.subscription.pk).update(active=False)
    crm_feed = subscribe(crm_side, "crm-feed", source=crm, event_types=["customer.erased"])
    tool = subscribe(analytics, "analytics")
    dpo, second = make_user("dpo-a", roles=[Role.DPO]), make_user("dpo-b", roles=[Role.DPO])
    request = access_request(dpo=dpo, kind="erasure")
    subject_request_identity_verify(request=request, acting_user=dpo)
    request_scope_set(request=request, customer_public_ids=[scenario.person.public_id],
                      record_ids=[], acting_user=dpo)
    request_erasure_ask(request=request, acting_user=dpo)
    request_erasure_approve(request=request, acting_user=second)
    crm_side.answer = 503  # the CRM's receiver is down when the erasure leaves
    request_erasure_execute(request=request, acting_user=dpo)
    return scenario, request, dpo, crm_feed, tool


def acknowledged(request: SubjectRequest) -> dict[str, str]:
    return {a.name: ("by hand" if a.acknowledged_by_id else "delivered") if a.acknowledged_at else "waiting"
            for a in erasure_state(request).acknowledgements}


def by_hand(request: SubjectRequest, dpo) -> None:
    for ack in erasure_state(request).acknowledgements:
        if ack.kind == "source":
            request_erasure_acknowledge(request=request, acknowledgement_id=ack.pk,
                                        note="erased in the source, ticket 4411", acting_user=dpo)


def assert_closed_and_pseudonymised(request: SubjectRequest, scenario, receivers) -> None:
    request.refresh_from_db()
    assert request.state == RequestState.DONE and request.closed_at is not None
    assert not ChangeEvent.objects.filter(customer_public_id=scenario.person.public_id).exists()
    assert ChangeEvent.objects.filter(customer_public_id=public_id_pseudonym(scenario.person.public_id),
                                      type=ChangeEvent.Type.ERASED).exists()
    assert not ChangeEvent.objects.filter(type=ChangeEvent.Type.ERASED).exclude(data={}).exists()
    pseudonymised = ChangeEvent.objects.filter(
        customer_public_id=public_id_pseudonym(scenario.person.public_id))
    assert not Delivery.objects.filter(event__in=pseudonymised).exclude(last_error="").exists()
    crm_side, analytics = receivers
    assert crm_side.refused == analytics.refused == 0
    # The CRM's own subscription was told its external id, and nobody else was.
    erased = [item.body for item in crm_side.received if item.body["type"] == "customer.erased"]
    # One per erased customer (those merged into the person too), in no set order.
    assert sorted(i for body in erased for i in body["data"]["source_ids"]) == ["CRM-1001"]
    assert str(scenario.person.public_id) in {body["data"]["customer_id"] for body in erased}
    for item in analytics.received:
        assert "CRM-1001" not in str(item.body)


@pytest.mark.django_db
def test_the_request_waits_for_a_failing_source_then_closes_when_it_recovers(
    crm, service_client_source, eshop, steward_everywhere, settings, receivers,
    django_capture_on_commit_callbacks,
):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    crm_side, _analytics = receivers
    with django_capture_on_commit_callbacks(execute=True):
        scenario, request, dpo, crm_feed, _tool = executed_erasure(
            crm=crm, service_client_source=service_client_source, eshop=eshop,
            steward=steward_everywhere, settings=settings, receivers=receivers)
    # Sent on commit (Celery runs eagerly here): the analytics tool answered 2xx, the
    # CRM's receiver 503.
    assert acknowledged(request) == {"crm-feed": "waiting", "analytics": "delivered",
                                     service_client_source.code: "waiting", eshop.code: "waiting"}
    assert Delivery.objects.filter(subscription=crm_feed, attempts__gt=0, status="pending").exists()

    def send(subscription: Subscription) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            deliveries_fan_out(subscription_id=subscription.pk)
            Delivery.objects.filter(subscription=subscription, status="pending").update(next_attempt_at=None)
            for _ in range(5):
                if not deliveries_send_due(subscription_id=subscription.pk).more_due:
                    break

    send(crm_feed)  # still down
    assert acknowledged(request)["crm-feed"] == "waiting"
    by_hand(request, dpo)
    request.refresh_from_db()
    assert request.state == RequestState.WAITING_FOR_SOURCES  # the CRM has not acknowledged
    crm_side.answer = 200  # back
    send(crm_feed)
    assert acknowledged(request)["crm-feed"] == "delivered"
    assert_closed_and_pseudonymised(request, scenario, receivers)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the worker thread needs a database it can share (PostgreSQL)")
def test_with_a_real_worker_the_request_closes_once_the_failing_source_recovers(
    celery_worker_app, crm, service_client_source, eshop, steward_everywhere, settings, receivers,
):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.RCU_WEBHOOK_RETRY_CAP_SECONDS = 1
    settings.RCU_WEBHOOK_MAX_ATTEMPTS = 10_000
    crm_side, _analytics = receivers
    scenario, request, dpo, crm_feed, _tool = executed_erasure(
        crm=crm, service_client_source=service_client_source, eshop=eshop,
        steward=steward_everywhere, settings=settings, receivers=receivers)
    by_hand(request, dpo)
    subscriptions_kick.delay()
    wait_for(lambda: acknowledged(request)["analytics"] == "delivered")
    wait_for(lambda: Delivery.objects.filter(subscription=crm_feed, attempts__gt=0).exists())
    request.refresh_from_db()
    assert request.state == RequestState.WAITING_FOR_SOURCES
    crm_side.answer = 200
    subscriptions_kick.delay()
    wait_for(lambda: SubjectRequest.objects.get(pk=request.pk).state == RequestState.DONE)
    assert acknowledged(request)["crm-feed"] == "delivered"
    assert_closed_and_pseudonymised(request, scenario, receivers)


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"not true after {seconds} s")
