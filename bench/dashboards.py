"""The dashboards on a million records: the daily quality snapshot and the pages that read it.

    .venv/bin/python -m bench.dashboards [--records 1000000] [--requests 9] [--rebuild]

Runs against BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432, trust auth):

1. the base, built once into the database `rcu_bench_dashboards_<records>` and reused
   by later runs as a template (`--rebuild` builds it again): four sources in three
   departments, `--records` source records (85 % one per golden customer, the rest
   joining an existing customer), with missing values and quality flags at realistic
   rates, 30,000 open merge candidates, 20,000 steward must-links, 3,000 decisions of
   five stewards over 30 days, and three quality rules (one not met). Written by COPY
   with history rows (`rcu.services.changes.rows_insert`), no matching run. BENCH_DASHBOARDS_DB names it otherwise;
2. a copy of it (`CREATE DATABASE … TEMPLATE`) where `quality_snapshot_take()` is timed
   (target: under a minute); a year of earlier daily figures is then derived from that
   day's, so that the trend charts read 365 days;
3. server time (Django's test client in process; production settings, DEBUG off) of
   each dashboard page, median of `--requests` requests after two untimed ones, for an
   admin and for a steward of one department (target: under 300 ms).

Prints one JSON line; `bench.run` (part "dashboards") writes .bench/dashboards-results.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bench.template_base import PG_URL, measured_on_a_copy

ROOT = Path(__file__).resolve().parent.parent
PAGE_TARGET_MS = 300
SNAPSHOT_TARGET_S = 60
CHUNK = 50_000
SOURCES = (  # code, department, share of the records
    ("bench_crm", "bench-marketing", 0.40),
    ("bench_fidelite", "bench-marketing", 0.15),
    ("bench_service", "bench-service", 0.20),
    ("bench_eshop", "bench-shop", 0.25),
)
FIELDS = ["civility", "first_name", "last_name", "birth_date", "email", "mobile",
          "address_line1", "postcode", "city", "country"]
FIRST = [("Jean", "M"), ("Marie", "MME"), ("Pierre", "M"), ("Nathalie", "MME"), ("Luc", "M"),
         ("Sophie", "MME"), ("Paul", "M"), ("Julie", "MME"), ("Hugo", "M"), ("Léa", "MME")]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David"]
PLACES = [("75011", "PARIS"), ("69003", "LYON"), ("13008", "MARSEILLE"), ("31000", "TOULOUSE"),
          ("44000", "NANTES"), ("67000", "STRASBOURG"), ("33000", "BORDEAUX"), ("97400", "ST DENIS")]
STREETS = ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "place du Marché",
           "chemin des Vignes", "allée des Tilleuls"]


def _env(database: str) -> dict:
    env = dict(
        os.environ, DATABASE_URL=f"{PG_URL}/{database}", DEBUG="False",
        SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1,testserver", RCU_MATCH_AFTER_IMPORT="False",
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def _child(step: str, database: str, args: list[str]) -> dict:
    process = subprocess.run(
        [sys.executable, "-m", "bench.dashboards", "--step", step, *args], cwd=ROOT,
        env=_env(database), capture_output=True, text=True, check=False,
    )
    if process.returncode != 0:
        raise SystemExit(f"bench.dashboards {step} failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


# --- building the base (in the template database) --------------------------------------

def _person(rng: random.Random, serial: int) -> tuple[dict, dict, list[str]]:
    """(raw, attributes, flags) of one record, with the usual defects."""
    first, civility = rng.choice(FIRST)
    last = rng.choice(LAST)
    postcode, city = rng.choice(PLACES)
    email = f"{first.lower()}.{last.lower()}{serial}@exemple.fr"
    raw = {"id": f"R{serial}", "civility": civility, "first_name": first, "last_name": last,
           "birth_date": f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
           "email": email, "mobile": f"+336{rng.randint(10_000_000, 99_999_999)}",
           "address_line1": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
           "postcode": postcode, "city": city, "country": "FR"}
    attributes = {k: v for k, v in raw.items() if k != "id"}
    flags: list[str] = []
    draw = rng.random()
    if draw < 0.03:
        attributes.pop("email")
        raw["email"] = "pas-un-email"
        flags.append("email.invalid")
    elif draw < 0.05:
        attributes["city"] = raw["city"] = "LILLE"
        flags.append("city.postcode_mismatch")
    elif draw < 0.06:
        attributes["postcode"] = raw["postcode"] = "75099"
        flags.append("postcode.unknown")
    elif draw < 0.08:
        attributes["mobile"] = raw["mobile"] = "+33142112233"
        flags.append("mobile.not_mobile")
    elif draw < 0.09:
        raw["city"] = city[:-1]
        flags.append("city.corrected")
    if rng.random() < 0.10:
        attributes.pop("birth_date")
        raw["birth_date"] = ""
    if rng.random() < 0.20 and "mobile.not_mobile" not in flags:
        attributes.pop("mobile")
        raw["mobile"] = ""
    return raw, attributes, flags


def build(records: int, seed: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from quality.models import QualityRule
    from rcu.actors import SystemActor
    from rcu.ingestion import jsontext
    from rcu.models import Customer, PairDecision, SourceRecord
    from rcu.roles import Role
    from rcu.services.changes import rows_insert
    from rcu.services.sources import source_configure
    from rcu.services.stats import source_stats_recount
    from stewardship.models import Decision, MergeCandidate

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    now = timezone.now()
    sources = []
    for code, department, share in SOURCES:
        source, _ = source_configure(data={
            "code": code, "name": code.replace("_", " ").title(), "department": department,
            "trust_rank": len(sources) + 1, "default_country": "FR", "external_id": "id",
            "fields": [{"source": f, "attribute": f} for f in FIELDS],
        }, acting_user=SystemActor(job="bench"))
        sources.append((source, share))
    User = get_user_model()
    admin = User.objects.create_user("bench_admin", password=None, email="admin@exemple.fr")
    admin.groups.add(Group.objects.get(name=Role.ADMIN.value))
    stewards = []
    for n in range(5):
        steward = User.objects.create_user(f"bench_steward{n}", password=None)
        steward.groups.add(Group.objects.get(name=Role.STEWARD.value), sources[0][0].department.group)
        stewards.append(steward)

    singles = int(records * 0.85)
    serial = 0
    customer_ids: list[int] = []
    record_ids: list[int] = []
    record_customer: list[int] = []
    plan = []  # (source, count) in order
    for source, share in sources:
        plan.append((source, int(records * share)))
    plan[-1] = (plan[-1][0], records - sum(n for _, n in plan[:-1]))
    written = 0
    for source, count in plan:
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            people = [_person(rng, serial + i) for i in range(n)]
            serial += n
            new = max(0, min(n, singles - written))
            with transaction.atomic():
                new_ids = rows_insert(
                    model=Customer, rows=[{
                        **{k: v for k, v in attrs.items() if k != "birth_date"},
                        "birth_date": attrs.get("birth_date"),
                        "first_name_key": attrs["first_name"].upper(),
                        "last_name_key": attrs["last_name"].upper(),
                    } for _raw, attrs, _flags in people[:new]],
                    now=now, acting_user=SystemActor(job="bench"), reason="bench",
                ) if new else []
                customer_ids += new_ids
                owners = new_ids + [rng.choice(customer_ids) for _ in range(n - new)]
                rows = [{
                    "source_id": source.pk, "external_id": raw["id"], "customer_id": owner,
                    "raw": raw, "attributes": attrs, "keys": {}, "quality_flags": flags,
                    "business_ts": now - timedelta(days=rng.uniform(0, 1100)),
                    "payload_hash": hashlib.sha256(jsontext.dumps(raw)).hexdigest(),
                } for (raw, attrs, flags), owner in zip(people, owners, strict=True)]
                ids = rows_insert(model=SourceRecord, rows=rows, now=now,
                                             acting_user=SystemActor(job="bench"), reason="bench")
            record_ids += ids
            record_customer += owners
            written += n

    # Steward must-links inside some multi-record customers; open candidates; decisions.
    by_customer: dict[int, list[int]] = {}
    for record_id, owner in zip(record_ids, record_customer, strict=True):
        by_customer.setdefault(owner, []).append(record_id)
    multi = [ids for ids in by_customer.values() if len(ids) > 1]
    pairs = [tuple(sorted(ids[:2])) for ids in rng.sample(multi, min(20_000, len(multi)))]
    PairDecision.objects.bulk_create(
        [PairDecision(record_a_id=a, record_b_id=b, kind=PairDecision.Kind.MUST_LINK) for a, b in pairs],
        batch_size=5000,
    )
    candidates = []
    seen: set[tuple[int, int]] = set()
    while len(candidates) < min(30_000, records // 4):
        a, b = sorted(rng.sample(record_ids, 2))
        if (a, b) in seen:
            continue
        seen.add((a, b))
        candidates.append({"record_a_id": a, "record_b_id": b, "probability": rng.uniform(0.5, 0.95),
                           "weight": 1.0, "levels": "", "explanation": {},
                           "status": MergeCandidate.Status.OPEN,
                           "created_at": now - timedelta(seconds=rng.uniform(0, 60 * 86400))})
    candidate_ids = rows_insert(model=MergeCandidate, rows=candidates, now=now,
                                           acting_user=SystemActor(job="bench"), reason="bench")
    departments = [source.department_id for source, _ in sources]
    through = MergeCandidate.departments.through
    through.objects.bulk_create(
        [through(mergecandidate_id=pk, department_id=rng.choice(departments)) for pk in candidate_ids],
        batch_size=5000,
    )
    decisions = Decision.objects.bulk_create([
        Decision(kind=rng.choice([Decision.Kind.MERGE, Decision.Kind.REJECT]),
                 decided_by=rng.choice(stewards)) for _ in range(3000)
    ], batch_size=1000)
    for decision in decisions:
        decision.decided_at = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
    Decision.objects.bulk_update(decisions, ["decided_at"], batch_size=1000)
    Decision.departments.through.objects.bulk_create([
        Decision.departments.through(decision_id=d.pk, department_id=departments[0]) for d in decisions
    ], batch_size=5000)
    Decision.customers.through.objects.bulk_create([
        Decision.customers.through(decision_id=d.pk, customer_id=rng.choice(customer_ids))
        for d in decisions
    ], batch_size=5000)
    crm = sources[0][0]
    QualityRule.objects.bulk_create([
        QualityRule(source=crm, attribute="email", metric="validity", minimum=Decimal("0.99"), created_by=admin),
        QualityRule(source=crm, attribute="email", metric="completeness", minimum=Decimal("0.9"), created_by=admin),
        QualityRule(source=sources[2][0], attribute="mobile", metric="completeness", minimum=Decimal("0.5"),
                    created_by=admin),
    ])
    source_stats_recount(source_ids=[source.pk for source, _ in sources])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {"records": records, "customers": len(customer_ids), "build_s": round(time.perf_counter() - started, 1)}


# --- measuring (in a copy) --------------------------------------------------------------

def _history(days: int) -> None:
    """A year of earlier days, derived from today's figures (a little lower each day back)."""
    from django.db import connection

    from quality.models import QualityFigure, QualitySnapshot

    today = QualitySnapshot.objects.get().taken_on
    table = QualityFigure._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (taken_on, scope, attribute, metric, detail, numerator, denominator) "
            "SELECT f.taken_on - d, f.scope, f.attribute, f.metric, f.detail, "
            "GREATEST(0, f.numerator - (f.numerator * d / 2000)), f.denominator "
            f"FROM {table} f CROSS JOIN generate_series(1, %s) AS d WHERE f.taken_on = %s",
            [days - 1, today],
        )
        cursor.execute(f"ANALYZE {table}")


