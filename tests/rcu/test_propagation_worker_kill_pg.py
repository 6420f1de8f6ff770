"""A Celery worker process killed (SIGKILL) in the middle of sending deliveries loses
nothing: the outbox rows, not the broker, are the truth. Another worker sends what was
left; a receiver that honours `webhook-id` applies every event exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import connection

from rcu.models import ChangeEvent, Delivery
from rcu.services.subscriptions import subscription_create
from rcu.tasks import subscriptions_kick
from tests.celery_worker import BROKER_URL
from tests.factories import TEST_ACTOR, ingest, make_source
from tests.webhook_receiver import Receiver

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="worker processes share the test database (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 120


def start_worker(log: Path) -> subprocess.Popen:
    """A worker process on the test database and broker, like a production one."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rcu", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not after {seconds} s")


def pending() -> int:
    return Delivery.objects.filter(status=Delivery.Status.PENDING).count()


def test_a_worker_killed_mid_delivery_loses_nothing_and_nothing_is_applied_twice(
    celery_broker_app, tmp_path, settings
):
    receiver = Receiver(on_received=lambda item: time.sleep(0.02)).start()  # a slowish receiver
    worker = None
    try:
        crm = make_source("crm", department="marketing")
        created = subscription_create(name="crm", target_url=receiver.url, purpose="operations",
                                      acting_user=TEST_ACTOR, attributes=["city"])
        receiver.secret = created.secret
        for city in ("Paris", "Lyon", "Nantes"):
            ingest(crm, [{"id": f"P{n}", "first_name": f"Hélène{n}", "last_name": "Lefèvre",
                          "city": city} for n in range(PEOPLE)])
        events = ChangeEvent.objects.count()
        assert events >= 3 * PEOPLE

        worker = start_worker(tmp_path / "worker-1.log")
        subscriptions_kick.delay()
        wait_for(lambda: len(receiver.received) >= 40, 90, "the first worker started sending")
        worker.send_signal(signal.SIGKILL)  # mid-batch: sends in flight, rows not yet marked
        worker.wait(10)
        time.sleep(0.5)
        cut_at = len(receiver.applied)
        assert cut_at < events, "the worker finished before it was killed: the test proved nothing"
        assert pending() > 0

        worker = start_worker(tmp_path / "worker-2.log")
        subscriptions_kick.delay()  # what celery beat does each minute
        wait_for(lambda: pending() == 0 and len(receiver.applied) == events, 180,
                 "every event delivered by the second worker")
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(20)
        receiver.stop()

    print(f"received {len(receiver.received)} requests for {events} events; {cut_at} applied when killed")
    assert receiver.refused == 0
    assert set(receiver.applied) == {f"evt_{pk}" for pk in ChangeEvent.objects.values_list("pk", flat=True)}
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == events
    versions = defaultdict(list)
    for item in receiver.received:
        versions[item.body["data"]["customer_id"]].append(item.body["data"]["version"])
    for seen in versions.values():  # a redelivery repeats a version, never goes back before it
        firsts = list(dict.fromkeys(seen))
        assert firsts == sorted(firsts)
