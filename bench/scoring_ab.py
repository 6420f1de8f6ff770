"""Columnar against row-by-row batch scoring, in one run, on the same PostgreSQL base.

    .venv/bin/python -m bench.scoring_ab RECORDS [--rounds N] [--prefix NAME]
                                     [--base DATABASE] [--workers N] [--broker URL]

Generates (or reuses) the demo data set of RECORDS records in .bench/, imports it once
into the database PREFIX_RECORDS (default prefix "rcu_scoring_ab"; `--base`: an imported
copy of that data set to start from instead), then, for each round,
runs `match --full` (`bench.match_once`) on a fresh copy of that base with
`RCU_COLUMNAR_SCORING=False`, then with True, alternately, so both see the same machine.
Prints one JSON line per run and a summary: wall time, the run's step timings (scoring:
the partitions' summed seconds), peak memory, quality, and the load of the machine.
The two must reach the same quality to the pair (the same links and review queue).
"""

from __future__ import annotations

import argparse
import json
import os

from bench.run import PG_URL, TIMEOUT, _pg_admin, bench_env, dataset, run_json


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("records", type=int)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--prefix", default="rcu_scoring_ab")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--broker", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument("--base", default="",
                        help="an imported database of this data set to copy (no import)")
    args = parser.parse_args()
    data = dataset(args.records)
    base = args.base or f"{args.prefix}_{args.records}"
    if not args.base:
        _pg_admin(f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)', f'CREATE DATABASE "{base}"')
        env = bench_env(f"{PG_URL}/{base}")
        imported = run_json(["bench.import_once", str(data)], env, TIMEOUT, database=base)
        if "error" in imported:
            raise SystemExit(f"import failed: {imported}")
        print(json.dumps({"import": imported}), flush=True)
    results: dict[str, list[dict]] = {"row": [], "columnar": []}
    for _ in range(args.rounds):
        for mode in ("row", "columnar"):
            copy = f"{args.prefix}_{args.records}_{mode}"
            _pg_admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)',
                      f'CREATE DATABASE "{copy}" TEMPLATE "{base}"')
            env = bench_env(f"{PG_URL}/{copy}")
            env["RCU_COLUMNAR_SCORING"] = str(mode == "columnar")
            command = ["bench.match_once", str(data), "--workers", str(args.workers)]
            if args.broker:
                command += ["--broker", args.broker]
            result = run_json(command, env, TIMEOUT, database=copy)
            result["mode"] = mode
            results[mode].append(result)
            print(json.dumps(result), flush=True)
            _pg_admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    if not args.base:
        _pg_admin(f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)')
    print(json.dumps({"summary": {
        mode: [
            {
                **{k: r.get(k) for k in ("seconds", "peak_rss_mib", "precision", "recall",
                                         "recall_with_review", "review_items", "error")},
                "timings": (r.get("run") or {}).get("timings"),
                "other_cores_busy": (r.get("machine") or {}).get("foreign_cores_busy"),
            }
            for r in runs
        ]
        for mode, runs in results.items()
    }}), flush=True)


if __name__ == "__main__":
    main()