def _two_factor_verified(client, user) -> None:
    """The admin signs in with a second factor: a confirmed device, verified in the session
    (what django-otp's login stores), so the pages answer instead of asking for the code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def measure(requests: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.test import Client
    from django.test.utils import override_settings

    from bench.stewardship import measure_page
    from quality.models import QualityFigure
    from quality.services import quality_snapshot_take
    from rcu.actors import SystemActor

    started = time.perf_counter()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        mail.outbox = []
        snapshot = quality_snapshot_take(acting_user=SystemActor(job="bench"))
        # on_commit ran at the end of the atomic block: the breach mail is in the outbox.
    snapshot_s = time.perf_counter() - started
    figures_per_day = QualityFigure.objects.count()
    _history(365)

    static = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
              "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    User = get_user_model()
    pages = {
        "home": "/", "quality": "/quality/", "quality 365 days": "/quality/?days=365",
        "quality source": "/quality/sources/bench_crm/",
        "quality source 365 days": "/quality/sources/bench_crm/?attribute=email&days=365",
        "kpis": "/quality/kpis/",
    }
    results: dict = {}
    with override_settings(STORAGES=static):
        for persona in ("bench_admin", "bench_steward0"):
            client = Client()
            user = User.objects.get(username=persona)
            client.force_login(user)
            _two_factor_verified(client, user)
            results[persona] = {}
            for name, url in pages.items():
                found = measure_page(client, url, requests)
                found.pop("_sql", None)
                results[persona][name] = found
    return {
        "snapshot_s": round(snapshot_s, 1), "snapshot_ms_recorded": snapshot.duration_ms,
        "figures_per_day": figures_per_day, "breach_mails": len(mail.outbox),
        "pages": results, "requests": requests,
    }


def run(records: int, requests: int, *, rebuild: bool = False, seed: int = 11) -> dict:
    built, result = measured_on_a_copy(
        base=os.environ.get("BENCH_DASHBOARDS_DB") or f"rcu_bench_dashboards_{records}",
        build=lambda database: _child("build", database, ["--records", str(records), "--seed", str(seed)]),
        measure=lambda database: _child("measure", database, ["--requests", str(requests)]),
        rebuild=rebuild,
    )
    return {"records": records, "base_built": built, **result}


def results_table(result: dict) -> str:
    lines = [
        f"Dashboards on {result['records']:,} records (PostgreSQL): server time, median of "
        f"{result['requests']} requests (target {PAGE_TARGET_MS} ms)",
        "",
        f"- daily quality snapshot: {result['snapshot_s']} s (target {SNAPSHOT_TARGET_S} s), "
        f"{result['figures_per_day']} figures a day; breach mails: {result['breach_mails']}",
        "",
        "| page | admin (ms) | queries | steward (ms) | queries |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    admin, steward = result["pages"]["bench_admin"], result["pages"]["bench_steward0"]
    for name in admin:
        a, s = admin[name], steward[name]
        lines.append(f"| {name} `{a.get('url', '')}` | {a.get('median_ms', a.get('error'))} | "
                     f"{a.get('queries', '')} | {s.get('median_ms', s.get('error'))} | {s.get('queries', '')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=9)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--step", choices=["build", "measure"])
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    sys.path.insert(0, str(ROOT))
    if args.step == "build":
        result = build(args.records, args.seed)
    elif args.step == "measure":
        result = measure(args.requests)
    else:
        result = run(args.records, args.requests, rebuild=args.rebuild, seed=args.seed)
        print(results_table(result), file=sys.stderr)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
