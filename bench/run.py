"""`make bench`: import throughput and peak memory, on SQLite and PostgreSQL.

Generates the demo data set (with ground truth) at each size once into .bench/,
then imports it into a fresh database per (engine, size) in its own process.
Sizes: BENCH_SIZES (default "100000,1000000"); engines: BENCH_ENGINES (default
"sqlite,postgresql"); PostgreSQL server: BENCH_PG_URL (default the local one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def dataset(records: int) -> Path:
    from rcu.demo import DatasetSpec, generate_dataset

    out = WORK / f"data-{records}"
    marker = out / "DONE"
    if not marker.exists():
        t0 = time.perf_counter()
        summary = generate_dataset(DatasetSpec.for_records(records, seed=42), out)
        marker.write_text(str(summary.total_records))
        print(f"generated {summary.total_records} records in {time.perf_counter() - t0:.1f}s → {out}",
              flush=True)
    return out


def fresh_database(engine: str, records: int) -> str:
    if engine == "sqlite":
        path = WORK / f"bench-{records}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = f"rcu_bench_{records}"
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_URL}/{name}"


def run_import(engine: str, records: int, data: Path) -> dict:
    # Production settings: DEBUG off (no query log growing with the import).
    env = dict(
        os.environ, DATABASE_URL=fresh_database(engine, records), DEBUG="False",
        SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1",
    )
    env.pop("CELERY_BROKER_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "bench.import_once", str(data)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    WORK.mkdir(exist_ok=True)
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
    engines = os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")
    rows = []
    for records in sizes:
        data = dataset(records)
        for engine in engines:
            print(f"importing {records} records into {engine}…", flush=True)
            result = run_import(engine, records, data)
            rows.append((engine, records, result))
            print(json.dumps(result), flush=True)
    lines = [
        "| engine | records | seconds | records/s | peak RSS, importer + mapper (MiB) "
        "| RSS before import (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine, _, r in rows:
        lines.append(
            f"| {engine} | {r['records']:,} | {r['seconds']} | {r['records_per_second']:,} | "
            f"{r['peak_rss_mib']} | {r['rss_before_import_mib']} |"
        )
    table = "\n".join(lines)
    (WORK / "import-results.md").write_text(table + "\n")
    print("\nImport throughput (CSV/JSONL → stored, normalised records with golden customers):")
    print(table)


if __name__ == "__main__":
    main()
