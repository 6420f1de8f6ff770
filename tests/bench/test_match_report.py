"""The matching benchmark's report: percentiles and markdown tables from result entries."""

from __future__ import annotations

from bench.match_once import SUCCEEDED
from bench.realtime_once import percentiles
from bench.run import match_tables

MATCH = {
    "seconds": 12.5, "command_seconds": 11.0, "peak_rss_mib": 500, "peak_command_rss_mib": 100,
    "peak_workers_rss_mib": 400, "peak_pss_mib": 300, "precision": 0.99, "recall": 0.8,
    "recall_with_review": 0.95, "review_items": 10, "review_per_true_pair": 0.1,
    "customers": 90,
    "run": {"pairs_compared": 1000, "pairs_kept": 800, "records_moved": 5,
            "customers_retired": 5, "candidates": 10, "oversized_blocks": 0,
            "generic_values": 1, "timings": {"prepare": 1.0, "scoring": 2.0}},
}
REALTIME = {
    "base_records": 100, "count": 3, "p50_ms": 10.0, "p95_ms": 20.0, "p99_ms": 21.0,
    "max_ms": 22.0, "existing": {"count": 2, "p95_ms": 20.0}, "new": {"count": 1, "p95_ms": 9.0},
    "decisions": {"existing": {"linked": 2}, "new": {"new": 1}}, "existing_same_customer": 2,
}
SPLINK = {"seconds": 5.0, "peak_rss_mib": 250, "precision": 0.9, "recall": 0.85}


def test_percentiles():
    values = [float(v) for v in range(1, 101)]
    p = percentiles(values)
    assert p["count"] == 100
    assert p["p50_ms"] == 50.5
    assert p["p95_ms"] == 95.0  # inclusive method: 1 + 0.95 * 99
    assert p["max_ms"] == 100.0
    assert percentiles([]) == {"count": 0}
    assert percentiles([7.0])["p95_ms"] == 7.0


def test_succeeded_line_is_parsed():
    found = SUCCEEDED.search("Matching run #3 succeeded in 52.4 s: 100 records, …")
    assert found and found.group(1) == "3" and found.group(2) == "52.4"


def test_tables_with_results_and_failures():
    results = {
        "match": {
            "10/postgresql/2": dict(size=10, engine="postgresql", workers=2, result=MATCH),
            "10/sqlite/0": dict(size=10, engine="sqlite", workers=0, result={"error": "timeout"}),
        },
        "realtime": {"10/postgresql": dict(size=10, engine="postgresql", result=REALTIME)},
        "splink": {"10": dict(size=10, result=SPLINK)},
    }
    text = match_tables(results)
    assert "| 10 | postgresql | 2 workers | 12.5 | 11.0 | 500 (100 + 400) | 300 |" in text
    assert "| 10 | sqlite | eager (1 process) | failed: timeout |" in text
    assert "| 100 | 3 | 10.0 | 20.0 | 21.0 | 22.0 | 20.0 | 9.0 | 2 / 0 / 0 | 2 / 2 | 0 / 0 / 1 |" in text
    # ours / Splink: 12.5 / 5.0 s and 500 / 250 MiB; the failed run has no ratio row.
    assert "| postgresql, 2 workers | 12.5 | 2.50 | 500 | 2.00 |" in text
    assert "sqlite, eager" not in text.split("Splink 5 reference")[1]


def test_postgres_processes_of_the_measured_database_are_not_other_work():
    from types import SimpleNamespace

    from bench.machine import _is_ours

    def ours(cmdline: str, database: str | None = "rcu_bench_10_w2", own=frozenset()) -> bool:
        return _is_ours(SimpleNamespace(pid=42), [cmdline], set(own), database)

    assert ours("postgres: 15/main: postgres rcu_bench_10_w2 127.0.0.1(5000) SELECT")
    assert not ours("postgres: 15/main: postgres rcu_imp 127.0.0.1(5000) COPY")
    assert not ours("postgres: 15/main: postgres rcu_imp [local] idle")
    assert ours("postgres: 15/main: checkpointer   ")
    assert ours("postgres: 15/main: autovacuum worker rcu_bench_10_w2")
    assert not ours("postgres: 15/main: autovacuum worker rcu_imp")
    assert not ours("/usr/bin/python -m pytest")
    assert ours("/usr/bin/python -m pytest", own={42})
    assert not ours("postgres: 15/main: postgres rcu_bench_10_w2 127.0.0.1(5000) idle", None)


MISSED = {
    "true_pairs": 100, "missed": 8, "missed_without_shared_key": 3,
    "missed_agreeing_on_one_field_or_none": 2, "of_which_without_shared_key": 2,
    "top_vectors": [{"levels": "first_name exact, last_name exact", "missed": 5,
                     "probability": 0.2191}],
}


def test_missed_pairs_table_says_what_the_missed_records_share():
    results = {
        "match": {}, "realtime": {}, "splink": {},
        "missed": {"10/postgresql": dict(size=10, engine="postgresql", result=MISSED)},
    }
    text = match_tables(results)
    assert "| 10 | 100 | 8 | 3 | 2 | 2 |" in text
    assert "| first_name exact, last_name exact | 5 | 0.2191 |" in text
    assert "Missed true pairs" not in match_tables({"match": {}, "realtime": {}, "splink": {}})
