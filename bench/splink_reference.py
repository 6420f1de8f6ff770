"""The reference matcher: Splink 5 (DuckDB, in memory) on a generated data set.

    .venv/bin/python -m bench.splink_reference DATA_DIR [--threshold 0.95]

Reads the data set with the project's own readers and normalisation (`bench.records`), so
Splink gets exactly the normalised keys our engine gets; then runs Splink's documented
unsupervised set-up (deterministic-rule estimate of λ, u by random sampling, m by EM on a
few blocking rules), predicts on the blocked pairs and clusters at `--threshold`.
Pairwise precision and recall come from `bench.quality` against `truth.csv`.

Prints a few progress lines on stderr and one JSON line at the end on stdout:
`seconds` is Splink's work alone (DuckDB connection and table registration, training,
prediction, clustering); reading and normalising the files is `load_seconds`.
`peak_rss_mib` is the whole process's peak resident memory (DuckDB runs in-process).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.quality import pairwise_quality
from bench.records import NormalisedRow, RecordId, load_dataset_records, load_truth

# One row per record, built from MappedRow.keys.
COLUMNS = (
    "first_name", "last_name", "birth_date", "email", "phone", "postcode", "city", "address",
)
PREDICT_THRESHOLD = 0.5
CLUSTER_THRESHOLD = 0.95
DUCKDB_THREADS = 2
U_MAX_PAIRS = 1e7
U_SEED = 42
DETERMINISTIC_RECALL = 0.7
# Rules that admit almost no false positive, to estimate λ (probability two random
# records match); and the blocking rules of the EM sessions estimating the m values
# (each comparison is estimated by a session that does not block on it).
DETERMINISTIC_RULES = (
    ("first_name", "last_name", "birth_date"),
    ("email",),
    ("first_name", "last_name", "phone"),
)
# (Postcode + first initial makes 82 million pairs at 1M records, and EM runs out of
# memory; these three make ~2, ~3.3 and ~0.3 million.)
EM_RULES = (
    ("first_name", "last_name"),
    ("birth_date",),
    ("email",),
)


def splink_row(keys: dict[str, str]) -> tuple[str | None, ...]:
    """The Splink columns of one record; a missing key is NULL.

    `phone`: the mobile number when the record has one, else its other number. Sources
    disagree on which column a number goes in (the tills' and customer service's single
    number is usually a mobile), so the mobile is the one most likely shared.
    """
    return (
        keys.get("first_name"),
        keys.get("last_name"),
        keys.get("birth_date"),
        keys.get("email"),
        keys.get("mobile") or keys.get("phone"),
        keys.get("postcode"),
        keys.get("city"),
        keys.get("address"),
    )


def build_table(rows: Iterable[NormalisedRow]):
    """A pyarrow table (unique_id 0..n-1 + COLUMNS) and the record id of each unique_id."""
    import pyarrow as pa

    record_ids: list[RecordId] = []
    columns: list[list[str | None]] = [[] for _ in COLUMNS]
    for row in rows:
        record_ids.append(row.record_id)
        for column, value in zip(columns, splink_row(row.keys), strict=True):
            column.append(value)
    arrays = {"unique_id": pa.array(range(len(record_ids)), type=pa.int64())}
    for name, values in zip(COLUMNS, columns, strict=True):
        arrays[name] = pa.array(values, type=pa.string())
    return pa.table(arrays), record_ids


def settings():
    """Splink's settings: French postcodes are compared whole or by département, as
    Splink's PostcodeComparison is written for UK postcodes."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression, SettingsCreator, block_on

    postcode = cl.CustomComparison(
        output_column_name="postcode",
        comparison_levels=[
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode", term_frequency_adjustments=True),
            cll.ExactMatchLevel(ColumnExpression("postcode").substr(1, 2)).configure(
                label_for_charts="Same département"
            ),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            postcode,
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.88]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("last_name", "substr(birth_date, 1, 4)"),
            block_on("first_name", "last_name"),
            block_on("postcode", "last_name"),
            block_on("birth_date"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


@dataclass
class SplinkRun:
    clusters: list[list[int]]  # clusters of two or more unique_ids
    edges: list[tuple[int, int]]  # scored pairs at or above the clustering threshold
    figures: dict  # seconds, step times, λ, scored pairs


def run_splink(table, *, threshold: float = CLUSTER_THRESHOLD) -> SplinkRun:
    """Train, predict and cluster `table` (see `build_table`) in an in-memory DuckDB.

    Timed: from the DuckDB connection to the clustered table, both included; reading the
    results back into Python is not."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    steps: dict[str, float] = {}
    started = time.perf_counter()
    mark = started

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 2)
        mark = now
        _log(f"  splink {name}: {steps[name]} s, peak RSS {_rss_mib()} MiB")

    # Two threads (the machine's two cores); no temp directory: nothing spills to disk.
    con = duckdb.connect(":memory:", config={"threads": DUCKDB_THREADS})
    con.execute("SET temp_directory = ''")
    db_api = DuckDBAPI(connection=con)
    records = db_api.register(table, dataset_display_name="records")
    linker = Linker(records, settings(), log_level=logging.ERROR)

    linker.training.estimate_probability_two_random_records_match(
        [block_on(*columns) for columns in DETERMINISTIC_RULES], recall=DETERMINISTIC_RECALL
    )
    step("lambda")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=U_SEED)
    step("u")
    for columns in EM_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*columns))
    step("em")
    predictions = linker.inference.predict(
        threshold_match_probability=PREDICT_THRESHOLD, warning_mode="never"
    )
    step("predict")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    step("cluster")
    seconds = time.perf_counter() - started

    scored = predictions.as_duckdbpyrelation()
    scored_pairs = scored.aggregate("count(*)").fetchall()[0][0]
    edges = (
        scored.filter(f"match_probability >= {float(threshold)!r}")
        .select("unique_id_l, unique_id_r")
        .fetchall()
    )
    clusters = (
        clustered.as_duckdbpyrelation()
        .aggregate("cluster_id, list(unique_id) AS members", "cluster_id")
        .filter("len(members) > 1")
        .select("members")
        .fetchall()
    )
    figures = {
        "seconds": round(seconds, 2),
        "steps": steps,
        "probability_two_random_records_match": (
            linker._settings_obj._probability_two_random_records_match  # no public getter
        ),
        "scored_pairs": scored_pairs,
    }
    return SplinkRun([members for (members,) in clusters], edges, figures)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--threshold", type=float, default=CLUSTER_THRESHOLD,
                        help="match probability at which pairs are clustered (default 0.95)")
    args = parser.parse_args(argv)
    logging.getLogger("splink").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="splink")

    t0 = time.perf_counter()
    table, record_ids = build_table(load_dataset_records(args.data_dir))
    truth = load_truth(args.data_dir)
    load_seconds = time.perf_counter() - t0
    rss_after_load = _rss_mib()
    _log(f"loaded {len(record_ids)} records in {load_seconds:.1f} s, peak RSS {rss_after_load} MiB")

    run = run_splink(table, threshold=args.threshold)
    figures = run.figures
    peak = _rss_mib()

    # Quality against the truth, by unique_id. The edges' precision is the pairwise
    # model's alone, before clustering chains edges into clusters.
    truth_by_uid = {
        uid: truth[record_id] for uid, record_id in enumerate(record_ids) if record_id in truth
    }
    quality = pairwise_quality(predicted_clusters=run.clusters, truth=truth_by_uid)
    true_edges = sum(
        1 for a, b in run.edges
        if a in truth_by_uid and truth_by_uid[a] == truth_by_uid.get(b)
    )
    result = {
        "records": len(record_ids),
        "seconds": figures["seconds"],
        "load_seconds": round(load_seconds, 2),
        "peak_rss_mib": peak,
        "rss_after_load_mib": rss_after_load,
        "precision": round(quality["precision"], 4),
        "recall": round(quality["recall"], 4),
        "predicted_pairs": quality["predicted_pairs"],
        "true_pairs": quality["true_pairs"],
        "true_positives": quality["true_positives"],
        "threshold": args.threshold,
        "predicted_clusters": len(run.clusters),
        "largest_cluster": max(map(len, run.clusters), default=1),
        "edges_at_threshold": len(run.edges),
        "edge_precision": round(true_edges / len(run.edges), 4) if run.edges else 1.0,
        "scored_pairs": figures["scored_pairs"],
        "lambda": float(f"{figures['probability_two_random_records_match']:.4g}"),
        "steps": figures["steps"],
        "duckdb_threads": DUCKDB_THREADS,
        "splink": _splink_version(),
    }
    print(json.dumps(result), flush=True)
    return result


def _splink_version() -> str:
    import splink

    return splink.__version__


if __name__ == "__main__":
    main()
