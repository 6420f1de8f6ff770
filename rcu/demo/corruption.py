"""How people and systems garble a customer's data when they type or export it.

Each function takes the source's `random.Random` and returns one plausible way of writing
the true value: typos on an AZERTY keyboard, phone numbers written five ways, street types
abbreviated the La Poste way, postcodes that lost their leading zero in Excel, day and month
swapped, e-mails shouted in capitals… Which habits a source has, and how often, is decided
by that source (see `source_rows`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from rcu.demo.pools import pick
from rcu.demo.text import strip_accents
from rcu.demo.vocabulary import EMAIL_DOMAIN_TYPOS, STREET_TYPE_ABBREVIATIONS

_AZERTY_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn")


def _keyboard_neighbours() -> dict[str, str]:
    neighbours: dict[str, str] = {}
    for r, row in enumerate(_AZERTY_ROWS):
        for i, key in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            near += [
                _AZERTY_ROWS[o][i]
                for o in (r - 1, r + 1)
                if 0 <= o < 3 and i < len(_AZERTY_ROWS[o])
            ]
            neighbours[key] = "".join(near)
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


def typo(rng: random.Random, text: str) -> str:
    """One slip of the finger: a neighbouring key, a missed, doubled or swapped letter."""
    if len(text) < 4:
        return text
    # The first letter is the one people get right.
    i = rng.randrange(1, len(text) - 1)
    char = text[i]
    roll = rng.random()
    if roll < 0.35:
        near = _NEIGHBOURS.get(char.lower())
        if not near:
            return text
        slip = pick(rng, near)
        return text[:i] + (slip.upper() if char.isupper() else slip) + text[i + 1 :]
    if roll < 0.6:
        return text[:i] + text[i + 1 :]
    if roll < 0.85:
        return text[:i] + text[i + 1] + char + text[i + 2 :]
    return text[:i] + char + text[i:]


# --- case ----------------------------------------------------------------------------------


def in_case(text: str, case: str) -> str:
    """`case` is one of keep, upper, lower, title, upper_plain (capitals without accents)."""
    if case == "keep":
        return text
    if case == "upper":
        return text.upper()
    if case == "upper_plain":
        return strip_accents(text).upper()
    if case == "lower":
        return text.lower()
    if case == "title":
        return text.title()
    raise ValueError(f"unknown case {case!r}")


# --- names ---------------------------------------------------------------------------------

_PARTICLES = frozenset({"le", "la", "de", "du", "des", "da", "dos", "van", "den", "el", "ben"})


def compound_first_name_variant(rng: random.Random, name: str) -> str:
    """Jean-Pierre → Jean Pierre, Jean or Jeanpierre."""
    if "-" not in name:
        return name
    roll = rng.random()
    if roll < 0.55:
        return name.replace("-", " ")
    if roll < 0.9:
        return name.split("-", 1)[0]
    return name.replace("-", "").capitalize()


def surname_variant(rng: random.Random, name: str) -> str:
    """Le Gall → Legall, D'Almeida → D Almeida or Almeida, Dupont-Martin → Dupont."""
    if "-" in name and " " not in name:
        return name.replace("-", " ") if rng.random() < 0.5 else name.split("-", 1)[0]
    if " " not in name and "'" not in name:
        return name
    words = name.replace("'", "' ").split()
    roll = rng.random()
    if roll < 0.45:
        glued = "".join(w.rstrip("'") for w in words)
        return glued[0] + glued[1:].lower()
    if roll < 0.7:
        return " ".join(w.rstrip("'") for w in words)
    particle = words[0].rstrip("'").lower()
    if (particle in _PARTICLES or particle == "d") and len(words) > 1:
        return " ".join(words[1:])
    return name.replace(" ", "-")


# --- phones --------------------------------------------------------------------------------


def _spaced(d: str, sep: str) -> str:
    return f"{d[:2]}{sep}{d[2:4]}{sep}{d[4:6]}{sep}{d[6:8]}{sep}{d[8:]}"


PHONE_STYLES: dict[str, Callable[[str], str]] = {
    "compact": lambda d: d,
    "spaced": lambda d: _spaced(d, " "),
    "dotted": lambda d: _spaced(d, "."),
    "dashed": lambda d: _spaced(d, "-"),
    "international": lambda d: f"+33 {d[1]} {d[2:4]} {d[4:6]} {d[6:8]} {d[8:]}",
    "international_compact": lambda d: "+33" + d[1:],
    "double_zero": lambda d: "0033" + d[1:],
    # A number stored as a number in a spreadsheet: the leading zero is gone.
    "lost_zero": lambda d: d[1:],
}


