"""Reading source files as a stream of (line number, row) pairs.

French spreadsheet exports are the normal case: CSV in UTF-8 (with or without BOM)
or Windows-1252, comma or semicolon separated. JSON Lines carries one object a line.
A row that cannot be read becomes a `ReadError` naming its line; the stream goes on.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

CSV_EXTENSIONS = {".csv", ".txt", ".tsv"}
JSONL_EXTENSIONS = {".jsonl", ".ndjson", ".json"}
_DELIMITERS = (";", ",", "\t", "|")
_CHUNK = 1 << 20

csv.field_size_limit(10 * 1024 * 1024)


class FileRefused(ValueError):
    """The whole file is refused before anything is written."""


@dataclass(frozen=True, slots=True)
class FileFacts:
    file_format: str  # "csv" | "jsonl"
    encoding: str
    delimiter: str
    sha256: str
    total_lines: int  # lines in the file, header included: the scale of `ImportJob.lines_done`


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReadError:
    line: int
    reason: str
    text: str = ""


def _format_for(name: str, head: bytes) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in JSONL_EXTENSIONS:
        return "jsonl"
    if suffix in CSV_EXTENSIONS:
        return "csv"
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{") else "csv"


def _delimiter_for(header: str) -> str:
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def inspect_file(stream: BinaryIO, name: str) -> FileFacts:
    """One pass over the bytes: checksum, encoding, line count, format and delimiter.

    The whole file is checked for UTF-8 because Windows-1252 accents often appear
    only far down a file.
    """
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    head = b""
    last = b""
    while chunk := stream.read(_CHUNK):
        if not head:
            head = chunk[:65536]
        sha.update(chunk)
        lines += chunk.count(b"\n")
        last = chunk
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if last and not last.endswith(b"\n"):
        lines += 1
    stream.seek(0)
    if not head.strip():
        raise FileRefused("the file is empty")
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8" if utf8 else "cp1252"
    file_format = _format_for(name, head)
    delimiter = ""
    if file_format == "csv":
        first_line = head.split(b"\n", 1)[0].decode(encoding, errors="replace")
        delimiter = _delimiter_for(first_line)
    return FileFacts(
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        sha256=sha.hexdigest(),
        total_lines=max(lines, 0),
    )


def _text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    # The encoding was checked over the whole file; "replace" only guards the five
    # bytes Windows-1252 leaves undefined.
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def csv_header(stream: BinaryIO, facts: FileFacts) -> list[str]:
    text = _text(stream, facts.encoding)
    try:
        header = next(csv.reader(text, delimiter=facts.delimiter))
    except StopIteration:
        header = []
    finally:
        text.detach()
        stream.seek(0)
    return [h.strip() for h in header]


def jsonl_keys(stream: BinaryIO, facts: FileFacts, *, sample_lines: int = 1000) -> set[str]:
    """Keys (dotted for nested objects) seen in the first lines of a JSON Lines file."""
    keys: set[str] = set()

    def collect(prefix: str, obj: dict) -> None:
        for key, value in obj.items():
            keys.add(prefix + key)
            if isinstance(value, dict):
                collect(prefix + key + ".", value)

    text = _text(stream, facts.encoding)
    try:
        for i, line in enumerate(text):
            if i >= sample_lines:
                break
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                collect("", obj)
    finally:
        text.detach()
        stream.seek(0)
    return keys


def iter_rows(stream: BinaryIO, facts: FileFacts) -> Iterator[Row | ReadError]:
    if facts.file_format == "jsonl":
        yield from _iter_jsonl(stream, facts)
    else:
        yield from _iter_csv(stream, facts)


def _iter_csv(stream: BinaryIO, facts: FileFacts) -> Iterator[Row | ReadError]:
    text = _text(stream, facts.encoding)
    reader = csv.reader(text, delimiter=facts.delimiter)
    header: list[str] | None = None
    next_line = 1
    while True:
        start = next_line
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            next_line = reader.line_num + 1
            yield ReadError(start, f"unreadable CSV: {exc}")
            continue
        next_line = reader.line_num + 1
        if header is None:
            header = [h.strip() for h in cells]
            continue
        if not cells or all(not c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            yield ReadError(
                start,
                f"expected {len(header)} fields, found {len(cells)}",
                facts.delimiter.join(cells),
            )
            continue
        yield Row(start, dict(zip(header, cells, strict=True)))


def _iter_jsonl(stream: BinaryIO, facts: FileFacts) -> Iterator[Row | ReadError]:
    text = _text(stream, facts.encoding)
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield ReadError(number, f"invalid JSON: {exc.args[0] if exc.args else exc}", line.rstrip("\r\n"))
            continue
        if not isinstance(obj, dict):
            yield ReadError(number, "a line must hold one JSON object", line.rstrip("\r\n"))
            continue
        yield Row(number, obj)
