"""Why true pairs are not linked automatically, and what the false links were.

    DATABASE_URL=sqlite:///.bench/shapes/no_contact-1/rcu.sqlite3 \\
        .venv/bin/python -m bench.missed_links .bench/shapes/no_contact-1

On a base `match --full` has run on (the many-shapes bench keeps each shape's SQLite
database beside its data), every true pair whose two records are not in one golden
customer is scored again with the model in force and put in the first class that fits:

- ``not_blocked``: the two records share no usable blocking key, so were never compared;
- ``below_review``: scored under the review threshold;
- ``review``: between review and auto-link;
- ``guard:<reason>``: at or above auto-link, but `Scorer.link_guard` holds it back;
- ``clustering``: at or above auto-link and free to link, yet kept apart by clustering
  (a conflicting score between the two clusters).

Every false link (two records of different people in one customer, directly scored) is
counted by its comparison vector; and, per comparison, how often each level occurs among
the false links and among the true pairs linked. Prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

TOP = 15


def _setup() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    import django

    django.setup()


def missed_links(data_dir: Path) -> dict:

    from bench.records import truth_by_record
    from rcu.engine.scoring import usable_keys
    from rcu.services.matching.context import match_context
    from rcu.services.matching.pairs import match_records_load, oversized_keys

    context = match_context()
    scorer, model = context.scorer, context.model
    truth, customer = truth_by_record(data_dir)
    skip = context.skip_keys | oversized_keys(context.max_block_size)
    records = {pk: scorer.prepare(r) for pk, r in match_records_load(truth).items()}
    keys = {pk: usable_keys(r, skip) for pk, r in records.items()}

    def label(levels) -> str:
        return ", ".join(
            f"{name} {model.levels[c][level]}"
            for c, (name, level) in enumerate(zip(model.names, levels, strict=True))
            if level is not None
        ) or "nothing comparable"

    by_person: dict[str, list[int]] = defaultdict(list)
    for pk, person in truth.items():
        by_person[person].append(pk)
    classes: Counter = Counter()
    vectors: dict[str, Counter] = defaultdict(Counter)
    # Per comparison, how often each level is seen among the true pairs linked and among
    # the false links: what a change to one comparison would take from each.
    linked_levels: dict[str, Counter] = defaultdict(Counter)
    false_levels: dict[str, Counter] = defaultdict(Counter)

    def count_levels(into: dict[str, Counter], levels) -> None:
        for c, (name, level) in enumerate(zip(model.names, levels, strict=True)):
            into[name][model.levels[c][level] if level is not None else "null"] += 1
    true_pairs = 0
    for members in by_person.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                true_pairs += 1
                score = scorer.score(records[a], records[b])
                if customer[a] == customer[b]:
                    count_levels(linked_levels, score.levels)
                    continue
                if not keys[a] & keys[b]:
                    kind = "not_blocked"
                elif score.probability < context.review:
                    kind = "below_review"
                elif score.probability < context.auto_link:
                    kind = "review"
                else:
                    guard = scorer.link_guard(score.levels, score.weight)
                    kind = f"guard:{guard}" if guard else "clustering"
                classes[kind] += 1
                vectors[kind][(label(score.levels), round(score.probability, 3))] += 1
    # False links: pairs of one customer that are different people.
    by_customer: dict[int, list[int]] = defaultdict(list)
    for pk in truth:
        by_customer[customer[pk]].append(pk)
    false_links: Counter = Counter()
    false_pairs = 0
    for members in by_customer.values():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if truth[a] != truth[b]:
                    false_pairs += 1
                    score = scorer.score(records[a], records[b])
                    false_links[(label(score.levels), round(score.probability, 3))] += 1
                    count_levels(false_levels, score.levels)
    return {
        "true_pairs": true_pairs,
        "not_linked": sum(classes.values()),
        "classes": dict(classes.most_common()),
        "top_vectors": {
            kind: [{"levels": levels, "probability": p, "pairs": n}
                   for (levels, p), n in counter.most_common(TOP)]
            for kind, counter in vectors.items()
        },
        "false_pairs": false_pairs,
        "false_links": [{"levels": levels, "probability": p, "pairs": n}
                        for (levels, p), n in false_links.most_common(TOP)],
        "levels_of_false_links": {name: dict(c.most_common()) for name, c in false_levels.items()},
        "levels_of_true_links": {name: dict(c.most_common()) for name, c in linked_levels.items()},
        "model": {
            "prior": model.prior,
            "weights": {name: [round(w, 2) for w in model.level_weights(c)]
                        for c, name in enumerate(model.names)},
            "household_weights": dict(model.household_weights),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args()
    _setup()
    print(json.dumps(missed_links(args.data_dir), indent=1), flush=True)


if __name__ == "__main__":
    main()
