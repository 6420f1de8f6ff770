"""What La Poste's postcode check costs on the import hot path (a check run by hand).

    .venv/bin/python manage.py generate_dataset --records 50000 --out /tmp/ds
    .venv/bin/python bench/postal.py /tmp/ds

Maps every row of the demo sources' files with their example configurations
(`RowMapper.map`: normalisation, keys, blocking keys, payload hash), once without the
postal check and once with it, and reports rows per second of CPU time, the
reference's load time and memory, and the postal flags raised.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")

import django

django.setup()

import psutil  # noqa: E402

from rcu.ingestion.config import parse_source_config  # noqa: E402
from rcu.ingestion.mapping import MappedRow, RowMapper  # noqa: E402
from rcu.ingestion.readers import Row, inspect_file, iter_rows  # noqa: E402
from rcu.normalisation import postal  # noqa: E402
from rcu.normalisation import record as record_module  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "sources"
POSTAL_FLAGS = ("postcode.unknown", "city.postcode_mismatch", "city.corrected")


def _rows(data_dir: Path) -> list[tuple[RowMapper, dict]]:
    rows = []
    for config_path in sorted(EXAMPLES.glob("*.json")):
        config = parse_source_config(json.loads(config_path.read_text("utf-8")))
        files = list(data_dir.glob(f"{config.code}.*"))
        if not files:
            continue
        mapper = RowMapper(external_id_field=config.external_id_field, fields=config.fields,
                           default_region=config.default_country)
        with files[0].open("rb") as stream:
            facts = inspect_file(stream, files[0].name)
            stream.seek(0)
            rows += [(mapper, item.data) for item in iter_rows(stream, facts)
                     if isinstance(item, Row)]
    return rows


def _clear_caches() -> None:
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("rcu.normalisation"):
            for value in vars(module).values():
                if hasattr(value, "cache_clear") and value is not postal.postal_reference:
                    value.cache_clear()


def _pass(rows) -> tuple[float, Counter]:
    _clear_caches()
    flags: Counter = Counter()
    start = time.process_time()
    for line, (mapper, values) in enumerate(rows, start=1):
        mapped = mapper.map(line, values)
        if isinstance(mapped, MappedRow):
            flags.update(f for f in mapped.flags if f in POSTAL_FLAGS)
    return len(rows) / (time.process_time() - start), flags


def main(data_dir: Path, repeats: int = 5) -> None:
    process = psutil.Process()
    before = process.memory_info().rss
    start = time.perf_counter()
    reference = postal.postal_reference()
    load = time.perf_counter() - start
    print(f"reference: {len(reference)} postcodes loaded in {load:.2f} s, "
          f"+{(process.memory_info().rss - before) / 1e6:.1f} MB RSS")
    rows = _rows(data_dir)
    check = record_module._french_postal
    without, with_check = [], []
    flags: Counter = Counter()
    for _ in range(repeats):  # best of: noise only ever adds time
        record_module._french_postal = lambda *args: None
        without.append(_pass(rows)[0])
        record_module._french_postal = check
        rate, flags = _pass(rows)
        with_check.append(rate)
    print(f"{len(rows)} rows mapped, best of {repeats}: {max(without):,.0f} rows/s without the "
          f"postal check, {max(with_check):,.0f} rows/s with it "
          f"({(1 - max(with_check) / max(without)) * 100:.1f}% slower)")
    print(f"places built: {len(reference._places)} postcodes, "
          f"RSS now +{(process.memory_info().rss - before) / 1e6:.1f} MB")
    print("postal flags: " + ", ".join(f"{flag} {flags[flag]}" for flag in POSTAL_FLAGS))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
