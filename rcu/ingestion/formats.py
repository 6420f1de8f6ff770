"""strptime formats declared by admins: validated before they are stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DIRECTIVE = re.compile(r"%(.)")
_KNOWN_DIRECTIVES = set("aAwdbBmyYHIpMSfzZjUWcxXGuV%")
_DATE_DIRECTIVES = set("dmyYbBjUWGuVaAwcx")
_SAMPLE = datetime(1987, 11, 23, 14, 35, 9, tzinfo=UTC)


def format_problem(fmt: str, *, needs_date: bool = True) -> str | None:
    """Why `fmt` is not a usable strptime format, or None when it is."""
    if not isinstance(fmt, str) or not fmt.strip():
        return "is empty"
    directives = _DIRECTIVE.findall(fmt)
    if not directives:
        return f"{fmt!r} has no % directive"
    unknown = sorted({d for d in directives if d not in _KNOWN_DIRECTIVES})
    if unknown:
        return f"{fmt!r} uses unknown directive(s) {', '.join('%' + d for d in unknown)}"
    if fmt.count("%") != len(directives) * 1 + fmt.count("%%"):
        return f"{fmt!r} ends with a lone %"
    if needs_date and not (set(directives) & _DATE_DIRECTIVES):
        return f"{fmt!r} has no day, month or year directive"
    try:
        datetime.strptime(_SAMPLE.strftime(fmt), fmt)  # noqa: DTZ007 (only checks the format)
    except ValueError as exc:
        return f"{fmt!r} cannot read back what it writes ({exc})"
    return None


def parse_timestamp(value: str, fmt: str | None) -> datetime:
    """Parse a business timestamp; ISO 8601 when no format is declared.

    Sources send local times without an offset: the caller attaches the time zone.
    """
    value = value.strip()
    if fmt:
        return datetime.strptime(value, fmt)  # noqa: DTZ007
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
