"""Entry point of the import helper process: `python -m rcu.ingestion.mapper_process`.

Reads its job (file, format, mapping) pickled on stdin and writes the mapped batches
pickled on stdout. See `rcu.ingestion.batches.iter_batches_in_subprocess`.
"""

from __future__ import annotations

import sys

from rcu.ingestion.batches import serve_batches

if __name__ == "__main__":
    serve_batches(sys.stdin.buffer, sys.stdout.buffer)
