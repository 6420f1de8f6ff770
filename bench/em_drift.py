"""By hand: the model's EM on a base's sampled blocked pairs, judged against the truth.

Training learns m and the prior by EM (u free) on the blocked pairs of a share of the
buckets (`rcu.services.matching.training`). This takes the same pairs from an imported
bench base, counts how many are true duplicates (truth.csv of its data set), and shows
what EM makes of them: the prior it reaches, whether it converged, and the precision and
recall of "posterior above one half" over those pairs, for EM as training runs it and
for variants. On the 1M French base of 2026-12-07 EM drifted to a prior of 0.54 where
the truth says 0.07 (precision 0.12 over the pairs); on the 100k base it converged.

    DATABASE_URL=postgres://…/rcu_bench_1000000 .venv/bin/python -m bench.em_drift \\
        .bench/data-1000000 [--cache .bench/em-1000000.pickle]
"""

from __future__ import annotations

import argparse
import os
import pickle
from collections import Counter
from pathlib import Path


def sampled_pairs(data_dir: Path) -> tuple[Counter, Counter]:
    """(pairs by comparison vector, true duplicates by vector) of the pairs training sees."""
    from bench.records import truth_by_record
    from rcu.models import SourceRecord
    from rcu.services.matching import training
    from rcu.services.matching.context import match_context, match_settings_get
    from rcu.services.matching.pairs import oversized_keys, partition_scores, shared_key_counts

    settings = match_settings_get()
    counts = shared_key_counts(min(training.MIN_RECORDS, settings.max_block_size + 1))
    oversized = oversized_keys(settings.max_block_size, counts)
    total = SourceRecord.objects.count()
    share = 1.0 if total <= training.EM_TARGET_RECORDS else training.EM_TARGET_RECORDS / total
    last_bucket = max(0, min(training.BUCKETS, round(training.BUCKETS * share)) - 1)
    pairs = [
        p for p in partition_scores(first_bucket=0, last_bucket=last_bucket,
                                    context=match_context(), oversized=oversized)
        if p is not None
    ]
    truth, _ = truth_by_record(data_dir)
    vectors: Counter = Counter()
    matches: Counter = Counter()
    for p in pairs:
        vectors[p.levels] += 1
        if truth.get(p.a) is not None and truth.get(p.a) == truth.get(p.b):
            matches[p.levels] += 1
    return vectors, matches


def judged(model, vectors: Counter, matches: Counter) -> tuple[float, float]:
    """Precision and recall, over the sampled pairs, of "posterior above one half"."""
    tp = fp = fn = 0.0
    for vector, count in vectors.items():
        true = matches.get(vector, 0)
        if model.probability(vector) > 0.5:
            tp, fp = tp + true, fp + count - true
        else:
            fn += true
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--cache", type=Path, help="keep the sampled pairs here between runs")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    import django

    django.setup()
    from rcu.engine import training as engine
    from rcu.engine.fellegi_sunter import train_m_and_lambda_em
    from rcu.engine.scoring import Scorer
    from rcu.services.matching import training
    from rcu.services.matching.context import match_context

    if args.cache and args.cache.exists():
        vectors, matches = pickle.loads(args.cache.read_bytes())
    else:
        vectors, matches = sampled_pairs(args.data_dir)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((vectors, matches)))
    total, true = sum(vectors.values()), sum(matches.values())
    print(f"{total} sampled pairs, {true / total:.4f} of them true duplicates")
    context = match_context()
    comparisons = context.comparisons
    start = engine.default_model(comparisons)
    random_vectors = engine.random_pair_vectors(
        training._sample_records(training.SAMPLE_RECORDS),
        Scorer(start, context.scorer.generic, comparisons), pairs=engine.RANDOM_PAIRS,
    )
    with_u = engine.train_u(start, random_vectors)
    personal = tuple(not c.household for c in comparisons)
    masked: Counter = Counter()
    for vector, count in vectors.items():
        masked[engine._personal_part(vector, personal)] += count
    fitted, report = engine._train_on_personal_evidence(vectors, with_u, comparisons)
    variants = [("as training runs it", fitted, report)]
    for label, options in (("u free, 300 iterations", {"fixed_u": False, "max_iterations": 300}),
                           ("u from random pairs", {"fixed_u": True, "max_iterations": 300})):
        em, em_report = train_m_and_lambda_em(masked, with_u, **options)
        variants.append((label, engine._PersonalPosterior(em, personal), em_report))
    for label, model, em_report in variants:
        precision, recall = judged(model, vectors, matches)
        print(f"{label:24s} iterations {em_report.iterations:3d} converged {em_report.converged!s:5s} "
              f"prior {em_report.prior:.4f}  precision {precision:.4f} recall {recall:.4f}")


if __name__ == "__main__":
    main()
