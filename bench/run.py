"""`make bench`: import throughput, then batch matching, real-time matching and the Splink
reference, on SQLite and PostgreSQL.

Generates the demo data set (with ground truth) at each size once into .bench/, then, per
size:

- import: the data set into a fresh database per engine, each in its own process
  (`bench.import_once`, matching after import off): the *base*, kept for the next parts;
- match: `manage.py match --full` on a fresh copy of the base per configuration
  (`bench.match_once`): PostgreSQL with one and with two Celery worker processes, SQLite
  eager (tasks in the command's process). Wall time, peak RSS of command + workers,
  the run's step timings, and quality against the truth;
- realtime: latency of single-record ingest + match on the PostgreSQL base matched by the
  two-worker run (`bench.realtime_once`);
- splink: the Splink 5 reference on the same data set (`bench.splink_reference`);
- missed: why the true pairs that base misses are missed: what their records share
  (`bench.missed_pairs`).

Once, whatever the sizes:

- shapes: person files of seven shapes of our own making (no contact fields, born in the
  19th century, a national id, heavy corruption, non-French names, households and twins,
  a voter roll with custom attributes), each through
  configure, import and `match --full` on SQLite, with Splink beside it, then RCU alone
  on the same shapes at seeds 2 and 3 (`bench.many_shapes`; .bench/many-shapes.md).

Once, whatever the sizes (PostgreSQL only, its own scratch database):

- stewardship: the queue page with 1k then 100k open candidates in a department, the
  stewardship figures page, and merging 10-customer clusters (`bench.stewardship`);
- soak: concurrent merges, file imports, API ingests and batch matching runs over HTTP
  on loopback, on the same customers, for BENCH_SOAK_SECONDS: requests, throughput and p95 per operation,
  server errors, deadlocks, invariant violations (`bench.soak`);
- propagation: deliveries per second to a receiver on 127.0.0.1, the lag of events
  under load, the outbox's cost on an import and on merges (`bench.propagation`);
- dashboards: the nightly quality snapshot and the dashboard pages (admin and steward)
  on a 1,000,000-record base built once and reused as a template (`bench.dashboards`);
- erase: erasing one person (three records, edits, a merge, a rejected row, lines in
  imported files) from a 1,000,000-record base built once and reused as a template, the
  database part and the file part apart (`bench.erase`; target: database under 5 s).

Environment:
  BENCH_SIZES    records per data set (default "100000,1000000")
  BENCH_ENGINES  "sqlite,postgresql" (default both)
  BENCH_PARTS    "import,match,realtime,splink,missed,shapes,stewardship,soak,dashboards,
                 propagation,erase" (default all); without
                 "import"
                 the bases of a previous run are reused
  BENCH_PG_URL   PostgreSQL server (default postgres://postgres@127.0.0.1:5432, trust auth)
  BENCH_REDIS_URL  broker of the workers, a dedicated Redis database flushed before each
                 run (default redis://127.0.0.1:6379/14)
  BENCH_SOAK_SECONDS  how long the soak part runs (default 60)
  BENCH_PROPAGATION_RECORDS, _MERGES, _LAG_SECONDS  sizes of the propagation part
                 (defaults 5000, 200, 20)
  BENCH_TIMEOUT  seconds allowed to each measured subprocess (default 2400)
  BENCH_KEEP     "1": keep the matched database copies (default: dropped)
  BENCH_QUIET_WAIT  seconds to wait, before each measurement, for other processes to stop
                 using the CPU (default 900); the CPU other work used during each
                 measurement is recorded and shown ("other work, cores")

Results: .bench/import-results.md, and .bench/match-results.md + .json (merged with the
results of earlier runs at other sizes or engines: an entry is replaced only when the same
measurement is made again); .bench/stewardship-results.md + .json; .bench/soak.md + .json; .bench/dashboards-results.md
+ .json; .bench/erase-results.md + .json (BENCH_ERASE_DB names the erase part's base).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "2400"))
# Before each measurement, wait up to this long for other work on the machine to stop.
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "900"))
PARTS = ("import", "match", "realtime", "splink", "missed", "shapes", "stewardship", "soak",
         "dashboards", "propagation", "erase")
SOAK_SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "60"))
SIZED_PARTS = ("import", "match", "realtime", "splink", "missed")
RESULT_PARTS = ("match", "realtime", "splink", "missed")
RESULTS_JSON = WORK / "match-results.json"
RESULTS_MD = WORK / "match-results.md"
# The matching configurations: (engine, workers); 0 workers = eager, in-process.
MATCH_CONFIGS = {"postgresql": (1, 2), "sqlite": (0,)}
REALTIME_AFTER = ("postgresql", 2)  # the matched base the real-time and missed parts read


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


# --- Databases ---------------------------------------------------------------------------

def _pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _sqlite_path(records: int, tag: str = "") -> Path:
    return WORK / f"bench-{records}{'-' + tag if tag else ''}.sqlite3"


def _pg_name(records: int, tag: str = "") -> str:
    return f"rcu_bench_{records}{'_' + tag if tag else ''}"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_database(engine: str, records: int) -> str:
    """An empty database for the import: the base of this size."""
    if engine == "sqlite":
        path = _sqlite_path(records)
        _remove_sqlite(path)
        return f"sqlite:///{path}"
    name = _pg_name(records)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return f"{PG_URL}/{name}"


def base_exists(engine: str, records: int) -> bool:
    if engine == "sqlite":
        return _sqlite_path(records).exists()
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             (_pg_name(records),)).fetchone()
    return found is not None


def copy_base(engine: str, records: int, tag: str) -> str:
    """A fresh (unmatched) copy of the imported base; no process may be using the base."""
    if engine == "sqlite":
        base, copy = _sqlite_path(records), _sqlite_path(records, tag)
        _remove_sqlite(copy)
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{base}{suffix}").exists():
                shutil.copyfile(f"{base}{suffix}", f"{copy}{suffix}")
        return f"sqlite:///{copy}"
    name = _pg_name(records, tag)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
              f'CREATE DATABASE "{name}" TEMPLATE "{_pg_name(records)}"')
    return f"{PG_URL}/{name}"


def drop_copy(engine: str, records: int, tag: str) -> None:
    if os.environ.get("BENCH_KEEP") == "1":
        return
    if engine == "sqlite":
        _remove_sqlite(_sqlite_path(records, tag))
    else:
        _pg_admin(f'DROP DATABASE IF EXISTS "{_pg_name(records, tag)}" WITH (FORCE)')


# --- Subprocesses ------------------------------------------------------------------------

def bench_env(database_url: str) -> dict:
    """Production settings (DEBUG off: no query log growing), no broker, no match after
    import: each measured step runs alone."""
    env = dict(
        os.environ, DATABASE_URL=database_url, DEBUG="False",
        SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1", RCU_MATCH_AFTER_IMPORT="False",
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def run_json(args: list[str], env: dict, timeout: float, *, database: str | None) -> dict:
    """Run `python -m <args>` and return its last stdout line as JSON, with
    `machine`: other work's CPU use meanwhile (`bench.machine`; `database` names the
    PostgreSQL database the step uses, whose backends are not other work). Failures become
    {"error": ...} so that one failed measurement does not stop the others."""
    from bench.machine import ForeignCpu, wait_quiet

    quiet = wait_quiet(max_wait=QUIET_WAIT, log=lambda m: print(m, flush=True))
    with ForeignCpu(lambda: (), database) as foreign:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            stdout, stderr = process.communicate()
            return {"error": f"timeout after {timeout:.0f} s", "stderr_tail": _tail(stderr)}
    machine = {"quiet_wait_seconds": quiet["waited_seconds"],
               "foreign_cores_before": quiet["foreign_cores_busy"], **foreign.figures()}
    lines = stdout.strip().splitlines()
    if process.returncode != 0 or not lines:
        return {"error": f"exit code {process.returncode}", "stderr_tail": _tail(stderr),
                "machine": machine}
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": "no JSON result", "stdout_tail": _tail(stdout), "machine": machine}
    result["machine"] = machine
    return result


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill a child and all its descendants, whatever session they started (workers)."""
    import psutil

    with contextlib.suppress(psutil.Error):
        children = psutil.Process(process.pid).children(recursive=True)
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
    process.kill()


