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

from rcu.csv_safe import unneutralise
from rcu.ingestion.limits import NESTING_MAX_DEPTH

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
    # The row as the file has it, for a rejects file: the CSV cells, or the JSON line.
    original: list[str] | str | None = None


@dataclass(frozen=True, slots=True)
class ReadError:
    line: int
    reason: str
    text: str = ""
    original: list[str] | str | None = None


# A rejects file (`rcu.services.imports.import_job_write_rejects`) holds the source's own
# columns plus these; reading it back ignores them and removes the `'` its writer put
# before formula-like cells, so a corrected rejects file imports as it is.
REJECTS_COLUMNS = ("rcu_line", "rcu_field", "rcu_reason")
# The same for JSON Lines: one member added to each rejected object.
REJECTS_MEMBER = "rcu_rejected"


# Leading bytes of files people upload by mistake, with what to tell them.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Office document (an Excel .xls workbook?)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
_EXPORT_HINT = "export it as CSV (UTF-8) or JSON Lines"
# Bytes no text file holds (all C0 controls but tab, line feed, form feed, carriage return).
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b >= 32 or b in (9, 10, 12, 13))


def _format_for(name: str, head_text: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in JSONL_EXTENSIONS:
        return "jsonl"
    if suffix in CSV_EXTENSIONS:
        return "csv"
    return "jsonl" if head_text.lstrip("\ufeff \r\n\t").startswith("{") else "csv"


def _delimiter_for(header: str) -> str:
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _refuse_if_not_text(head: bytes) -> None:
    """Refuse binary files and UTF-16 without a byte order mark, saying which.

    A NUL byte in one row of a text file is that row's problem (a rejected row); a
    file where NULs or control bytes are common is not text at all.
    """
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise FileRefused(f"the file is {what}, not text: {_EXPORT_HINT}")
    size = len(head)
    nuls = head.count(0)
    if nuls * 8 >= size:
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd * 4 >= size and even * 20 < size:
            raise FileRefused(
                "the file looks like UTF-16 (little-endian) without a byte order mark: "
                "save it as UTF-8 (\"CSV UTF-8\")"
            )
        if even * 4 >= size and odd * 20 < size:
            raise FileRefused(
                "the file looks like UTF-16 (big-endian) without a byte order mark: "
                "save it as UTF-8 (\"CSV UTF-8\")"
            )
    if len(head.translate(None, delete=_NOT_CONTROL_BYTES)) * 20 >= size:
        raise FileRefused(f"the file is not text (binary content): {_EXPORT_HINT}")


def inspect_file(stream: BinaryIO, name: str) -> FileFacts:
    """One pass over the bytes: checksum, encoding, line count, format and delimiter.

    The whole file is decoded because Windows-1252 accents often appear only far down
    a file. A UTF-8 file with a few damaged bytes stays UTF-8: its damaged rows read
    U+FFFD and are rejected, instead of the whole file being misread as Windows-1252.
    """
    sha = hashlib.sha256()
    lines = 0
    head = b""
    last = b""
    decoder = None
    damaged = 0  # U+FFFD in the file decoded as UTF-8 (or UTF-16)
    multibyte = 0  # valid non-ASCII characters
    while chunk := stream.read(_CHUNK):
        if not head:
            head = chunk[:65536]
            if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
                raise FileRefused("the file is in UTF-32: save it as UTF-8 (\"CSV UTF-8\")")
            if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                _refuse_if_not_text(head)
                decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            else:
                decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        sha.update(chunk)
        lines += chunk.count(b"\n")
        last = chunk
        assert decoder is not None  # chosen on the first chunk
        text = decoder.decode(chunk)
        if not text.isascii():
            bad = text.count("\ufffd")
            damaged += bad
            multibyte += len(text.encode("utf-8", errors="surrogatepass")) - len(text) - 2 * bad
    if decoder is not None:
        damaged += decoder.decode(b"", final=True).count("\ufffd")
    if last and not last.endswith(b"\n"):
        lines += 1
    stream.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # a line feed is still one 0x0A byte: the line count holds
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif damaged == 0 or multibyte > damaged:  # Windows-1252 rarely forms UTF-8 by chance
        encoding = "utf-8"
    else:
        encoding = "cp1252"
    head_text = head.decode(encoding, errors="replace")
    if not head_text.strip("\ufeff \r\n\t\x00"):
        raise FileRefused("the file is empty")
    file_format = _format_for(name, head_text)
    delimiter = ""
    if file_format == "csv":
        first_line = head_text.lstrip("\ufeff").split("\n", 1)[0]
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

    def collect(prefix: str, obj: dict, depth: int = 1) -> None:
        for key, value in obj.items():
            keys.add(prefix + key)
            if isinstance(value, dict) and depth < NESTING_MAX_DEPTH:
                collect(prefix + key + ".", value, depth + 1)

    text = _text(stream, facts.encoding)
    try:
        for i, line in enumerate(text):
            if i >= sample_lines:
                break
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue  # the line is rejected when it is read
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
    keep: list[int] | None = None  # the source's own columns of a rejects file
    width = 0
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
            if any(column in header for column in REJECTS_COLUMNS):
                width = len(header)
                keep = [i for i, h in enumerate(header) if h not in REJECTS_COLUMNS]
                header = [header[i] for i in keep]
            continue
        if not cells or all(not c.strip() for c in cells):
            continue  # blank line
        if keep is not None and len(cells) == width:
            cells = [unneutralise(cells[i]) for i in keep]
        if len(cells) != len(header):
            yield ReadError(
                start,
                f"expected {len(header)} fields, found {len(cells)}",
                facts.delimiter.join(cells),
                cells,
            )
            continue
        yield Row(start, dict(zip(header, cells, strict=True)), cells)


def _iter_jsonl(stream: BinaryIO, facts: FileFacts) -> Iterator[Row | ReadError]:
    text = _text(stream, facts.encoding)
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        original = line.rstrip("\r\n")
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield ReadError(number, f"invalid JSON: {exc.args[0] if exc.args else exc}", original, original)
            continue
        except RecursionError:
            yield ReadError(number, f"nested deeper than {NESTING_MAX_DEPTH} levels", original, original)
            continue
        if not isinstance(obj, dict):
            yield ReadError(number, "a line must hold one JSON object", original, original)
            continue
        obj.pop(REJECTS_MEMBER, None)
        yield Row(number, obj, original)
