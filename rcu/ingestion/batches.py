"""Reading and mapping a file in batches, in this process or in a helper process.

A big import spends about as long mapping rows (normalisation is pure Python) as
writing them. Mapping in a separate process lets it run on another core while this
one writes, so throughput is not capped by one interpreter. The batches are the same
either way; a bounded queue keeps memory flat whatever the file size.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from rcu.ingestion.mapping import MappedRow, RowMapper, RowRejection
from rcu.ingestion.readers import FileFacts, ReadError, iter_rows
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


def _row_text(data: dict[str, Any]) -> str:
    return ";".join("" if v is None else str(v) for v in data.values())


def iter_batches(
    stream, facts: FileFacts, mapper: RowMapper, *, resume_after: int, batch_size: int
) -> Iterator[Batch]:
    """Map rows after line `resume_after`, `batch_size` rows (good or bad) a batch."""
    mapped: list[MappedRow] = []
    rejected: list[Rejected] = []
    last_line = resume_after
    for item in iter_rows(stream, facts):
        if item.line <= resume_after:
            continue
        last_line = item.line
        if isinstance(item, ReadError):
            rejected.append(Rejected(item.line, "", "", item.reason[:500], item.text))
        else:
            outcome = mapper.map(item.line, item.data)
            if isinstance(outcome, RowRejection):
                rejected.append(Rejected(outcome.line, outcome.external_id, outcome.field,
                                         outcome.reason[:500], _row_text(item.data)))
            else:
                mapped.append(outcome)
        if len(mapped) + len(rejected) >= batch_size:
            yield Batch(mapped, rejected, last_line)
            mapped, rejected = [], []
    if mapped or rejected or last_line != resume_after:
        yield Batch(mapped, rejected, last_line)


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
