"""Import a generated data set into the database named by DATABASE_URL; print JSON figures.

Run by `bench.run` in a fresh process per (database, size), so that peak memory
(ru_maxrss) belongs to this import alone.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def main(data_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from rcu.demo import source_config_paths
    from rcu.models import Customer, SourceRecord
    from rcu.services.imports import import_job_create, import_job_run
    from rcu.services.sources import source_configure

    call_command("migrate", verbosity=0)
    sources = {}
    for path in source_config_paths():
        source, _ = source_configure(data=json.loads(path.read_text(encoding="utf-8")))
        sources[source.code] = source
    files = {code: data_dir / name for code, name in (
        ("crm", "crm.csv"), ("eshop", "eshop.jsonl"), ("caisse", "caisse.csv"),
        ("service_client", "service_client.csv"),
    )}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    per_source = {}
    for code, path in files.items():
        t0 = time.perf_counter()
        job, _ = import_job_create(source=sources[code], path=path)
        job = import_job_run(job=job)
        per_source[code] = {
            "records": job.created_count + job.updated_count + job.unchanged_count,
            "rejected": job.rejected_count,
            "seconds": round(time.perf_counter() - t0, 2),
        }
    seconds = time.perf_counter() - started
    records = sum(s["records"] for s in per_source.values())
    print(json.dumps({
        "records": records,
        "stored_records": SourceRecord.objects.count(),
        "customers": Customer.objects.count(),
        "seconds": round(seconds, 2),
        "records_per_second": round(records / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_import_mib": round(rss_before / 1024),
        "peak_rss_mapper_process_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ),
        "per_source": per_source,
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
