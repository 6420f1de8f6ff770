"""Small text helpers shared by the persons and their corruption."""

from __future__ import annotations

import unicodedata


def _accent_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        if base and base != char:
            table[code] = base
    table.update({ord("œ"): "oe", ord("Œ"): "OE", ord("æ"): "ae", ord("Æ"): "AE", ord("ß"): "ss"})
    return table


_ACCENTS = _accent_table()


def strip_accents(text: str) -> str:
    """Hélène Lefèvre → Helene Lefevre, as tills and old keyboards write it."""
    return text.translate(_ACCENTS)


def email_word(name: str) -> str:
    """A name as people put it in an e-mail address: `D'Almeida` → `dalmeida`."""
    return strip_accents(name).lower().replace(" ", "").replace("'", "")
