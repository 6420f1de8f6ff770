"""Reading and mapping a file in batches, in this process or in a helper process.

A big import spends about as long mapping rows (normalisation is pure Python) as
writing them. Mapping in a separate process lets it run on another core while this
one writes, so throughput is not capped by one interpreter. The batches are the same
either way; a bounded queue keeps memory flat whatever the file size.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from rcu.ingestion.limits import (
    EXTERNAL_ID_MAX_LENGTH,
    FIELD_MAX_LENGTH,
    REASON_MAX_LENGTH,
    printable,
)
from rcu.ingestion.mapping import MappedRow, RowMapper, RowRejection
from rcu.ingestion.readers import FileFacts, ReadError, Row, iter_rows
from rcu.memory import relaxed_gc


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    external_id: str
    field: str
    reason: str
    content: str


@dataclass(frozen=True, slots=True)
class Batch:
    mapped: list[MappedRow]
    rejected: list[Rejected]
    last_line: int


def rejected_row(line: int, external_id: str, field: str, reason: str, original: Any) -> Rejected:
    """A rejection fit to be stored: printable and bounded messages, and the row as the
    file had it (CSV cells or the JSON line) in JSON text, which escapes NUL."""
    return Rejected(
        line,
        printable(external_id, EXTERNAL_ID_MAX_LENGTH),
        printable(field, FIELD_MAX_LENGTH),
        printable(reason, REASON_MAX_LENGTH),
        original_as_text(original),
    )


def original_as_text(original: Any) -> str:
    if original is None:
        return ""
    text = json.dumps(original, ensure_ascii=False)  # control characters come out escaped
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escape everything beyond ASCII
        text = json.dumps(original)
    return text


def original_from_text(content: str) -> list[str] | str:
    """The row as the file had it, back from `original_as_text` (older rows: the text)."""
    try:
        value = json.loads(content)
    except ValueError:
        return content
    return value if isinstance(value, list | str) else content


def row_check(item: Row | ReadError, mapper: RowMapper) -> MappedRow | Rejected:
    """One row read from a file, mapped, or why the import rejects it (the audit of a
    file asks the same question of each row)."""
    if isinstance(item, ReadError):
        return rejected_row(item.line, "", "", item.reason, item.original)
    outcome = mapper.map(item.line, item.data)
    if isinstance(outcome, RowRejection):
        return rejected_row(
            outcome.line, outcome.external_id, outcome.field, outcome.reason, item.original
        )
    return outcome


def iter_batches(
    stream, facts: FileFacts, mapper: RowMapper, *, resume_after: int, batch_size: int
) -> Iterator[Batch]:
    """Map rows after line `resume_after`, `batch_size` rows (good or bad) a batch."""
    mapped: list[MappedRow] = []
    rejected_rows: list[Rejected] = []
    last_line = resume_after
    for item in iter_rows(stream, facts):
        if item.line <= resume_after:
            continue
        last_line = item.line
        outcome = row_check(item, mapper)
        if isinstance(outcome, Rejected):
            rejected_rows.append(outcome)
        else:
            mapped.append(outcome)
        if len(mapped) + len(rejected_rows) >= batch_size:
            yield Batch(mapped, rejected_rows, last_line)
            mapped, rejected_rows = [], []
    if mapped or rejected_rows or last_line != resume_after:
        yield Batch(mapped, rejected_rows, last_line)


def iter_batches_in_subprocess(
    path: str, facts: FileFacts, mapper: RowMapper, *, resume_after: int, batch_size: int
) -> Iterator[Batch]:
    """The same batches as `iter_batches`, mapped by a helper process.

    The helper is a fresh interpreter (`python -m rcu.ingestion.mapper_process`) that
    inherits nothing (no database sockets) and re-runs no caller's main module. It
    writes pickled batches to a pipe; the pipe's small buffer is the back-pressure
    that keeps memory flat.
    """
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen(
        [sys.executable, "-m", "rcu.ingestion.mapper_process"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )
    assert process.stdin is not None and process.stdout is not None  # both are pipes
    try:
        pickle.dump((path, facts, mapper, resume_after, batch_size), process.stdin)
        process.stdin.close()
        while True:
            item = pickle.load(process.stdout)
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        process.stdout.close()


def serve_batches(source: BinaryIO, sink: BinaryIO) -> None:
    """The helper process's side: read the job from `source`, write batches to `sink`."""
    path, facts, mapper, resume_after, batch_size = pickle.load(source)
    try:
        with relaxed_gc(), open(path, "rb") as stream:
            for batch in iter_batches(stream, facts, mapper, resume_after=resume_after,
                                      batch_size=batch_size):
                pickle.dump(batch, sink, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # handed to the parent, which raises it
        pickle.dump(exc if _picklable(exc) else RuntimeError(repr(exc)), sink)
    pickle.dump(None, sink)
    sink.flush()


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True