def _tail(text: str | bytes | None, lines: int = 20) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").splitlines()[-lines:])


def run_import(engine: str, records: int, data: Path) -> dict:
    env = bench_env(fresh_database(engine, records))
    result = run_json(["bench.import_once", str(data)], env, TIMEOUT,
                      database=_pg_name(records) if engine == "postgresql" else None)
    if "error" in result:
        raise SystemExit(f"import of {records} records into {engine} failed: {result}")
    return result


def run_match(engine: str, records: int, data: Path, workers: int, *,
              realtime: bool, missed: bool = False) -> tuple[dict, dict | None, dict | None]:
    """match --full on a fresh copy of the base; then, if asked, real-time on the result
    and why the true pairs it misses are missed."""
    tag = f"w{workers}" if workers else "eager"
    database_url = copy_base(engine, records, tag)
    try:
        result = run_json(
            ["bench.match_once", str(data), "--workers", str(workers), "--broker", REDIS_URL,
             "--timeout", str(TIMEOUT)],
            bench_env(database_url), TIMEOUT + 900,  # + exports and quality
            database=_pg_name(records, tag) if engine == "postgresql" else None,
        )
        print(json.dumps(result), flush=True)

        def on_matched_base(module: str, what: str) -> dict:
            if "error" in result:
                return {"error": "the matching run it needs failed"}
            print(f"  {what} on the {engine} base matched by {tag}…", flush=True)
            return run_json([f"bench.{module}", str(data)], bench_env(database_url), TIMEOUT,
                            database=_pg_name(records, tag))

        # Missed pairs first: real-time ingests add records to the base.
        why = on_matched_base("missed_pairs", "missed true pairs") if missed else None
        rt = on_matched_base("realtime_once", "real-time matching") if realtime else None
        return result, rt, why
    finally:
        drop_copy(engine, records, tag)


