"""Propagation: deliveries per second to a local receiver with one worker, the lag of
events under load, and what the outbox adds to an import and to a merge.

Run by `bench.run` (BENCH_PARTS=propagation) in a scratch PostgreSQL database:

1. the cost of the outbox: the same import (BENCH_PROPAGATION_RECORDS records, one file)
   and the same merges, timed with no subscriber, then with one subscriber (whose
   deliveries are not sent during the timing); the ratio with/without (target ≤ 1.15);
2. throughput: the events of that import delivered by one process calling the delivery
   task's code to a receiver on 127.0.0.1 that verifies every signature (target ≥ 200/s);
3. lag under load: changes written by a writer process (as an import worker or the web
   server would) while the delivering process sends them; the age of each event when the
   receiver gets it, p95 (target < 5 s). The writer is a process of its own: in a thread
   it would share the deliverer's interpreter lock, which no deployment does.

Prints one JSON line (the result) last.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = int(os.environ.get("BENCH_PROPAGATION_RECORDS", "5000"))
MERGES = int(os.environ.get("BENCH_PROPAGATION_MERGES", "200"))
LAG_SECONDS = float(os.environ.get("BENCH_PROPAGATION_LAG_SECONDS", "20"))


def _people(prefix: str, count: int, city: str = "Paris") -> list[dict]:
    return [{"id": f"{prefix}{n}", "first_name": f"Prénom{n}", "last_name": f"Nom{n % 997}",
             "email": f"p{n}@example.org", "city": city, "birth_date": "1980-01-01"}
            for n in range(count)]


def _import(source, rows) -> float:
    from rcu.actors import SystemActor
    from rcu.selectors.sources import source_row_mapper
    from rcu.services.ingestion import records_upsert

    mapper = source_row_mapper(source)
    mapped = [mapper.map(n, row) for n, row in enumerate(rows, 1)]
    started = time.perf_counter()
    for start in range(0, len(mapped), 1000):
        records_upsert(source=source, rows=mapped[start:start + 1000],
                       acting_user=SystemActor(job="bench"))
    return time.perf_counter() - started


def _merges(steward, pairs) -> float:
    from stewardship.services.merge import customers_merge

    started = time.perf_counter()
    for a, b in pairs:
        customers_merge(customer_ids=[a, b], acting_user=steward, survivor_id=a)
    return time.perf_counter() - started


def _scenario(tag: str, crm, eshop, steward) -> tuple[float, float]:
    from rcu.models import SourceRecord

    seconds_import = _import(crm, _people(f"{tag}C", RECORDS))
    _import(eshop, _people(f"{tag}E", MERGES, city="Lyon"))
    crm_customers = dict(SourceRecord.objects.filter(source=crm, external_id__startswith=f"{tag}C")
                         .values_list("external_id", "customer_id"))
    eshop_customers = dict(SourceRecord.objects.filter(source=eshop, external_id__startswith=f"{tag}E")
                           .values_list("external_id", "customer_id"))
    pairs = [(crm_customers[f"{tag}C{n}"], eshop_customers[f"{tag}E{n}"]) for n in range(MERGES)]
    return seconds_import, _merges(steward, pairs)


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    os.environ["RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = "True"  # the receiver is on loopback
    # Workers are not measured here: queued tasks (the matching run a merge asks for,
    # deliveries kicked on commit) stay in an in-memory queue, as on a busy broker.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "False"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from rcu.actors import SystemActor
    from rcu.models import ChangeEvent, Delivery, Subscription
    from rcu.roles import Role
    from rcu.services.deliveries import deliveries_fan_out, deliveries_send_due
    from rcu.services.subscriptions import subscription_create
    from tests.factories import make_source, make_user

    call_command("migrate", verbosity=0)
    actor = SystemActor(job="bench")
    crm = make_source("crm", department="marketing")
    eshop = make_source("eshop", department="ecommerce")
    steward = make_user("bench_steward", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])

    _scenario("W", crm, eshop, steward)  # warm-up: caches, plans, the first customers
    without = _scenario("A", crm, eshop, steward)
    # The receiver runs in its own process: what is measured is RCU's side.
    created = subscription_create(name="bench", target_url="http://127.0.0.1:9/", purpose="operations",
                                  attributes=["city", "email"], acting_user=actor)
    log_path = Path(tempfile.mkdtemp()) / "received.log"
    receiver = subprocess.Popen(
        [sys.executable, "-m", "tests.webhook_receiver", "--secret", created.secret,
         "--log", str(log_path)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = receiver.stdout.readline().strip()
    Subscription.objects.filter(pk=created.subscription.pk).update(target_url=url)
    # Paused while timing: deliveries are the worker's cost, not the writer's.
    Subscription.objects.filter(pk=created.subscription.pk).update(paused_at=django_now())
    with_subscriber = _scenario("B", crm, eshop, steward)
    Subscription.objects.filter(pk=created.subscription.pk).update(paused_at=None)

    # Throughput: every event of scenario B, fanned out then delivered by one process.
    events = ChangeEvent.objects.filter(pk__gt=created.subscription.cursor).count()
    started = time.perf_counter()
    deliveries_fan_out(subscription_id=created.subscription.pk)
    while deliveries_send_due(subscription_id=created.subscription.pk, limit=2000).more_due:
        pass
    seconds_deliver = time.perf_counter() - started
    delivered = Delivery.objects.filter(status="delivered").count()

    # Lag under load: a writer process keeps changing customers while this one delivers.
    lags: list[float] = []
    received_before = len(log_path.read_text().splitlines())
    writer = subprocess.Popen([sys.executable, "-m", "bench.propagation", "--writer"], cwd=ROOT,
                              stdin=subprocess.PIPE, text=True)
    deadline = time.monotonic() + LAG_SECONDS
    while time.monotonic() < deadline:
        deliveries_fan_out(subscription_id=created.subscription.pk)
        deliveries_send_due(subscription_id=created.subscription.pk, limit=500)
        time.sleep(0.05)
    writer.stdin.close()  # stops after its current import
    writer.wait(timeout=120)
    received = log_path.read_text().splitlines()
    for line in received[received_before:]:
        received_at, _id, occurred = line.split(" ", 2)
        lags.append(float(received_at) - _parse(occurred))
    receiver.stdin.close()
    receiver.wait(timeout=10)
    applied = {line.split(" ")[1] for line in received}
    lag_p95 = statistics.quantiles(lags, n=20)[18] if len(lags) >= 20 else None
    return {
        "records": RECORDS, "merges": MERGES,
        "import_seconds": {"without": round(without[0], 3), "with": round(with_subscriber[0], 3)},
        "merge_seconds": {"without": round(without[1], 3), "with": round(with_subscriber[1], 3)},
        "import_ratio": round(with_subscriber[0] / without[0], 3),
        "merge_ratio": round(with_subscriber[1] / without[1], 3),
        "events_delivered": delivered, "events": events,
        "deliveries_per_second": round(delivered / seconds_deliver, 1),
        "not_applied": len(_delivered_ids() - applied),
        "lag_events": len(lags),
        "lag_p95_seconds": round(lag_p95, 3) if lag_p95 is not None else None,
    }


def _delivered_ids() -> set[str]:
    from rcu.models import Delivery

    return {f"evt_{e}" for e in Delivery.objects.filter(status="delivered").values_list("event_id", flat=True)}


def django_now():
    from django.utils import timezone

    return timezone.now()


def _parse(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def results_table(result: dict) -> str:
    if "error" in result:
        return f"propagation: {result['error']}"
    return "\n".join([
        "| propagation | figure | target |",
        "| --- | --- | --- |",
        f"| deliveries per second, one process, local receiver verifying signatures | "
        f"{result['deliveries_per_second']} ({result['events_delivered']} of {result['events']}) | ≥ 200 |",
        f"| lag p95 under load ({result['lag_events']} events) | {result['lag_p95_seconds']} s | < 5 s |",
        f"| import of {result['records']} records, with / without a subscriber | "
        f"{result['import_seconds']['with']} / {result['import_seconds']['without']} s "
        f"(ratio {result['import_ratio']}) | ≤ 1.15 |",
        f"| {result['merges']} merges, with / without a subscriber | "
        f"{result['merge_seconds']['with']} / {result['merge_seconds']['without']} s "
        f"(ratio {result['merge_ratio']}) | ≤ 1.15 |",
        f"| acknowledged but not applied by the receiver | {result['not_applied']} | 0 |",
    ])


def writer_main() -> None:
    """The lag part's writer: imports 50 changed people at a time until stdin closes."""
    import threading

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "False"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from rcu.models import SourceSystem

    crm = SourceSystem.objects.get(code="crm")
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    n = 0
    while not stop.is_set():
        _import(crm, _people("L", 50, city=f"Ville{n}"))
        n += 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--writer"]:
        writer_main()
    else:
        print(json.dumps(main()), flush=True)
