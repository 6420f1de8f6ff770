"""A deterministic, realistic French demo data set with its ground truth.

Pure Python and Faker, no database: benchmarks and tests can use it alone.

    summary = generate_dataset(DatasetSpec.for_records(100_000), Path("var/demo"))
    for code, row, person_id in iter_source_records(DatasetSpec(persons=1000)): ...
"""

from __future__ import annotations

from pathlib import Path

from rcu.demo.sources import SOURCE_FORMATS, SourceFormat
from rcu.demo.spec import AS_OF, SOURCE_CODES, DatasetSpec
from rcu.demo.stream import iter_source_records
from rcu.demo.writer import DatasetSummary, generate_dataset

EXAMPLES_DIR: Path = Path(__file__).resolve().parents[2] / "examples" / "sources"


def source_config_paths() -> list[Path]:
    """The example configuration file of each demo source, in canonical order."""
    return [EXAMPLES_DIR / f"{code}.json" for code in SOURCE_CODES]


__all__ = [
    "AS_OF",
    "EXAMPLES_DIR",
    "SOURCE_CODES",
    "SOURCE_FORMATS",
    "DatasetSpec",
    "DatasetSummary",
    "SourceFormat",
    "generate_dataset",
    "iter_source_records",
    "source_config_paths",
]
