"""A real Celery worker on a real broker, in a thread of the test process, for the tests
whose behaviour depends on queues (imports, matching runs, deliveries)."""

from __future__ import annotations

import os

import pytest

from rcu.celery import app

BROKER_URL = os.environ.get("RCU_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def _broker_reachable() -> bool:
    try:
        with app.connection_for_write(BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@pytest.fixture
def celery_worker_app():
    if not _broker_reachable():
        pytest.skip(f"no Celery broker at {BROKER_URL}")
    from celery.contrib.testing.worker import start_worker

    keys = ("task_always_eager", "broker_url", "result_backend")
    saved = {key: app.conf.get(key) for key in keys}
    app.conf.update(task_always_eager=False, broker_url=BROKER_URL, result_backend=None)
    _forget_connections()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=20):
            yield app
    finally:
        app.conf.update(saved)
        _forget_connections()


@pytest.fixture
def celery_broker_app():
    """Tasks go to the real broker, for workers started by the test as processes."""
    if not _broker_reachable():
        pytest.skip(f"no Celery broker at {BROKER_URL}")
    keys = ("task_always_eager", "broker_url", "result_backend")
    saved = {key: app.conf.get(key) for key in keys}
    app.conf.update(task_always_eager=False, broker_url=BROKER_URL, result_backend=None)
    _forget_connections()
    try:
        yield app
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    """Producers are pooled per app: drop them so the next ones use the broker now set."""
    app.close()
    app.amqp._producer_pool = None
