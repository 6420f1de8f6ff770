"""The many-shapes report across seeds: a precision under target at any seed shows."""

from __future__ import annotations

from bench.many_shapes import seeds_table


def test_the_lowest_precision_over_the_seeds_is_shown_and_marked_under_target():
    rows = seeds_table({
        "households": {1: {"precision": 0.999, "recall": 0.973},
                       2: {"precision": 0.993, "recall": 0.983}},
        "no_contact": {1: {"precision": 1.0, "recall": 0.965},
                       2: {"precision": 0.999, "recall": 0.956}},
        "voters": {1: {"precision": 0.998, "recall": 0.895}, 2: {"error": "import failed"}},
    })
    assert rows[0] == "| shape | seed 1 | seed 2 | lowest precision |"
    assert rows[2] == "| households | 0.999 / 0.973 | 0.993 / 0.983 | 0.993 (under target) |"
    assert rows[3] == "| no_contact | 1.000 / 0.965 | 0.999 / 0.956 | 0.999 |"
    assert rows[4] == "| voters | 0.998 / 0.895 | error | 0.998 |"