def run_stewardship() -> dict:
    """The stewardship part in a scratch PostgreSQL database of its own."""
    name = "rcu_bench_stewardship"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        return run_json(["bench.stewardship"], bench_env(f"{PG_URL}/{name}"), TIMEOUT,
                        database=name)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_triage() -> dict:
    """Triage quality on the demo base, in a scratch SQLite file (`bench.triage`)."""
    with tempfile.TemporaryDirectory(prefix="rcu-bench-triage-") as scratch:
        return run_json(["bench.triage"], bench_env(f"sqlite:///{scratch}/rcu.sqlite3"),
                        TIMEOUT, database=None)


def run_soak() -> dict:
    """The soak part in a scratch PostgreSQL database of its own (the server it starts
    listens on 127.0.0.1 only)."""
    name = "rcu_bench_soak"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        return run_json(["bench.soak", "--seconds", str(SOAK_SECONDS)],
                        bench_env(f"{PG_URL}/{name}"), TIMEOUT, database=name)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_propagation() -> dict:
    """The propagation part in a scratch PostgreSQL database (its receiver listens on
    127.0.0.1 only)."""
    name = "rcu_bench_propagation"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        return run_json(["bench.propagation"], bench_env(f"{PG_URL}/{name}"), TIMEOUT,
                        database=name)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_splink(data: Path) -> dict:
    env = dict(os.environ)
    return run_json(["bench.splink_reference", str(data)], env, TIMEOUT, database=None)


# --- Results -----------------------------------------------------------------------------

