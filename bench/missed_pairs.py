"""Why the true pairs a matched base misses are missed: what the two records share.

    DATABASE_URL=… .venv/bin/python -m bench.missed_pairs DATA_DIR

On a base `match --full` has run on: every true pair (two records of one person in the
data set's truth.csv) is *found* when both records are in one golden customer, or an
open candidate joins their two customers directly (as `bench.quality.review_quality`
counts it). Each missed pair is compared again with the model in force and classified:

- whether the two records share a usable blocking key (not a generic value, not an
  oversized block): without one, no pair is ever compared;
- how many comparisons agree (any level but the disagreeing ones): a pair agreeing on
  one field or none (a first name, a town) cannot be told from strangers at all;
- its comparison vector, for the most frequent ones, with the probability the model
  gives it.

Prints one JSON line on stdout. Loads every record of the base: about 2 GB at 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

# Levels that say the values differ, or agree on too little to tell people apart.
NOT_AGREEING = frozenset({"different", "other_line_kind", "same_department", "jaro_winkler_low"})
TOP_VECTORS = 12


def _setup() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    import django

    django.setup()


def missed_pairs(data_dir: Path) -> dict:

    from bench.records import truth_by_record
    from rcu.memory import paused_gc
    from rcu.services.matching.context import match_context
    from rcu.services.matching.pairs import oversized_keys
    from stewardship.models import MergeCandidate

    context = match_context()
    truth, customer = truth_by_record(data_dir)
    candidates = MergeCandidate.objects.filter(status=MergeCandidate.Status.OPEN).values_list(
        "record_a_id", "record_b_id"
    )
    joined = set()
    for a, b in candidates:
        ca, cb = customer[a], customer[b]
        if ca != cb:
            joined.add((min(ca, cb), max(ca, cb)))
    skip = context.skip_keys | oversized_keys(context.max_block_size)
    with paused_gc():  # a million records and no reference cycle
        return _classified(truth=truth, customer=customer, joined=joined, context=context, skip=skip)


def _classified(*, truth: dict[int, str], customer: dict[int, int], joined: set[tuple[int, int]],
                context, skip: frozenset[str]) -> dict:
    """Every true pair found or classified; see the module's docstring."""
    from rcu.engine.scoring import usable_keys
    from rcu.services.matching.pairs import match_records_load

    scorer, model = context.scorer, context.model
    by_person: dict[str, list[int]] = defaultdict(list)
    for record_id, person in truth.items():
        by_person[person].append(record_id)
    records = match_records_load(truth)
    prepared = {pk: scorer.prepare(record) for pk, record in records.items()}
    del records
    keys = {pk: usable_keys(record, skip) for pk, record in prepared.items()}

    true_pairs = missed = no_key = weak = weak_no_key = 0
    vectors: Counter = Counter()
    for members in by_person.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                true_pairs += 1
                ca, cb = customer[a], customer[b]
                if ca == cb or (min(ca, cb), max(ca, cb)) in joined:
                    continue
                missed += 1
                shared = bool(keys[a] & keys[b])
                no_key += not shared
                levels = scorer.vector(prepared[a], prepared[b])
                agreeing = sum(
                    1 for c, level in enumerate(levels)
                    if level is not None and model.levels[c][level] not in NOT_AGREEING
                )
                if agreeing <= 1:
                    weak += 1
                    weak_no_key += not shared
                vectors[levels] += 1

    def label(levels) -> str:
        return ", ".join(
            f"{name} {model.levels[c][level]}"
            for c, (name, level) in enumerate(zip(model.names, levels, strict=True))
            if level is not None
        ) or "nothing comparable"

    return {
        "true_pairs": true_pairs,
        "missed": missed,
        "missed_without_shared_key": no_key,
        "missed_agreeing_on_one_field_or_none": weak,
        "of_which_without_shared_key": weak_no_key,
        "top_vectors": [
            {"levels": label(levels), "missed": count,
             "probability": round(model.probability(levels), 4)}
            for levels, count in vectors.most_common(TOP_VECTORS)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args()
    _setup()
    print(json.dumps(missed_pairs(args.data_dir)), flush=True)


if __name__ == "__main__":
    main()
