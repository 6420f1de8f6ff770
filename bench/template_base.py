"""A large base built once into a PostgreSQL template database, measured on a copy.

Building a 1,000,000-record base takes minutes; each measurement then starts from a
fresh copy (`CREATE DATABASE … TEMPLATE`, seconds), so parts that change the base
(erasing people) measure the same state every time. A base is built under another name
and renamed when complete: a build cut off midway is never taken for a base. A part
that keeps files beside its base (imported files, media) names their folder per
database, and the folder follows the base and its copies.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def pg_admin(*statements: str) -> None:
    """Run statements on the server's maintenance database (outside any transaction)."""
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def measured_on_a_copy(
    *, base: str, build: Callable[[str], dict], measure: Callable[[str], dict], rebuild: bool,
    folder: Callable[[str], Path] | None = None,
) -> tuple[dict | None, dict]:
    """(what building reported, or None when the base existed; what measuring reported):
    `build(database)` fills an empty database, `measure(database)` runs on a copy of the
    base, dropped after (unless BENCH_KEEP=1). `folder(database)`: files that go with it."""
    copy = f"{base}_run"
    built = None
    if rebuild or not database_exists(base):
        building = f"{base}_building"
        pg_admin(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)', f'CREATE DATABASE "{building}"')
        if folder:
            shutil.rmtree(folder(building), ignore_errors=True)
        built = build(building)
        pg_admin(f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)',
                 f'ALTER DATABASE "{building}" RENAME TO "{base}"')
        if folder:
            shutil.rmtree(folder(base), ignore_errors=True)
            folder(building).rename(folder(base))
    pg_admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)',
             f'CREATE DATABASE "{copy}" TEMPLATE "{base}"')
    if folder:
        shutil.rmtree(folder(copy), ignore_errors=True)
        shutil.copytree(folder(base), folder(copy))
    try:
        return built, measure(copy)
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            pg_admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
            if folder:
                shutil.rmtree(folder(copy), ignore_errors=True)
