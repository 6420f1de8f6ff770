"""Is a queue worth sorting? Triage order against the demo base's ground truth.

    .venv/bin/python -m bench.triage [--persons 5000] [--seed 42] [--existing]

Seeds the demo base (`seed_demo`: the four example sources, one full matching run) in
the database DATABASE_URL names (a scratch SQLite file by default, made and removed
here), or, with --existing, reads the base already there and its truth file
(var/demo/truth.csv). For each department's queue of open candidates, in triage
order (the queue's default) and by score (the former default), it counts among the
first 100: the true duplicates (both records of one person in the truth) and the
different people. Targets: at least 95 % true duplicates, at most 2 % different people.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST = 100
TARGET_TRUE = 0.95
TARGET_DIFFERENT = 0.02


def measure(truth_path: Path) -> dict:
    from rcu.models import Department
    from stewardship.models import MergeCandidate

    with truth_path.open(encoding="utf-8") as handle:
        truth = {(r["source"], r["external_id"]): r["person_id"] for r in csv.DictReader(handle)}
    orders = {"triage": ("triage", "-weight", "pk"), "score": ("-probability", "pk")}
    result: dict = {"first": FIRST, "departments": {}}
    for department in Department.objects.order_by("code"):
        queue = MergeCandidate.objects.filter(departments=department, status="open")
        entry: dict = {"open": queue.count()}
        for name, order in orders.items():
            top = list(queue.order_by(*order).values_list(
                "record_a__source__code", "record_a__external_id",
                "record_b__source__code", "record_b__external_id")[:FIRST])
            same = sum(1 for sa, ea, sb, eb in top
                       if truth.get((sa, ea)) is not None and truth.get((sa, ea)) == truth.get((sb, eb)))
            entry[name] = {
                "shown": len(top),
                "true_duplicates": round(same / len(top), 3) if top else None,
                "different_people": round((len(top) - same) / len(top), 3) if top else None,
            }
        result["departments"][department.code] = entry
    triage = [d["triage"] for d in result["departments"].values() if d["triage"]["shown"]]
    result["worst_true_duplicates"] = min(t["true_duplicates"] for t in triage)
    result["worst_different_people"] = max(t["different_people"] for t in triage)
    result["meets_targets"] = (result["worst_true_duplicates"] >= TARGET_TRUE
                               and result["worst_different_people"] <= TARGET_DIFFERENT)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--existing", action="store_true")
    args = parser.parse_args(argv)
    scratch = None
    if not args.existing and "DATABASE_URL" not in os.environ:
        scratch = tempfile.mkdtemp(prefix="rcu-bench-triage-")
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/rcu.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if args.existing:
        truth = ROOT / "var" / "demo" / "truth.csv"
    else:
        data = Path(scratch or tempfile.mkdtemp(prefix="rcu-bench-triage-")) / "demo"
        call_command("migrate", verbosity=0)
        call_command("seed_demo", persons=args.persons, seed=args.seed, data_dir=data,
                     verbosity=0)
        truth = data / "truth.csv"
    result = measure(truth)
    result["persons"] = args.persons
    print(json.dumps(result), flush=True)
    if scratch:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return result


def results_table(result: dict) -> str:
    lines = [
        f"### Stewardship: triage of the demo base ({result['persons']:,} persons)",
        "",
        f"Among the first {result['first']} open candidates of each department's queue: true "
        f"duplicates (target ≥ {TARGET_TRUE:.0%}) and different people (target ≤ "
        f"{TARGET_DIFFERENT:.0%}), in triage order and by score.",
        "",
        "| queue | open | triage: true duplicates | different people | score: true duplicates "
        "| different people |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for code, d in result["departments"].items():
        t, s = d["triage"], d["score"]
        lines.append(f"| {code} | {d['open']} | {t['true_duplicates']:.0%} | "
                     f"{t['different_people']:.0%} | {s['true_duplicates']:.0%} | "
                     f"{s['different_people']:.0%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
