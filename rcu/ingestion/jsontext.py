"""JSON text on the import hot path: orjson's speed, the standard library's reach."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except TypeError:  # e.g. an integer beyond 64 bits in a JSON Lines payload
        return json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, default=str).encode()
