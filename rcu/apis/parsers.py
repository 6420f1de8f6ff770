"""Reading request bodies within the documented limits (docs/limits.md)."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from rcu.ingestion.limits import NESTING_MAX_DEPTH, RAW_PAYLOAD_MAX_BYTES

# The body as sent may hold indentation and escapes the stored payload does not: the
# exact 64 KiB limit is checked on the payload once read; this only bounds the reading.
BODY_MAX_BYTES = 4 * RAW_PAYLOAD_MAX_BYTES


class RecordJSONParser(JSONParser):
    """JSON for one record: NaN and Infinity are read (then refused naming their field,
    like a file row), a body nested too deep or too large is a 400, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(BODY_MAX_BYTES + 1) if stream is not None else b""
        if len(body) > BODY_MAX_BYTES:
            raise ParseError(f"body larger than {BODY_MAX_BYTES // 1024} KiB")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(body.decode(encoding))
        except UnicodeDecodeError as exc:
            raise ParseError(f"body is not {encoding} text") from exc
        except RecursionError as exc:
            raise ParseError(f"JSON nested deeper than {NESTING_MAX_DEPTH} levels") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
