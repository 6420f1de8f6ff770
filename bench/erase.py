"""Erasing one person from a million records: the database part and the file part.

    .venv/bin/python -m bench.erase [--records 1000000] [--persons 3] [--rebuild]

Runs against BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432, trust auth):

1. the base, built once into `rcu_bench_erase_<records>` and reused as a template
   (`--rebuild` builds it again): the dashboards' base (`bench.dashboards.build`: four
   sources, `--records` records with history rows, candidates, must-links, decisions),
   plus what an erasure reads that the dashboards do not: the blocking keys of every
   record (`MatchKey`, about nine a record) and one imported file per source holding
   all its records (under .bench/erase-media-<records>/, the files an erasure scans);
2. a copy of it (`CREATE DATABASE … TEMPLATE`, and a copy of the media folder) where
   `--persons` people are seeded through the real ingestion path: three records each
   (three sources), two edits of one, a steward's merge of their three customers, a
   rejected row, and a line in two of the imported files;
3. each person erased (`persons_erase`), timed: the whole erasure, the file part (the
   time spent reading and rewriting stored files, `_file_rewrite`) and the database part
   (the rest), with the slowest statements. Target: the database part under 5 s.

Prints one JSON line; `bench.run` (part "erase") writes .bench/erase-results.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench.template_base import measured_on_a_copy

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
WORK = ROOT / ".bench"
DB_TARGET_S = 5.0
HEADER = ["id", "civility", "first_name", "last_name", "birth_date", "email", "mobile",
          "address_line1", "postcode", "city", "country"]


def _media(database: str) -> Path:
    return WORK / f"media-{database}"


def _env(database: str) -> dict:
    from bench.dashboards import _env as dashboards_env

    return dict(dashboards_env(database), MEDIA_ROOT=str(_media(database)))


def _child(step: str, database: str, args: list[str]) -> dict:
    env = _env(database)
    if step == "measure":
        # The matching run a steward's merge queues is a worker's job: it stays in an
        # in-memory queue here (eagerly, each seeded merge would run it over the base).
        env["CELERY_TASK_ALWAYS_EAGER"] = "False"
    process = subprocess.run(
        [sys.executable, "-m", "bench.erase", "--step", step, *args], cwd=ROOT,
        env=env, capture_output=True, text=True, check=False,
    )
    if process.returncode != 0:
        raise SystemExit(f"bench.erase {step} failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# --- the base ------------------------------------------------------------------------

def build(records: int, seed: int) -> dict:
    from bench import dashboards

    started = time.perf_counter()
    built = dashboards.build(records, seed)
    keys = _match_keys()
    files = _import_files()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {**built, "match_keys": keys, "import_file_lines": files,
            "build_s": round(time.perf_counter() - started, 1)}


def _comparison_keys(attributes: dict) -> dict:
    """The comparison keys the normaliser would give these generated values (upper-case
    names and towns, lower-case e-mail, ISO dates)."""
    keys = {name: str(attributes[name]).upper() for name in ("first_name", "last_name", "city")
            if attributes.get(name)}
    for name in ("birth_date", "postcode", "mobile"):
        if attributes.get(name):
            keys[name] = str(attributes[name])
    if attributes.get("email"):
        keys["email"] = str(attributes["email"]).lower()
    return keys


def _match_keys() -> int:
    """Every record's blocking keys, written by COPY as an import writes them."""
    from django.db import connection, transaction

    from rcu.models import SourceRecord
    from rcu.services.matching.keys import _key_rows, blocking_keys_of

    written = 0
    batch: list[tuple[int, list[str]]] = []

    def flush() -> int:
        rows = _key_rows(batch)
        with transaction.atomic(), connection.cursor() as wrapper, wrapper.cursor.copy(
            "COPY rcu_matchkey (bucket, key, record_id) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        batch.clear()
        return len(rows)

    for pk, attributes in SourceRecord.objects.order_by("pk").values_list("pk", "attributes").iterator(
        chunk_size=20_000
    ):
        batch.append((pk, blocking_keys_of(_comparison_keys(attributes or {}))))
        if len(batch) >= 50_000:
            written += flush()
    if batch:
        written += flush()
    return written


def _import_files() -> int:
    """One imported file per source, holding all its records, as a finished import job."""
    from django.conf import settings
    from django.utils import timezone

    from rcu.models import ImportJob, SourceRecord, SourceSystem

    lines = 0
    for source in SourceSystem.objects.order_by("pk"):
        name = f"imports/bench/{source.code}.csv"
        path = Path(settings.MEDIA_ROOT) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";", lineterminator="\n")
            writer.writerow(HEADER)
            for raw in SourceRecord.objects.filter(source=source).order_by("pk").values_list(
                "raw", flat=True
            ).iterator(chunk_size=20_000):
                writer.writerow([str((raw or {}).get(h, "")) for h in HEADER])
                count += 1
        now = timezone.now()
        ImportJob.objects.create(
            source=source, upload=name, file_name=path.name, file_format="csv", encoding="utf-8",
            delimiter=";", status=ImportJob.Status.SUCCEEDED, lines_done=count + 1,
            total_lines=count + 1, created_count=count, started_at=now, finished_at=now,
        )
        lines += count
    return lines