def phone_as_written(digits: str, style: str) -> str:
    """`digits` is the ten-digit national form, 0612345678."""
    return PHONE_STYLES[style](digits)


# --- addresses -----------------------------------------------------------------------------

_NUMBER_SUFFIXES: dict[str, tuple[str, ...]] = {
    "bis": (" bis", "bis", "B", " B", " BIS"),
    "ter": (" ter", "ter", "T", " TER"),
}

_WORD_ABBREVIATIONS: dict[str, str] = {
    "GÉNÉRAL": "GAL",
    "GENERAL": "GAL",
    "SAINT": "ST",
    "SAINTE": "STE",
    "DOCTEUR": "DR",
    "MARÉCHAL": "MAL",
    "MARECHAL": "MAL",
    "PRÉSIDENT": "PDT",
    "PRESIDENT": "PDT",
}


def street_number(rng: random.Random, number: int, suffix: str) -> str:
    """12 + bis → 12 bis, 12bis, 12B, 12 B or 12 BIS."""
    if not suffix:
        return str(number)
    return f"{number}{pick(rng, _NUMBER_SUFFIXES[suffix])}"


def abbreviated_street(rng: random.Random, street_type: str, street_name: str) -> str:
    """rue du Général de Gaulle → R DU GAL DE GAULLE, as a till or a postal tool shortens it."""
    kind = pick(rng, STREET_TYPE_ABBREVIATIONS[street_type])
    words = [
        _WORD_ABBREVIATIONS.get(w, w)
        for w in strip_accents(street_name).upper().replace("-", " - ").split()
    ]
    return f"{kind} {' '.join(words).replace(' - ', '-')}"


def city_variant(rng: random.Random, city: str, postcode: str) -> str:
    """Saint-Étienne → ST ETIENNE; Paris 75011 → PARIS 11."""
    roll = rng.random()
    if roll < 0.4 and city.startswith(("Saint-", "Sainte-")):
        short = city.replace("Saint-", "St-", 1).replace("Sainte-", "Ste-", 1)
        return short.replace("-", " ") if rng.random() < 0.5 else short
    if roll < 0.7 and city in ("Paris", "Lyon", "Marseille"):
        district = int(postcode[-2:])
        return f"{city} {district}e" if rng.random() < 0.5 else f"{city.upper()} {district:02d}"
    return city.replace("-", " ")


def with_cedex(rng: random.Random, city: str) -> str:
    return f"{city} CEDEX" if rng.random() < 0.6 else f"{city} CEDEX {rng.randrange(1, 10)}"


def postcode_as_written(postcode: str, *, lost_zero: bool) -> str:
    """06000 read back from a spreadsheet is 6000."""
    return postcode.lstrip("0") if lost_zero else postcode


# --- dates ---------------------------------------------------------------------------------


def garbled_birth_date(
    rng: random.Random,
    year: int,
    month: int,
    day: int,
    *,
    inversion: float,
    impossible: float,
    future: float,
) -> tuple[int, int, int]:
    """(year, month, day) as typed: maybe day and month swapped, an impossible or future date.

    The result is not always a valid date, on purpose: it is written as text.
    """
    roll = rng.random()
    if roll < inversion:
        if day <= 12 and day != month:
            return year, day, month
        return year, month, day
    roll -= inversion
    if roll < impossible:
        if rng.random() < 0.5:
            return year, 2, pick(rng, (30, 31))
        return year, pick(rng, (4, 6, 9, 11)), 31
    roll -= impossible
    if roll < future:
        # The century slips: 1975 typed as 2075.
        return year + 100, month, day
    return year, month, day


# --- e-mails -------------------------------------------------------------------------------


def noisy_email(rng: random.Random, email: str) -> str:
    """Shouted, capitalised or padded with spaces, as typed into a form without validation."""
    roll = rng.random()
    if roll < 0.35:
        return email.upper()
    if roll < 0.6:
        return email[0].upper() + email[1:]
    if roll < 0.85:
        return f" {email} " if rng.random() < 0.3 else f"{email} "
    local, _, domain = email.partition("@")
    return f"{local} @{domain}" if rng.random() < 0.5 else f"{local}@ {domain}"


def email_with_domain_typo(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local}@{EMAIL_DOMAIN_TYPOS.get(domain, domain)}"
