"""Real-time matching latency: single records ingested one by one into a matched base.

    .venv/bin/python -m bench.realtime_once DATA_DIR [--count 300] [--new-share 0.2]
                                                    [--warmup 5] [--seed 1]

DATABASE_URL names a base already imported from DATA_DIR and matched (`match --full`).
Each call is `rcu.services.ingestion.record_ingest(source=..., payload=..., acting_user=SystemActor(job="bench"))`
as the REST API makes it: map, normalise, upsert, match against the base, commit. It is
timed from call to return.

The records sent:
- "existing": rows sampled uniformly from the data set's four files, their external id
  replaced by a new one (`RT-<n>`): a new record of a person the base already holds. The
  outcome is also checked against the golden customer of the row they were copied from;
- "new": rows of a small data set generated with another seed (other people), with
  `RT-<n>` ids too.
They are sent shuffled together, after `--warmup` untimed calls (the first call builds the
matching context). Prints one JSON line on stdout: p50_ms, p95_ms, p99_ms, count, the
decisions (linked / candidate / new) of each kind, and the per-kind percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample_rows(data_dir: Path, k: int, rng: random.Random) -> list[tuple[str, dict]]:
    """k (source code, raw row) drawn uniformly from the good lines of the data set's files."""
    from rcu.demo import SOURCE_CODES, SOURCE_FORMATS
    from rcu.ingestion.readers import Row, inspect_file, iter_rows

    reservoir: list[tuple[str, dict]] = []
    seen = 0
    for code in SOURCE_CODES:
        path = data_dir / SOURCE_FORMATS[code].file_name
        if not path.exists():
            continue
        with path.open("rb") as stream:
            facts = inspect_file(stream, path.name)
            for item in iter_rows(stream, facts):
                if not isinstance(item, Row):
                    continue
                seen += 1
                if len(reservoir) < k:
                    reservoir.append((code, dict(item.data)))
                else:
                    j = rng.randrange(seen)
                    if j < k:
                        reservoir[j] = (code, dict(item.data))
    return reservoir


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    if len(values) == 1:
        cuts = values * 99
    else:
        cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "count": len(values),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "mean_ms": round(statistics.fmean(values), 1),
        "max_ms": round(max(values), 1),
    }


def planner_statistics(connection) -> dict:
    """PostgreSQL: whether the matching tables have planner statistics, the row count they
    assume against the real one, and the rows changed since the database was created or
    last analysed. The base is measured as `match --full` left it (no ANALYZE)."""
    if connection.vendor != "postgresql":
        return {}
    tables = ("rcu_matchkey", "rcu_matchpair", "rcu_sourcerecord", "rcu_customer")
    state = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT c.reltuples::bigint, s.n_live_tup, s.n_mod_since_analyze, "
                "(SELECT count(*) FROM pg_stats p WHERE p.tablename = c.relname) "
                "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.relname = %s", [table],
            )
            row = cursor.fetchone()
            if row:
                state[table] = dict(zip(
                    ("planner_rows", "live_rows", "rows_changed_since", "column_stats"),
                    row, strict=True))
    return state


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--count", type=int, default=300, help="timed calls (default 300)")
    parser.add_argument("--new-share", type=float, default=0.2,
                        help="share of brand-new people among them (default 0.2)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--id-prefix", default="RT-",
                        help="external ids sent: PREFIX<n> (default RT-); must be new")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from rcu.actors import SystemActor
    from rcu.demo import DatasetSpec, generate_dataset
    from rcu.models import SourceRecord, SourceSystem
    from rcu.services.ingestion import RecordRefused, record_ingest

    rng = random.Random(args.seed)
    n_new = round(args.count * args.new_share)
    n_existing = args.count - n_new
    t0 = time.perf_counter()
    existing = sample_rows(args.data_dir, n_existing + args.warmup, rng)
    with tempfile.TemporaryDirectory(prefix="rcu-bench-rt-") as tmp:
        # Other people: a small data set of another seed (the base's seed is 42).
        generate_dataset(DatasetSpec.for_records(max(1000, 4 * n_new), seed=10_000 + args.seed),
                         Path(tmp))
        new = sample_rows(Path(tmp), n_new, rng)
    sample_seconds = time.perf_counter() - t0

    sources = {s.code: s for s in SourceSystem.objects.all()}
    calls: list[tuple[str, str, dict]] = []  # (kind, source code, payload)
    origin: dict[int, tuple[str, str]] = {}  # call index → record it was copied from
    for code, row in existing:
        field = sources[code].external_id_field
        origin[len(calls)] = (code, str(row[field]))
        calls.append(("existing", code, row))
    for code, row in new:
        calls.append(("new", code, row))
    timed = list(range(args.warmup, len(calls)))
    rng.shuffle(timed)
    order = list(range(args.warmup)) + timed

    base_records = SourceRecord.objects.count()
    statistics_state = planner_statistics(connection)
    latencies: dict[str, list[float]] = {"existing": [], "new": []}
    decisions: dict[str, Counter] = {"existing": Counter(), "new": Counter()}
    statuses: Counter = Counter()
    same_customer = 0
    refused: list[str] = []
    warmup_ms: list[float] = []
    for n, index in enumerate(order, 1):
        kind, code, row = calls[index]
        payload = dict(row)
        payload[sources[code].external_id_field] = f"{args.id_prefix}{n}"
        started = time.perf_counter()
        try:
            outcome = record_ingest(source=sources[code], payload=payload, acting_user=SystemActor(job="bench"))
        except RecordRefused as error:
            refused.append(f"{code}: {error}")
            continue
        ms = (time.perf_counter() - started) * 1000
        if n <= args.warmup:
            warmup_ms.append(round(ms, 1))
            continue
        latencies[kind].append(ms)
        statuses[outcome.status] += 1
        decisions[kind][outcome.match.decision if outcome.match else "none"] += 1
        if kind == "existing":
            src, external_id = origin[index]
            original = SourceRecord.objects.filter(
                source__code=src, external_id=external_id
            ).values_list("customer_id", flat=True).first()
            same_customer += original is not None and original == outcome.record.customer_id

    everything = latencies["existing"] + latencies["new"]
    result = {
        "engine": connection.vendor,
        "base_records": base_records,
        **percentiles(everything),
        "existing": percentiles(latencies["existing"]),
        "new": percentiles(latencies["new"]),
        "decisions": {kind: dict(counter) for kind, counter in decisions.items()},
        "existing_same_customer": same_customer,
        "statuses": dict(statuses),
        "refused": len(refused),
        "refused_examples": refused[:3],
        "warmup_ms": warmup_ms,
        "sample_seconds": round(sample_seconds, 1),
        "planner_statistics": statistics_state,
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
