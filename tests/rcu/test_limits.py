"""The documented limits: one definition, the columns read it, every check names its field."""

from __future__ import annotations

import pytest

from rcu.attributes import CANONICAL_ATTRIBUTES
from rcu.ingestion.limits import (
    EXTERNAL_ID_MAX_LENGTH,
    FIELD_MAX_LENGTH,
    NESTING_MAX_DEPTH,
    RAW_PAYLOAD_MAX_BYTES,
    REASON_MAX_LENGTH,
    attribute_max_length,
    payload_problem,
    printable,
    text_problem,
)
from rcu.models import Customer, ImportRowError, SourceRecord


def test_the_limits_are_the_issues_numbers():
    expected = {"first_name": 150, "last_name": 150, "city": 150, "address_line1": 255,
                "address_line2": 255, "email": 254}
    assert {name: attribute_max_length(name) for name in expected} == expected
    assert EXTERNAL_ID_MAX_LENGTH == 200
    assert attribute_max_length("loyalty_card") == 200  # extra identifiers
    assert RAW_PAYLOAD_MAX_BYTES == 64 * 1024
    assert NESTING_MAX_DEPTH == 32


@pytest.mark.parametrize("attribute", [a for a in CANONICAL_ATTRIBUTES if a.name != "birth_date"],
                         ids=lambda a: a.name)
def test_each_customer_column_is_as_wide_as_its_documented_limit(attribute):
    assert Customer._meta.get_field(attribute.name).max_length == attribute.max_length


def test_columns_holding_keys_ids_and_messages_match_their_limits():
    assert Customer._meta.get_field("first_name_key").max_length == attribute_max_length("first_name")
    assert Customer._meta.get_field("last_name_key").max_length == attribute_max_length("last_name")
    assert SourceRecord._meta.get_field("external_id").max_length == EXTERNAL_ID_MAX_LENGTH
    assert ImportRowError._meta.get_field("external_id").max_length == EXTERNAL_ID_MAX_LENGTH
    assert ImportRowError._meta.get_field("reason").max_length == REASON_MAX_LENGTH
    assert ImportRowError._meta.get_field("field").max_length == FIELD_MAX_LENGTH


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a\x00b", "NUL"),
        ("a\x01b", "U+0001"),
        ("a\x1bb", "U+001B"),
        ("a\x7fb", "U+007F"),
        ("a\x85b", "U+0085"),
        ("a\ud800b", "lone surrogate U+D800"),
        ("a\ufffdb", "could not be decoded"),
    ],
)
def test_text_with_a_forbidden_character_is_named(text, words):
    assert words in text_problem(text)


@pytest.mark.parametrize("text", ["", "Hélène", "12 rue\tde la\nPaix\r\n", "李小龍", "emoji 🙂", "'=1"])
def test_ordinary_text_tabs_and_line_breaks_pass(text):
    assert text_problem(text) is None


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"id": "1", "name": "Du\x00pont"}, "name", "NUL"),
        ({"id": "1", "na\x00me": "x"}, "na\\x00me", "field name contains a NUL"),
        ({"id": "1", "score": float("nan")}, "score", "NaN"),
        ({"id": "1", "score": float("-inf")}, "score", "NaN"),
        ({"id": "1", "address": {"street": "rue\x1b"}}, "address.street", "U+001B"),
        ({"id": "1", "tags": ["ok", float("inf")]}, "tags", "NaN"),
        ({"id": "1", "deep": nested(NESTING_MAX_DEPTH)}, "deep" + ".a" * (NESTING_MAX_DEPTH - 1), "nested deeper"),
        ({"id": "1", "notes": "n" * RAW_PAYLOAD_MAX_BYTES}, "", "larger than 64 KiB"),
        ({"id": "1", "notes": "\u00e9" * 40_000}, "", "larger than 64 KiB"),  # 80,000 bytes as UTF-8
        ({"id": "1", "big": [10**4000] * 20}, "", "larger than 64 KiB"),
    ],
)
def test_a_payload_problem_names_its_field(payload, field, words):
    problem = payload_problem(payload)
    assert problem is not None
    assert problem.field == field
    assert words in problem.reason


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "1", "name": "Hélène", "phone": None, "n": 3, "ok": True, "score": 1.5},
        {"id": "1", "deep": nested(NESTING_MAX_DEPTH - 1)},  # 32 levels with the top one
        {"id": "1", "notes": "n" * (RAW_PAYLOAD_MAX_BYTES - 100)},
        {"id": "1", "tags": [["a", ["b"]], {"c": [1, 2.5, None]}]},
    ],
)
def test_payloads_within_the_limits_pass(payload):
    assert payload_problem(payload) is None


def test_printable_shows_controls_and_bounds_the_length():
    assert printable("a\x00b\nc") == "a\\x00b\\nc"
    assert printable("x\ud800") == "x\\ud800"
    assert printable("y" * 600, 500) == "y" * 499 + "…"