def code_version() -> str:
    """The commit measured (read-only git), "+dirty" when the engine has local changes."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "rcu", "stewardship",
                "gdpr")
    return commit + ("+dirty" if dirty else "")


def load_results() -> dict:
    if RESULTS_JSON.exists():
        results = json.loads(RESULTS_JSON.read_text())
        return {key: results.get(key, {}) for key in RESULT_PARTS}
    return {key: {} for key in RESULT_PARTS}


def save_results(results: dict) -> str:
    RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    tables = match_tables(results)
    RESULTS_MD.write_text(tables + "\n")
    return tables


def _mode(workers: int) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''}" if workers else "eager (1 process)"


def _key(*parts) -> str:
    return "/".join(str(p) for p in parts)


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _busy(result: dict) -> str:
    """Cores other processes kept busy on average during the measurement."""
    machine = result.get("machine")
    return f"{machine['foreign_cores_busy']:.2f}" if machine else "-"


def _sorted(entries: dict) -> list[dict]:
    order = {"postgresql": 0, "sqlite": 1}
    return sorted(entries.values(), key=lambda e: (
        e["size"], order.get(e.get("engine"), 2), e.get("workers", 0)))


def match_tables(results: dict) -> str:
    out: list[str] = []
    matches = _sorted(results["match"])
    versions: dict[str, list[str]] = {}
    for part in RESULT_PARTS:
        for e in _sorted(results.get(part, {})):
            label = f"{e['size']:,} {part}"
            if part == "match":
                label += f" {e['engine']} {_mode(e['workers'])}"
            elif part in ("realtime", "missed"):
                label += f" {e['engine']}"
            versions.setdefault(e.get("code", "unknown"), []).append(label)
    if versions:
        out += ["Code measured: " + "; ".join(
            f"`{code}` ({', '.join(labels)})" for code, labels in versions.items()), ""]
    out += [
        "### Batch matching: `manage.py match --full` (quality and speed)",
        "",
        "Precision: of the record pairs placed in the same golden customer automatically. "
        "Recall: of the true duplicate pairs, automatically linked; + review: or joined by an "
        "open candidate. Review / true pair: open candidates (distinct customer pairs) per "
        "true duplicate pair. Peak RSS: command + Celery worker processes (each a prefork main "
        "process and its pool child), sampled every 0.1 s; PSS: the same with pages shared "
        "between forked processes counted once.",
        "",
        "| records | engine | mode | wall s | run s | peak RSS MiB (command + workers) "
        "| peak PSS MiB | pairs compared | pairs kept | precision | recall | recall + review | review items "
        "| review / true pair | customers | other work (cores) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in matches:
        r = e["result"]
        run = r.get("run") or {}
        if "error" in r:
            out.append(f"| {e['size']:,} | {e['engine']} | {_mode(e['workers'])} "
                       f"| failed: {r['error']} ||||||||||||")
            continue
        memory = _fmt(r.get("peak_rss_mib"))
        if e["workers"]:
            memory += (f" ({_fmt(r.get('peak_command_rss_mib'))} + "
                       f"{_fmt(r.get('peak_workers_rss_mib'))})")
        out.append(
            f"| {e['size']:,} | {e['engine']} | {_mode(e['workers'])} | {_fmt(r['seconds'], 1)} "
            f"| {_fmt(r.get('command_seconds'), 1)} | {memory} | {_fmt(r.get('peak_pss_mib'))} "
            f"| {_fmt(run.get('pairs_compared'))} "
            f"| {_fmt(run.get('pairs_kept'))} | {_fmt(r.get('precision'), 4)} "
            f"| {_fmt(r.get('recall'), 4)} | {_fmt(r.get('recall_with_review'), 4)} "
            f"| {_fmt(r.get('review_items'))} | {_fmt(r.get('review_per_true_pair'), 4)} "
            f"| {_fmt(r.get('customers'))} | {_busy(r)} |"
        )
    steps = ("prepare", "scoring", "load", "cluster", "explain", "apply", "candidates")
    out += [
        "",
        "### Batch matching: where the time goes (`rcu_matchrun.timings`, seconds; scoring "
        "summed over partitions)",
        "",
        "| records | engine | mode | " + " | ".join(steps) + " | records moved "
        "| customers retired | open candidates | oversized blocks | generic values |",
        "|---:|---|---|" + "---:|" * (len(steps) + 5),
    ]
    for e in matches:
        run = e["result"].get("run") or {}
        if not run:
            continue
        timings = run.get("timings") or {}
        out.append(
            f"| {e['size']:,} | {e['engine']} | {_mode(e['workers'])} | "
            + " | ".join(_fmt(timings.get(s), 1) for s in steps)
            + f" | {_fmt(run.get('records_moved'))} | {_fmt(run.get('customers_retired'))} "
            f"| {_fmt(run.get('candidates'))} | {_fmt(run.get('oversized_blocks'))} "
            f"| {_fmt(run.get('generic_values'))} |"
        )
    out += [
        "",
        "### Real-time matching: one record ingested and matched (`record_ingest`), "
        "PostgreSQL, matched base",
        "",
        "Target: p95 < 50 ms on the 1M base. Existing: a copy of a sampled record under a "
        "new id (a new record of a known person); new: a person of another data set.",
        "",
        "| base records | calls | p50 ms | p95 ms | p99 ms | max ms | existing p95 ms "
        "| new p95 ms | existing → linked / candidate / new | same customer as the copied record "
        "| new → linked / candidate / new | other work (cores) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for e in _sorted(results["realtime"]):
        r = e["result"]
        if "error" in r:
            out.append(f"| {e['size']:,} | failed: {r['error']} ||||||||||")
            continue
        d = r["decisions"]

        def split(kind: str, d=d) -> str:
            return " / ".join(str(d[kind].get(x, 0)) for x in ("linked", "candidate", "new"))

        out.append(
            f"| {r['base_records']:,} | {r['count']} | {r['p50_ms']} | {r['p95_ms']} "
            f"| {r['p99_ms']} | {r['max_ms']} | {r['existing'].get('p95_ms', '-')} "
            f"| {r['new'].get('p95_ms', '-')} | {split('existing')} "
            f"| {r['existing_same_customer']} / {r['existing']['count']} | {split('new')} "
            f"| {_busy(r)} |"
        )
    out += [
        "",
        "### Splink 5 reference (DuckDB, 2 threads, in-process) on the same data sets",
        "",
        "Splink seconds: training + prediction + clustering (reading the files excluded); "
        "ours: wall time of `match --full` (loading from the database included). Ratios: "
        "ours / Splink.",
        "",
        "| records | Splink s | Splink peak MiB | Splink precision | Splink recall "
        "| ours (engine, mode) | ours s | time ratio | ours peak MiB | memory ratio "
        "| ours precision | ours recall | ours recall + review | other work (cores), Splink / ours |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in _sorted(results["splink"]):
        s = e["result"]
        if "error" in s:
            out.append(f"| {e['size']:,} | failed: {s['error']} ||||||||||||")
            continue
        head = (f"| {e['size']:,} | {_fmt(s['seconds'], 1)} | {_fmt(s['peak_rss_mib'])} "
                f"| {_fmt(s['precision'], 4)} | {_fmt(s['recall'], 4)} ")
        ours = [m for m in matches if m["size"] == e["size"] and "error" not in m["result"]]
        if not ours:
            out.append(head + "| - ||||||||")
        for m in ours:
            r = m["result"]
            out.append(
                head + f"| {m['engine']}, {_mode(m['workers'])} | {_fmt(r['seconds'], 1)} "
                f"| {r['seconds'] / s['seconds']:.2f} | {_fmt(r['peak_rss_mib'])} "
                f"| {r['peak_rss_mib'] / s['peak_rss_mib']:.2f} | {_fmt(r.get('precision'), 4)} "
                f"| {_fmt(r.get('recall'), 4)} | {_fmt(r.get('recall_with_review'), 4)} "
                f"| {_busy(s)} / {_busy(r)} |"
            )
    out += missed_tables(results.get("missed", {}))
    return "\n".join(out)


def missed_tables(entries: dict) -> list[str]:
    if not entries:
        return []
    out = [
        "",
        "### Missed true pairs: what their two records share (`bench.missed_pairs`)",
        "",
        "A true pair is missed when its records are neither in one golden customer nor "
        "joined by an open candidate. Without a shared key: the two records share no usable "
        "blocking key, so they are never compared. One field or none: at most one comparison "
        "agrees (a first name, a surname or a town), which strangers share as well.",
        "",
        "| records | true pairs | missed | without a shared key | one field or none "
        "| of which without a shared key |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for e in _sorted(entries):
        r = e["result"]
        if "error" in r:
            out.append(f"| {e['size']:,} | failed: {r['error']} |||||")
            continue
        out.append(
            f"| {e['size']:,} | {_fmt(r['true_pairs'])} | {_fmt(r['missed'])} "
            f"| {_fmt(r['missed_without_shared_key'])} "
            f"| {_fmt(r['missed_agreeing_on_one_field_or_none'])} "
            f"| {_fmt(r['of_which_without_shared_key'])} |"
        )
    largest = _sorted(entries)[-1]
    if "error" not in largest["result"]:
        out += [
            "",
            f"The missed pairs' most frequent comparisons at {largest['size']:,} records, "
            "with the probability the model gives them (review from 0.5):",
            "",
            "| comparisons (the others missing on one side) | missed pairs | probability |",
            "|---|---:|---:|",
        ]
        for vector in largest["result"]["top_vectors"]:
            out.append(f"| {vector['levels']} | {_fmt(vector['missed'])} "
                       f"| {_fmt(vector['probability'], 4)} |")
    return out


def import_table(rows: list) -> str:
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
    return "\n".join(lines)


# --- Main --------------------------------------------------------------------------------

def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    WORK.mkdir(exist_ok=True)
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
    engines = os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")
    parts = [p for p in os.environ.get("BENCH_PARTS", ",".join(PARTS)).split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"BENCH_PARTS: unknown {unknown}; known: {', '.join(PARTS)}")
    results = load_results()
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    import_rows = []
    for records in sizes if set(parts) & set(SIZED_PARTS) else []:
        data = dataset(records)
        if "import" in parts:
            for engine in engines:
                print(f"importing {records} records into {engine}…", flush=True)
                result = run_import(engine, records, data)
                import_rows.append((engine, records, result))
                print(json.dumps(result), flush=True)
        for engine in engines:
            for workers in MATCH_CONFIGS[engine]:
                after = (engine, workers) == REALTIME_AFTER
                realtime = "realtime" in parts and after
                missed = "missed" in parts and after
                if "match" not in parts and not realtime and not missed:
                    continue
                if not base_exists(engine, records):
                    print(f"no imported {engine} base of {records} records: add 'import' to "
                          "BENCH_PARTS", flush=True)
                    break
                print(f"match --full, {records} records, {engine}, {_mode(workers)}…", flush=True)
                version = code_version()
                result, rt, why = run_match(engine, records, data, workers,
                                            realtime=realtime, missed=missed)
                results["match"][_key(records, engine, workers)] = dict(
                    size=records, engine=engine, workers=workers, measured_at=now,
                    code=version, result=result)
                if rt is not None:
                    print(json.dumps(rt), flush=True)
                    results["realtime"][_key(records, engine)] = dict(
                        size=records, engine=engine, after=_mode(workers), measured_at=now,
                        code=version, result=rt)
                if why is not None:
                    print(json.dumps(why), flush=True)
                    results["missed"][_key(records, engine)] = dict(
                        size=records, engine=engine, after=_mode(workers), measured_at=now,
                        code=version, result=why)
                save_results(results)
        if "splink" in parts:
            print(f"Splink reference, {records} records…", flush=True)
            version = code_version()
            result = run_splink(data)
            print(json.dumps(result), flush=True)
            results["splink"][_key(records)] = dict(size=records, measured_at=now,
                                                    code=version, result=result)
            save_results(results)
    if import_rows:
        table = import_table(import_rows)
        (WORK / "import-results.md").write_text(table + "\n")
        print("\nImport throughput (CSV/JSONL → stored, normalised records with golden customers):")
        print(table)
    if any(p in parts for p in RESULT_PARTS):
        print("\n" + save_results(results))
    if "shapes" in parts:
        from bench.many_shapes import main as many_shapes

        print("many shapes: RCU and Splink on person files of seven shapes…", flush=True)
        many_shapes([])
    if "stewardship" in parts:
        from bench.stewardship import results_table

        print("stewardship: queue page and merges, PostgreSQL…", flush=True)
        result = dict(measured_at=now, code=code_version(), result=run_stewardship())
        (WORK / "stewardship-results.json").write_text(json.dumps(result, indent=1) + "\n")
        table = results_table(result["result"])
        from bench.triage import results_table as triage_table

        print("stewardship: triage of the demo base against its truth, SQLite…", flush=True)
        triage = run_triage()
        result["triage"] = triage
        (WORK / "stewardship-results.json").write_text(json.dumps(result, indent=1) + "\n")
        table += "\n\n" + (triage_table(triage) if "error" not in triage else f"triage bench failed: {triage['error']}")
        (WORK / "stewardship-results.md").write_text(table + "\n")
        print("\n" + table)
    if "soak" in parts:
        from bench.soak import results_table as soak_table

        print(f"soak: merges, imports, API ingests and batch runs at once for {SOAK_SECONDS:.0f} s, "
              "PostgreSQL…", flush=True)
        result = dict(measured_at=now, code=code_version(), result=run_soak())
        (WORK / "soak.json").write_text(json.dumps(result, indent=1) + "\n")
        table = soak_table(result["result"])
        (WORK / "soak.md").write_text(table + "\n")
        print("\n" + table)
    if "propagation" in parts:
        from bench.propagation import results_table as propagation_table

        print("propagation: deliveries, lag and the outbox's cost, PostgreSQL…", flush=True)
        result = dict(measured_at=now, code=code_version(), result=run_propagation())
        (WORK / "propagation.json").write_text(json.dumps(result, indent=1) + "\n")
        table = propagation_table(result["result"])
        (WORK / "propagation.md").write_text(table + "\n")
        print("\n" + table)
    if "dashboards" in parts:
        from bench.dashboards import results_table as dashboards_table
        from bench.machine import wait_quiet

        print("dashboards: quality snapshot and pages on 1,000,000 records, PostgreSQL…", flush=True)
        wait_quiet(max_wait=QUIET_WAIT, log=lambda m: print(m, flush=True))
        result = dict(measured_at=now, code=code_version(),
                      result=_dashboards(1_000_000))
        (WORK / "dashboards-results.json").write_text(json.dumps(result, indent=1) + "\n")
        table = dashboards_table(result["result"])
        (WORK / "dashboards-results.md").write_text(table + "\n")
        print("\n" + table)
    if "erase" in parts:
        from bench.erase import results_table as erase_table
        from bench.machine import wait_quiet

        print("erase: one person out of 1,000,000 records, PostgreSQL…", flush=True)
        wait_quiet(max_wait=QUIET_WAIT, log=lambda m: print(m, flush=True))
        result = dict(measured_at=now, code=code_version(), load=os.getloadavg(),
                      result=_erase(1_000_000))
        (WORK / "erase-results.json").write_text(json.dumps(result, indent=1) + "\n")
        table = erase_table(result["result"])
        (WORK / "erase-results.md").write_text(table + "\n")
        print("\n" + table)


def _erase(records: int) -> dict:
    from bench import dashboards, erase

    erase.PG_URL = dashboards.PG_URL = PG_URL
    return erase.run(records, 5)


def _dashboards(records: int) -> dict:
    from bench import dashboards

    dashboards.PG_URL = PG_URL
    return dashboards.run(records, 9)


if __name__ == "__main__":
    main()