# --- measuring (in a copy) -------------------------------------------------------------

PEOPLE = (  # (first name, surname, birth date, postcode, town): people nothing links
    ("Ysaline", "Quintarelli", "1977-04-21", "69003", "LYON"),
    ("Gontran", "Vandermolen", "1961-11-03", "33000", "BORDEAUX"),
    ("Perpetue", "Oyarzabal", "1990-02-14", "67000", "STRASBOURG"),
    ("Anatole", "Zbiniewski", "1955-08-30", "44000", "NANTES"),
    ("Clotilde", "Haraldsen", "1983-06-09", "31000", "TOULOUSE"),
)


def _person(serial: int, source_code: str, version: int = 0) -> dict:
    first, last, born, postcode, city = PEOPLE[serial % len(PEOPLE)]
    return {
        "id": f"ERASE-{source_code}-{serial}", "civility": "MME", "first_name": first,
        "last_name": last + ("" if version < 2 else "-Bo"), "birth_date": born,
        "email": f"{first.lower()}.{last.lower()}{serial}{'x' * version}@exemple-rare.fr",
        "mobile": f"+33699{serial:06d}", "address_line1": f"{7 + version} impasse des Lilas",
        "postcode": postcode, "city": city, "country": "FR",
    }


def _seed(serial: int, sources: list, steward, file_jobs: list) -> int:
    """One person: three records (three sources), two edits, a merge, a rejected row and
    a line in two imported files. Returns the surviving customer's id."""
    from rcu.actors import SystemActor
    from rcu.models import ImportRowError, SourceRecord
    from rcu.selectors.sources import source_row_mapper
    from rcu.services.ingestion import records_upsert
    from stewardship.services.merge import customers_merge

    actor = SystemActor(job="bench")

    def ingest(source, row: dict) -> int:
        mapped = source_row_mapper(source).map(2, row)
        assert not hasattr(mapped, "reason"), mapped
        result = records_upsert(source=source, rows=[mapped], acting_user=actor)
        return result.record_ids[mapped.external_id]

    record_ids = [ingest(source, _person(serial, source.code)) for source in sources[:3]]
    for version in (1, 2):  # two edits of the first record
        ingest(sources[0], _person(serial, sources[0].code, version))
    customers = list(dict.fromkeys(
        SourceRecord.objects.filter(pk__in=record_ids).order_by("pk").values_list("customer_id", flat=True)
    ))
    if len(customers) > 1:
        customers_merge(customer_ids=customers, survivor_id=customers[0], acting_user=steward,
                        reason="même personne")
    for job in file_jobs:  # the person's line in shared imported files
        row = _person(serial, job.source.code)
        with Path(job.upload.path).open("a", encoding="utf-8", newline="") as out:
            csv.writer(out, delimiter=";", lineterminator="\n").writerow([row.get(h, "") for h in HEADER])
    row = _person(serial, sources[0].code)
    ImportRowError.objects.create(job=file_jobs[0], line=10_000_000 + serial, external_id=row["id"],
                                  field="address_line1", reason="too long",
                                  content=";".join(row.values()))
    return customers[0]


