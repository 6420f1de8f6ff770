"""What a record may hold, checked before anything is written (pure, no ORM).

Every limit is documented in docs/limits.md. A value beyond a limit makes its row a
rejected row (line, field, reason) in a file import, and a 400 naming the field in
the ingest API: never a cut value, never a database error halfway through a batch.

- Attribute values are measured after normalisation, against the width of the
  customer's column (`rcu.attributes`: the model reads its widths from there too).
- The raw payload (kept as received) is measured serialised as JSON, in UTF-8 bytes.
- Text anywhere in the payload, field names included, may hold tab, line feed and
  carriage return (a quoted CSV cell may span lines; normalisation turns them into
  spaces), but no other control character: no NUL (PostgreSQL cannot store it in
  text), no C0 or C1 control, no lone surrogate (not UTF-8), and no U+FFFD (the mark
  of bytes that could not be decoded: the value is already lost).
- Numbers must be finite: JSON has no NaN or Infinity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rcu.attributes import ATTRIBUTES_BY_NAME, IDENTIFIER_MAX_LENGTH

EXTERNAL_ID_MAX_LENGTH = IDENTIFIER_MAX_LENGTH
RAW_PAYLOAD_MAX_BYTES = 64 * 1024
NESTING_MAX_DEPTH = 32
# A rejection's reason and field as stored (ImportRowError columns).
REASON_MAX_LENGTH = 500
FIELD_MAX_LENGTH = 200

# C0 controls but tab, LF and CR; DEL and the C1 controls; lone surrogates; U+FFFD.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")
# In a message we store: every control, tab and line breaks included.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A JSON string costs at most 6 bytes a character (\u0000 escapes), plus quotes and
# separators: below this many characters a payload cannot exceed the limit.
_SURELY_SMALL_CHARS = RAW_PAYLOAD_MAX_BYTES // 6 - 64
# Integers longer than this are measured exactly (a number is not counted as text).
_BIG = 10**18


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # the source's field name (dotted for nested JSON); "" for the whole row
    reason: str


def attribute_max_length(name: str) -> int:
    """The longest value of a canonical attribute or an extra identifier."""
    attribute = ATTRIBUTES_BY_NAME.get(name)
    return attribute.max_length if attribute is not None else IDENTIFIER_MAX_LENGTH


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character"
    if char == "\ufffd":
        return "contains bytes that could not be decoded (U+FFFD)"
    if "\ud800" <= char <= "\udfff":
        return f"contains an invalid character (lone surrogate U+{ord(char):04X})"
    return f"contains a control character (U+{ord(char):04X})"


def payload_problem(row: Mapping[str, Any], *, size: int | None = None) -> Problem | None:
    """The first thing in a raw payload that breaks a limit, or None.

    `size` is the payload's serialised size when the caller knows it.
    """
    texts: list[str] = []
    suspect = not _gather(row, 1, texts)
    flat = "".join(texts)
    if suspect or _FORBIDDEN.search(flat) is not None:  # the rare case: find the field
        problem = _walk(row, "", 1)
        if problem is not None:
            return problem
    if size is None and (suspect or len(flat) + 8 * len(texts) > _SURELY_SMALL_CHARS):
        from rcu.ingestion import jsontext

        size = len(jsontext.dumps(dict(row)))
    if size is not None and size > RAW_PAYLOAD_MAX_BYTES:
        return Problem(
            "", f"payload larger than {RAW_PAYLOAD_MAX_BYTES // 1024} KiB ({size} bytes as JSON)"
        )
    return None


def _gather(obj: Mapping[str, Any], depth: int, texts: list[str]) -> bool:
    """Collect every key and text of `obj` into `texts`; False at the first thing that
    is surely wrong (a non-finite number, too deep) or unusual (not JSON's types)."""
    for key in obj:
        if type(key) is not str:
            return False
        texts.append(key)
    return _gather_values(obj.values(), depth, texts)


def _gather_values(values: Iterable[Any], depth: int, texts: list[str]) -> bool:
    """`_gather` for the values of an object or the items of a list."""
    if depth > NESTING_MAX_DEPTH:
        return False
    for value in values:
        kind = type(value)
        if kind is str:
            texts.append(value)
        elif value is None or kind is bool or (kind is int and -_BIG < value < _BIG):
            continue
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif kind is dict:
            if not _gather(value, depth + 1, texts):
                return False
        elif kind is list:
            if not _gather_values(value, depth + 1, texts):
                return False
        else:
            return False
    return True


def _walk(value: Any, path: str, depth: int) -> Problem | None:
    kind = type(value)
    if kind is str:
        reason = text_problem(value)
        return Problem(path, reason) if reason is not None else None
    if kind is float:
        return None if math.isfinite(value) else Problem(path, "NaN or Infinity is not a number")
    if isinstance(value, Mapping):
        if depth > NESTING_MAX_DEPTH:
            return Problem(path, f"nested deeper than {NESTING_MAX_DEPTH} levels")
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            reason = text_problem(name)
            if reason is not None:
                return Problem(printable(name, FIELD_MAX_LENGTH), f"field name {reason}")
            problem = _walk(item, f"{path}.{name}" if path else name, depth + 1)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list | tuple):
        if depth > NESTING_MAX_DEPTH:
            return Problem(path, f"nested deeper than {NESTING_MAX_DEPTH} levels")
        for item in value:
            problem = _walk(item, path, depth + 1)
            if problem is not None:
                return problem
    elif isinstance(value, float) and not math.isfinite(value):  # a float subclass
        return Problem(path, "NaN or Infinity is not a number")
    return None


def length_problem(value: str, max_length: int) -> str | None:
    if len(value) > max_length:
        return f"longer than {max_length} characters ({len(value)})"
    return None


def printable(text: str, max_length: int = REASON_MAX_LENGTH) -> str:
    """`text` fit to be stored as a message: controls shown as `\\xNN`, then shortened.

    For messages only (reasons, names of fields in a refusal); data is never cut.
    """
    text = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text
