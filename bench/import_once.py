"""Import a generated data set into the database named by DATABASE_URL; print JSON figures.

Run by `bench.run` in a fresh process per (database, size), so that peak memory
(ru_maxrss) belongs to this import alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import psutil


class PeakMemory:
    """Samples the resident memory of this process and its helper processes together."""

    def __init__(self, interval: float = 0.1) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # it may have just exited
                    total += child.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main(data_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from rcu.actors import SystemActor
    from rcu.demo import source_config_paths
    from rcu.models import Customer, SourceRecord
    from rcu.services.imports import import_job_create, import_job_run
    from rcu.services.sources import source_configure

    call_command("migrate", verbosity=0)
    sources = {}
    for path in source_config_paths():
        source, _ = source_configure(data=json.loads(path.read_text(encoding="utf-8")), acting_user=SystemActor(job="bench"))
        sources[source.code] = source
    files = {code: data_dir / name for code, name in (
        ("crm", "crm.csv"), ("eshop", "eshop.jsonl"), ("caisse", "caisse.csv"),
        ("service_client", "service_client.csv"),
    )}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    per_source = {}
    with PeakMemory() as memory:
        _import_all(files, sources, per_source, import_job_create, import_job_run)
    seconds = time.perf_counter() - started
    records = sum(s["records"] for s in per_source.values())
    print(json.dumps({
        "records": records,
        "stored_records": SourceRecord.objects.count(),
        "customers": Customer.objects.count(),
        "seconds": round(seconds, 2),
        "records_per_second": round(records / seconds),
        "peak_rss_mib": round(memory.peak / 2**20),
        "rss_before_import_mib": round(rss_before / 1024),
        "per_source": per_source,
    }))


def _import_all(files, sources, per_source, import_job_create, import_job_run) -> None:
    from rcu.actors import SystemActor

    BENCH_ACTOR = SystemActor(job="bench")
    for code, path in files.items():
        t0 = time.perf_counter()
        job, _ = import_job_create(source=sources[code], path=path, acting_user=BENCH_ACTOR)
        job = import_job_run(job=job)
        per_source[code] = {
            "records": job.created_count + job.updated_count + job.unchanged_count,
            "rejected": job.rejected_count,
            "seconds": round(time.perf_counter() - t0, 2),
        }


if __name__ == "__main__":
    main(Path(sys.argv[1]))