class _Timer:
    """Each SQL statement's time, grouped by its text (values left out), and the time
    spent in stored files."""

    def __init__(self) -> None:
        self.statements: dict[str, list[float]] = defaultdict(list)
        self.file_s = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements[" ".join(str(sql).split())[:300]].append(time.perf_counter() - started)

    def top(self, n: int = 8) -> list[dict]:
        ranked = sorted(self.statements.items(), key=lambda item: -sum(item[1]))[:n]
        return [{"sql": sql, "calls": len(times), "ms": round(sum(times) * 1000, 1)}
                for sql, times in ranked]


def measure(persons: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from rcu.actors import SystemActor
    from rcu.models import ImportJob, SourceSystem
    from rcu.services import erasure

    sources = list(SourceSystem.objects.order_by("pk"))
    steward = get_user_model().objects.get(username="bench_steward0")
    file_jobs = list(ImportJob.objects.filter(source__in=[sources[0], sources[2]]).order_by("pk"))
    seeded = [_seed(n, sources, steward, file_jobs) for n in range(persons)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    rewrite = erasure._file_rewrite
    runs = []
    for customer_id in seeded:
        timer = _Timer()

        def timed_rewrite(*args, timer=timer, **kwargs):
            started = time.perf_counter()
            try:
                return rewrite(*args, **kwargs)
            finally:
                timer.file_s += time.perf_counter() - started

        erasure._file_rewrite = timed_rewrite
        try:
            started = time.perf_counter()
            with connection.execute_wrapper(timer):
                report = erasure.persons_erase(customer_ids=[customer_id], acting_user=SystemActor(job="bench"))
            total = time.perf_counter() - started
        finally:
            erasure._file_rewrite = rewrite
        runs.append({
            "total_s": round(total, 3), "file_s": round(timer.file_s, 3),
            "db_s": round(total - timer.file_s, 3), "statements": sum(map(len, timer.statements.values())),
            "slowest": timer.top(), "counts": report.totals(),
        })
    return {
        "persons": persons,
        "db_s_median": round(statistics.median(r["db_s"] for r in runs), 3),
        "file_s_median": round(statistics.median(r["file_s"] for r in runs), 3),
        "total_s_median": round(statistics.median(r["total_s"] for r in runs), 3),
        "runs": runs,
    }


def run(records: int, persons: int, *, rebuild: bool = False, seed: int = 11) -> dict:
    built, result = measured_on_a_copy(
        base=os.environ.get("BENCH_ERASE_DB") or f"rcu_bench_erase_{records}",
        build=lambda database: _child("build", database, ["--records", str(records), "--seed", str(seed)]),
        measure=lambda database: _child("measure", database, ["--persons", str(persons)]),
        rebuild=rebuild, folder=_media,
    )
    return {"records": records, "base_built": built, **result}


def results_table(result: dict) -> str:
    lines = [
        f"Erasing one person from {result['records']:,} records (PostgreSQL), median of "
        f"{result['persons']} people (three records, two edits, a merge, a rejected row, "
        "two lines in imported files each):",
        "",
        f"- database part: {result['db_s_median']} s (target {DB_TARGET_S:.0f} s)",
        f"- file part (reading and rewriting the imported files): {result['file_s_median']} s",
        f"- whole erasure: {result['total_s_median']} s",
        "",
        "Slowest statements of the first erasure:",
        "",
        "| statement | calls | ms |",
        "| --- | ---: | ---: |",
    ]
    for statement in result["runs"][0]["slowest"]:
        lines.append(f"| `{statement['sql'][:120]}` | {statement['calls']} | {statement['ms']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--step", choices=["build", "measure"])
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    sys.path.insert(0, str(ROOT))
    if args.step == "build":
        result = build(args.records, args.seed)
    elif args.step == "measure":
        result = measure(args.persons)
    else:
        result = run(args.records, args.persons, rebuild=args.rebuild, seed=args.seed)
        print(results_table(result), file=sys.stderr)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
