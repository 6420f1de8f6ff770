"""Who may be contacted, on a million customers: the contactable list's pages and its CSV.

    .venv/bin/python -m bench.consents [--customers 1000000] [--rebuild]

Runs against BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432, trust auth), in
the database `rcu_bench_consents_<customers>` (built once, reused; `--rebuild` builds it
again): `--customers` golden customers written by SQL (no history, no matching: only
what the list reads), each with a consent statement and its consent in force for the
newsletter by e-mail (70 % granted) and, for one in five, offers by SMS (50 % granted);
1 % of them restricted (art. 18), 1 % objecting (art. 21). Then, in process (production
settings, DEBUG off):

1. the server time of `GET /api/v1/gdpr/consents/?purpose=newsletter&channel=email` for
   the first page, a page deep in the list (after 90 % of the customers) and a page of
   the sparser SMS list, median of 9 after two untimed (target: under 100 ms whatever
   the depth);
2. the whole list as CSV (`export=csv`), streamed: rows per second;
3. the page query's plan (`EXPLAIN`), to show it walks the partial index.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PAGE_TARGET_MS = 100


def _psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def build(db_url: str, customers: int) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "rcu.settings",
           "DEBUG": "False", "ALLOWED_HOSTS": "127.0.0.1,testserver",
           "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789abcdef"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT,
                   env=env, check=True)
    # Every customer column, filled the way the list reads it (names, e-mail, mobile).
    _psql(db_url, f"""
        INSERT INTO rcu_customer (public_id, civility, first_name, last_name, birth_date, email, phone,
            mobile, address_line1, address_line2, postcode, city, country, extra_identifiers, provenance,
            pinned, restricted_at, restriction_reason, first_name_key, last_name_key, created_at, updated_at)
        SELECT gen_random_uuid(), 'MME', 'Marie', 'Martin' || i, NULL, 'marie.martin' || i || '@example.org',
            '', '+336' || lpad(i::text, 8, '0'), '', '', '75011', 'PARIS', 'FR', '{{}}', '{{}}', '{{}}',
            CASE WHEN i % 100 = 7 THEN now() END, '', 'marie', 'martin' || i, now(), now()
        FROM generate_series(1, {customers}) AS i;
        ANALYZE rcu_customer;
    """)
    _psql(db_url, """
        INSERT INTO gdpr_consentstatement (purpose_id, channel, granted, stated_at, recorded_at, origin,
            stated_on_id, holder_id, wording, actor_job)
        SELECT p.id, 'email', c.id % 10 < 7, now() - (c.id % 900) * interval '1 day', now(), 'api',
            c.id, c.id, 'Lettre v3', 'bench'
        FROM rcu_customer c, gdpr_consentpurpose p WHERE p.code = 'newsletter';
        INSERT INTO gdpr_consentstatement (purpose_id, channel, granted, stated_at, recorded_at, origin,
            stated_on_id, holder_id, wording, actor_job)
        SELECT p.id, 'sms', c.id % 2 = 0, now() - (c.id % 400) * interval '1 day', now(), 'api',
            c.id, c.id, 'SMS v1', 'bench'
        FROM rcu_customer c, gdpr_consentpurpose p WHERE p.code = 'offers' AND c.id % 5 = 0;
        INSERT INTO gdpr_consent (customer_id, purpose_id, channel, granted, stated_at, statement_id)
        SELECT holder_id, purpose_id, channel, granted, stated_at, id FROM gdpr_consentstatement;
        INSERT INTO gdpr_objection (stated_on_id, holder_id, reason, recorded_at, lift_reason)
        SELECT id, id, 'bench', now(), '' FROM rcu_customer WHERE id % 100 = 13;
        ANALYZE gdpr_consentstatement; ANALYZE gdpr_consent; ANALYZE gdpr_objection;
    """)


def measure(customers: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.test import APIClient

    from gdpr.models import ConsentPurpose
    from gdpr.selectors.consents import consents_contactable
    from rcu.roles import Role
    from tests.factories import make_user

    user = get_user_model().objects.filter(username="bench_dpo").first() or make_user(
        "bench_dpo", roles=[Role.DPO])
    client = APIClient()
    client.force_authenticate(user)

    def page_ms(params: dict) -> float:
        times = []
        for run in range(11):
            started = time.perf_counter()
            response = client.get("/api/v1/gdpr/consents/", {"limit": 500, **params}, secure=True)
            assert response.status_code == 200, (response.status_code, response.content[:300])
            if run >= 2:
                times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 1)

    deep = int(customers * 0.9)
    figures = {
        "customers": customers,
        "page_first_ms": page_ms({"purpose": "newsletter", "channel": "email"}),
        "page_deep_ms": page_ms({"purpose": "newsletter", "channel": "email", "after": deep}),
        "page_sms_ms": page_ms({"purpose": "offers", "channel": "sms"}),
    }
    started = time.perf_counter()
    response = client.get("/api/v1/gdpr/consents/", {"purpose": "newsletter", "channel": "email",
                                                     "export": "csv"}, secure=True)
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    elapsed = time.perf_counter() - started
    figures.update(csv_rows=rows, csv_seconds=round(elapsed, 1), csv_rows_per_second=int(rows / elapsed))
    query = consents_contactable(purpose=ConsentPurpose.objects.get(code="newsletter"), channel="email",
                                 after=deep).values_list("customer_id", "customer__public_id", "customer__email")[:500]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        figures["plan"] = [row[0] for row in cursor.fetchall()]
    figures["target_ms"] = PAGE_TARGET_MS
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    name = f"rcu_bench_consents_{args.customers}"
    exists = _psql(f"{PG_URL}/postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip()
    if exists and args.rebuild:
        _psql(f"{PG_URL}/postgres", f"DROP DATABASE {name}")
        exists = ""
    db_url = f"{PG_URL}/{name}"
    if not exists:
        _psql(f"{PG_URL}/postgres", f"CREATE DATABASE {name}")
        build(db_url, args.customers)
    os.environ.update(
        DATABASE_URL=db_url, DEBUG="False", ALLOWED_HOSTS="127.0.0.1,testserver",
        SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789abcdef",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    print(json.dumps(measure(args.customers), ensure_ascii=False))


if __name__ == "__main__":
    main()
