"""Soak: concurrent merges, file imports, API ingests and batch matching runs on the same
customers, over HTTP.

    .venv/bin/python -m bench.soak [--seconds 60] [--persons 1000] [--port 8765]

DATABASE_URL names an empty PostgreSQL database (`bench.run` makes a scratch one and
drops it afterwards). The demo base is seeded at a modest size (`--persons`), then the
application is started on 127.0.0.1 (`manage.py runserver --noreload`, production
settings, DEBUG off, tasks eager: an import runs inside its request) and, for
`--seconds`, client threads send real requests on loopback:

- merges: `POST /api/v1/candidates/{id}/merge/` on open candidates, with a share of
  rejections (`…/reject/`) and undos (`POST /api/v1/customers/{id}/unmerge/`);
- API ingests: `POST /api/v1/sources/{code}/records/`, updates of the records of those
  candidates' customers;
- file imports: `POST /api/v1/sources/{code}/imports/`, a few of those records per file;
- batch runs: an administrator (signed in, second factor verified) starts a matching run
  from the app, `POST /administration/matching/` (`action=run`): the records waiting,
  one run in `--full-every` over the whole base. Tasks are eager: the run scores,
  clusters and applies within the request (or, when it waits for a run under way,
  within the request that ends that run).

Every update writes a unique value, so that the end state can be checked exactly.
Reported per operation: requests, throughput, p50/p95 latency, refusals (4xx: a steward
decision overtaken by another is a 409) and server errors (5xx, or no answer); then
deadlocks (`pg_stat_database.deadlocks` during the run, and the server's log), and
invariant violations: records without a customer or in a retired one, golden values
their records do not give, per-source counts off, source updates lost (a successful
update that is not the record's last value nor in its history in order), matching runs
that failed or never ended. Targets 0, 0, 0. Writes .bench/soak.md and .bench/soak.json; prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
OPERATIONS = ("merge", "reject", "undo", "api ingest", "file import", "batch run")
# Few candidates, so that every writer keeps meeting the others on the same customers.
HOT_CANDIDATES = 10
ROWS_PER_FILE = 4
CLIENT_TIMEOUT = 120
# One batch run in this many rescores the whole base.
FULL_RUN_EVERY = 5
MATCHING_PAGE = "/administration/matching/"


def percentile(values: list[float], share: float) -> float | None:
    """Inclusive percentile (`statistics.quantiles` method 'inclusive'), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    ok: int = 0
    refused: int = 0
    server_errors: int = 0
    errors: list[str] = field(default_factory=list)
    refusals: Counter = field(default_factory=Counter)  # 4xx status → how many

    def figures(self, seconds: float) -> dict:
        count = len(self.latencies_ms)
        return {
            "requests": count, "ok": self.ok, "refused": self.refused,
            "server_errors": self.server_errors,
            "refused_by_status": {str(k): v for k, v in sorted(self.refusals.items())},
            "per_second": round(count / seconds, 2) if seconds else 0.0,
            "p50_ms": _round(percentile(self.latencies_ms, 0.5)),
            "p95_ms": _round(percentile(self.latencies_ms, 0.95)),
            "first_errors": self.errors[:3],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Write:
    """One source update over HTTP: `token` written in `column` of one record."""

    source: str
    external_id: str
    column: str
    token: str
    started: float
    ended: float = 0.0
    ok: bool = False


class Client:
    """One keep-alive HTTP connection to the server, with the API token of a steward
    (or, `headers` given, the session cookie of someone signed in to the app)."""

    def __init__(self, port: int, token: str = "", *, headers: dict | None = None) -> None:
        self.port = port
        self.headers = headers or {"Authorization": f"Token {token}",
                                   "Accept": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
        self.location = ""  # the Location of the last answer, if any

    def request(self, method: str, path: str, *, body: bytes | None = None,
                content_type: str = "application/json") -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                self.location = response.getheader("Location") or ""
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # runserver closes idle keep-alive connections: open a new one once.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                             timeout=CLIENT_TIMEOUT)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def csrf_token_of(page: bytes) -> str:
    """The CSRF token of the first form of a page ('' if none)."""
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return found.group(1).decode() if found else ""


def run_of(location: str) -> int | None:
    """The run a start of a batch run was redirected to (`…/matching/#run-12`)."""
    found = re.search(r"#run-(\d+)$", location)
    return int(found.group(1)) if found else None


def multipart(name: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
        f"filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Soak:
    def __init__(self, *, port: int, token: str, targets: dict, columns: dict, seed: int,
                 admin_headers: dict | None = None, full_every: int = FULL_RUN_EVERY) -> None:
        self.port = port
        self.token = token
        self.admin_headers = admin_headers or {}  # the administrator's session (batch runs)
        self.full_every = full_every
        self.runs: list[int] = []  # the batch runs asked for, by id
        self.targets = targets  # source code → [(external id, raw payload)]
        self.columns = columns  # source code → the column an update writes its token in
        self.stats: dict[str, Stats] = defaultdict(Stats)
        self.writes: list[Write] = []
        self.seed = seed
        self.sequence = 0
        self.lock = threading.Lock()

    def _token(self) -> str:
        with self.lock:
            self.sequence += 1
            return f"SOAK {self.sequence}"

    def _call(self, operation: str, client: Client, method: str, path: str, *,
              redirect_ok: bool = False, **kwargs) -> int:
        stats = self.stats[operation]
        started = time.perf_counter()
        try:
            status, body = client.request(method, path, **kwargs)
        except Exception as error:  # no answer at all: a server error for the report
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            stats.server_errors += 1
            stats.errors.append(f"{method} {path}: {error!r}")
            return 599
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        if status >= 500:
            stats.server_errors += 1
            stats.errors.append(f"{method} {path}: {status} {body[:300]!r}")
        elif status >= 400:
            stats.refused += 1
            stats.refusals[status] += 1
        elif status >= 300 and not redirect_ok:  # never expected: an error of the set-up
            stats.server_errors += 1
            stats.errors.append(f"{method} {path}: unexpected {status}")
        else:
            stats.ok += 1
        self._last_body = body
        return status

    # --- operations ---------------------------------------------------------------------

    def merge_or_decide(self, client: Client, rng: random.Random) -> None:
        from stewardship.models import Decision, MergeCandidate

        roll = rng.random()
        if roll < 0.15:
            decision = (
                Decision.objects.filter(undone_at__isnull=True, kind__in=["merge", "reject"])
                .order_by("?").values("pk", "customers__public_id").first()
            )
            if decision is not None and decision["customers__public_id"]:
                self._call("undo", client, "POST",
                           f"/api/v1/customers/{decision['customers__public_id']}/unmerge/",
                           body=json.dumps({"decision": decision["pk"], "reason": "soak"}).encode())
                return
        candidate = (
            MergeCandidate.objects.open().filter(pk__in=self.hot_candidates)
            .order_by("?").values_list("pk", flat=True).first()
        )
        if candidate is None:
            candidate = MergeCandidate.objects.open().order_by("?").values_list(
                "pk", flat=True).first()
        if candidate is None:
            return
        if roll < 0.35:
            self._call("reject", client, "POST", f"/api/v1/candidates/{candidate}/reject/",
                       body=json.dumps({"reason": "soak"}).encode())
        else:
            self._call("merge", client, "POST", f"/api/v1/candidates/{candidate}/merge/",
                       body=json.dumps({"reason": "soak"}).encode())

    def api_ingest(self, client: Client, rng: random.Random) -> None:
        code = rng.choice(sorted(self.targets))
        external_id, raw = rng.choice(self.targets[code])
        write = Write(code, external_id, self.columns[code], self._token(), time.monotonic())
        with self.lock:
            self.writes.append(write)
        status = self._call("api ingest", client, "POST", f"/api/v1/sources/{code}/records/",
                            body=json.dumps({**raw, write.column: write.token}).encode())
        write.ended, write.ok = time.monotonic(), status in (200, 201)

    def file_import(self, client: Client, rng: random.Random) -> None:
        code = rng.choice(sorted(self.targets))
        rows = rng.sample(self.targets[code], min(ROWS_PER_FILE, len(self.targets[code])))
        writes = [Write(code, ext, self.columns[code], self._token(), time.monotonic())
                  for ext, _ in rows]
        with self.lock:
            self.writes.extend(writes)
        out = io.StringIO()
        fieldnames = sorted({k for _, raw in rows for k in raw} | {self.columns[code]})
        writer = csv.DictWriter(out, fieldnames=fieldnames, delimiter=";", restval="")
        writer.writeheader()
        for (_ext, raw), write in zip(rows, writes, strict=True):
            writer.writerow({**raw, write.column: write.token})
        body, content_type = multipart("file", f"soak-{writes[0].token[5:]}.csv",
                                       out.getvalue().encode("utf-8"))
        status = self._call("file import", client, "POST", f"/api/v1/sources/{code}/imports/",
                            body=body, content_type=content_type)
        succeeded = False
        if status < 300:
            job = json.loads(self._last_body)
            for _ in range(600):  # eager: finished within the request, unless a worker runs it
                if job.get("status") in ("succeeded", "failed", "interrupted", "cancelled"):
                    break
                time.sleep(0.1)
                _, answer = client.request("GET", f"/api/v1/imports/{job['id']}/")
                job = json.loads(answer)
            succeeded = job.get("status") == "succeeded"
            if not succeeded:
                stats = self.stats["file import"]
                stats.ok -= 1
                stats.server_errors += 1
                stats.errors.append(f"import #{job.get('id')} ended {job.get('status')}: "
                                    f"{job.get('message', '')[:300]}")
        for write in writes:
            write.ended, write.ok = time.monotonic(), succeeded

    def batch_run(self, client: Client, rng: random.Random) -> None:
        """An administrator asks for a run from the app's matching page (a form, with
        its CSRF token), as `match_run_start` serves it; now and then the whole base."""
        from rcu.models import MatchRun

        full = rng.randrange(self.full_every) == 0 if self.full_every else False
        status, page = client.request("GET", MATCHING_PAGE)
        csrf = csrf_token_of(page)
        if status != 200 or not csrf:
            stats = self.stats["batch run"]
            stats.server_errors += 1
            stats.errors.append(f"GET {MATCHING_PAGE}: {status}, no form to start a run")
            return
        form = {"csrfmiddlewaretoken": csrf, "action": "run", **({"full": "on"} if full else {})}
        status = self._call("batch run", client, "POST", MATCHING_PAGE, redirect_ok=True,
                            body=urlencode(form).encode(),
                            content_type="application/x-www-form-urlencoded")
        run_id = run_of(client.location) if status == 302 else None
        if status == 302 and run_id is None:
            stats = self.stats["batch run"]
            stats.ok -= 1
            stats.server_errors += 1
            stats.errors.append(f"POST {MATCHING_PAGE}: redirected to {client.location!r}")
        if run_id is not None:
            with self.lock:
                self.runs.append(run_id)
            # A run that waits for one under way is started when that one ends: wait
            # for it to end, as `manage.py match` does, before asking for the next.
            for _ in range(int(CLIENT_TIMEOUT / 0.1)):
                if MatchRun.objects.filter(pk=run_id, status__in=[
                        MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED]).exists():
                    break
                time.sleep(0.1)

    def worker(self, name: str, step, index: int, deadline: float) -> None:
        from django.db import connection

        rng = random.Random(self.seed * 100 + index)
        client = Client(self.port, self.token, headers=self.admin_headers
                        if name == "batch run" else None)
        try:
            while time.monotonic() < deadline:
                try:
                    step(client, rng)
                except Exception as error:  # the client side failed: report, keep going
                    self.stats[name].errors.append(f"client: {error!r}")
                    self.stats[name].server_errors += 1
        finally:
            connection.close()


# --- Checks --------------------------------------------------------------------------

def deadlocks_now() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def invariant_violations(writes: list[Write], runs: list[int] | None = None) -> dict[str, int]:
    """Each kind of violation found at the end of the soak, counted."""
    from django.db import transaction
    from django.db.models import Count

    from rcu.actors import SystemActor
    from rcu.models import Customer, SourceRecord, SourceStats
    from rcu.services.customers import customers_recompute

    found: dict[str, int] = {}
    found["records without a customer"] = SourceRecord.objects.filter(customer__isnull=True).count()
    found["records in a retired customer"] = SourceRecord.objects.filter(
        customer__merged_into__isnull=False).count()
    active = list(Customer.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    with transaction.atomic():
        found["golden values off their records"] = customers_recompute(customer_ids=active, acting_user=SystemActor(job="bench"))
        transaction.set_rollback(True)
    actual = {row["source_id"]: (row["n"], row["c"]) for row in SourceRecord.objects.values(
        "source_id").annotate(n=Count("id"), c=Count("customer_id", distinct=True)).order_by()}
    kept = {s.source_id: (s.record_count, s.customer_count) for s in SourceStats.objects.all()}
    found["per-source counts off"] = sum(kept.get(s) != v for s, v in actual.items())
    found["source updates lost"] = lost_updates(writes)
    found["matching runs failed or never ended"] = runs_not_succeeded(runs or [])
    return found


def runs_not_succeeded(runs: list[int]) -> int:
    """The batch runs asked for, and those the decisions and imports asked for in the
    meantime, that did not end well: every client has had its answer by now."""
    from rcu.models import MatchRun

    if not runs:
        return 0
    return MatchRun.objects.filter(pk__gte=min(runs)).exclude(
        status=MatchRun.Status.SUCCEEDED).count()


def lost_updates(writes: list[Write]) -> int:
    """Successful updates not reflected: every successful write must be in its record's
    history, after every successful write that ended before it started, and the record
    must end with the value of the one committed last. Failed writes must not be there."""
    from rcu.models import SourceRecord

    by_record: dict[tuple[str, str], list[Write]] = defaultdict(list)
    for write in writes:
        by_record[(write.source, write.external_id)].append(write)
    lost = 0
    for (code, external_id), record_writes in by_record.items():
        record = SourceRecord.objects.get(source__code=code, external_id=external_id)
        column = record_writes[0].column
        first_seen: dict[str, int] = {}
        for position, raw in enumerate(
            record.history.order_by("history_id").values_list("raw", flat=True)
        ):
            first_seen.setdefault((raw or {}).get(column, ""), position)
        succeeded = [w for w in record_writes if w.ok]
        lost += sum((w.token in first_seen) != w.ok for w in record_writes)
        seen = [w for w in succeeded if w.token in first_seen]
        lost += sum(
            1 for a in seen for b in seen
            if a.ended < b.started and first_seen[a.token] > first_seen[b.token]
        )
        if seen:
            last = max(seen, key=lambda w: first_seen[w.token])
            lost += int((record.raw or {}).get(column) != last.token)
    return lost


# --- Set-up --------------------------------------------------------------------------

def _token_column(config: dict) -> str | None:
    """The source column an update writes its token in: the second address line, else
    the first (one column), so that names and identifiers stay as matched."""
    by_attribute = {f["attribute"]: f["source"] for f in config["fields"]}
    for attribute in ("address_line2", "address_line1"):
        column = by_attribute.get(attribute)
        if isinstance(column, str):
            return column
    return None


def seed_base(persons: int, seed: int) -> None:
    from rcu.services.demo import demo_seed

    demo_seed(persons=persons, seed=seed, data_dir=WORK / f"soak-data-{persons}", force=True)


def bench_user() -> tuple[object, str]:
    """A steward of every department, with an API token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from rcu.actors import SystemActor
    from rcu.models import Department
    from rcu.roles import Role
    from rcu.services.tokens import api_token_create

    user, _ = get_user_model().objects.get_or_create(username="soak_steward")
    user.groups.add(Group.objects.get(name=Role.STEWARD.value),
                    *[d.group for d in Department.objects.all()])
    created = api_token_create(user=user, name="soak", acting_user=SystemActor(job="bench"))
    return user, created.key


def admin_session_headers() -> dict:
    """Headers of an administrator signed in to the app with a verified second factor
    (what django-otp's login stores in the session), and a CSRF cookie for its forms."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client as DjangoClient
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from rcu.roles import Role

    user, _ = get_user_model().objects.get_or_create(username="soak_admin")
    user.groups.add(Group.objects.get(name=Role.ADMIN.value))
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="soak",
                                                 defaults={"confirmed": True})
    client = DjangoClient()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    csrf = _get_new_csrf_string()
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
                      f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "Accept": "text/html"}


def hot_targets(rng: random.Random, hot_count: int) -> tuple[list[int], dict, dict]:
    """Open candidates to decide, and the records of their customers to update."""
    from rcu.demo import source_config_paths
    from rcu.models import SourceRecord, SourceSystem
    from stewardship.models import MergeCandidate

    columns = {}
    for path in source_config_paths():
        config = json.loads(path.read_text(encoding="utf-8"))
        column = _token_column(config)
        if column and SourceSystem.objects.filter(code=config["code"]).exists():
            columns[config["code"]] = column
    candidates = list(MergeCandidate.objects.open().values_list("pk", "record_a_id", "record_b_id"))
    rng.shuffle(candidates)
    hot = candidates[:hot_count]
    record_ids = {r for _, a, b in hot for r in (a, b)}
    customers = set(SourceRecord.objects.filter(pk__in=record_ids).values_list(
        "customer_id", flat=True))
    targets: dict[str, list] = defaultdict(list)
    for code, external_id, raw in SourceRecord.objects.filter(
        customer_id__in=customers, source__code__in=list(columns)
    ).values_list("source__code", "external_id", "raw"):
        targets[code].append((external_id, raw))
    return [pk for pk, _, _ in hot], dict(targets), columns


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    # Production settings, but plain HTTP on loopback: no redirect to HTTPS.
    # The API rates are raised: the soak measures writers meeting, not the throttle.
    # The app's pages (a batch run is started from one) need the static files collected,
    # as in production: into a scratch directory of the bench.
    env = dict(os.environ, DEBUG="False", ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="False",
               RCU_API_RATE_USER="100000/min", RCU_API_RATE_INGEST="100000/min",
               STATIC_ROOT=str(WORK / "soak-static"))
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True)
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/sources/")
            connection.getresponse().read()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: see {log_path}") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer on 127.0.0.1")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--hot", type=int, default=HOT_CANDIDATES,
                        help="open candidates whose customers every writer works on")
    parser.add_argument("--mergers", type=int, default=2)
    parser.add_argument("--ingesters", type=int, default=2)
    parser.add_argument("--importers", type=int, default=1)
    parser.add_argument("--batch-runners", type=int, default=1,
                        help="administrators starting matching runs one after the other")
    parser.add_argument("--full-every", type=int, default=FULL_RUN_EVERY,
                        help="one batch run in this many is a full one (0: never)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench.soak needs PostgreSQL (DATABASE_URL)")
    WORK.mkdir(exist_ok=True)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    seed_base(args.persons, args.seed)
    seeded = time.perf_counter() - started
    _user, token = bench_user()
    rng = random.Random(args.seed)
    hot, targets, columns = hot_targets(rng, args.hot)
    if not targets:
        raise SystemExit("no record to update: the demo base holds no open candidate")
    soak = Soak(port=args.port, token=token, targets=targets, columns=columns, seed=args.seed,
                admin_headers=admin_session_headers(), full_every=args.full_every)
    soak.hot_candidates = hot

    server_log = WORK / "soak-server.log"
    server = start_server(args.port, server_log)
    try:
        deadlocks_before = deadlocks_now()
        connection.close()
        deadline = time.monotonic() + args.seconds
        plan = ([("merge", soak.merge_or_decide)] * args.mergers
                + [("api ingest", soak.api_ingest)] * args.ingesters
                + [("file import", soak.file_import)] * args.importers
                + [("batch run", soak.batch_run)] * args.batch_runners)
        threads = [threading.Thread(target=soak.worker, args=(name, step, i, deadline), daemon=True)
                   for i, (name, step) in enumerate(plan)]
        t0 = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + CLIENT_TIMEOUT + 30)
        elapsed = time.monotonic() - t0
        stuck = sum(thread.is_alive() for thread in threads)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    time.sleep(1)  # closed connections' statistics reach pg_stat_database
    deadlocks = deadlocks_now() - deadlocks_before
    logged = server_log.read_text(errors="replace").count("deadlock detected")
    operations = {name: soak.stats[name].figures(elapsed) for name in OPERATIONS
                  if name in soak.stats}
    violations = invariant_violations(soak.writes, soak.runs)
    from rcu.models import SourceRecord

    result = {
        "seconds": round(elapsed, 1), "persons": args.persons,
        "records": SourceRecord.objects.count(), "seed_seconds": round(seeded, 1),
        "threads": {"merge": args.mergers, "api ingest": args.ingesters,
                    "file import": args.importers, "batch run": args.batch_runners},
        "batch_runs": batch_runs_summary(soak.runs),
        "hot_candidates": len(hot), "target_records": sum(len(v) for v in targets.values()),
        "operations": operations,
        "server_errors": sum(o["server_errors"] for o in operations.values()),
        "deadlocks": max(deadlocks, logged), "stuck_clients": stuck,
        "updates_sent": len(soak.writes), "updates_succeeded": sum(w.ok for w in soak.writes),
        "invariants": violations, "invariant_violations": sum(violations.values()),
    }
    (WORK / "soak.json").write_text(json.dumps(result, indent=1) + "\n")
    (WORK / "soak.md").write_text(results_table(result) + "\n")
    print(json.dumps(result), flush=True)
    return result


def batch_runs_summary(runs: list[int]) -> dict:
    """The batch runs the administrator asked for: how many, full or pending, and how
    long they took from creation to the end of their apply (waits for runs included)."""
    from rcu.models import MatchRun

    rows = list(MatchRun.objects.filter(pk__in=runs).values_list(
        "full", "status", "created_at", "finished_at"))
    seconds = [(f - c).total_seconds() for _, status, c, f in rows
               if status == MatchRun.Status.SUCCEEDED and f is not None]
    return {"asked": len(runs), "distinct": len(rows), "full": sum(f for f, *_ in rows),
            "succeeded": len(seconds), "p95_s": _round(percentile(seconds, 0.95))}


def results_table(result: dict) -> str:
    """The Markdown report `bench.run` prints and writes."""
    if "error" in result:
        return f"soak bench failed: {result['error']}\n{result.get('stderr_tail', '')}"
    verdict = "met" if not (result["server_errors"] or result["deadlocks"]
                            or result["invariant_violations"]) else "NOT met"
    lines = [
        "### Soak: concurrent merges, imports, API ingests and batch runs (PostgreSQL, HTTP "
        "on loopback)",
        "",
        f"{result['seconds']} s on a demo base of {result['records']:,} records "
        f"({result['persons']:,} persons); threads: " + ", ".join(
            f"{n} x {name}" for name, n in result["threads"].items()) + f"; "
        f"{result['hot_candidates']} open candidates decided and the "
        f"{result['target_records']} records of their customers updated.",
        "",
        "| operation | requests | per s | ok | refused (4xx) | server errors | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, o in result["operations"].items():
        lines.append(
            f"| {name} | {o['requests']} | {o['per_second']} | {o['ok']} | {_refused(o)} "
            f"| {o['server_errors']} | {_cell(o['p50_ms'])} | {_cell(o['p95_ms'])} |"
        )
    lines += [
        "",
        f"Server errors: **{result['server_errors']}**; deadlocks: **{result['deadlocks']}**; "
        f"invariant violations: **{result['invariant_violations']}** "
        f"(target 0, 0, 0: {verdict}). Source updates: {result['updates_succeeded']} of "
        f"{result['updates_sent']} succeeded, each checked against the record's history.",
    ]
    runs = result.get("batch_runs")
    if runs and runs.get("asked"):
        lines.append(
            f"Batch runs asked for: {runs['asked']} ({runs['distinct']} runs, a request made "
            f"while one waited joins it; {runs['full']} full), {runs['succeeded']} succeeded; "
            f"from asked to applied p95 {_cell(runs['p95_s'])} s."
        )
    machine = result.get("machine")
    if machine and "foreign_cores_busy" in machine:
        lines.append(f"Other work on the machine meanwhile: {machine['foreign_cores_busy']} "
                     f"cores busy (of {os.cpu_count()}); latencies include waiting for them.")
    broken = {k: v for k, v in result["invariants"].items() if v}
    if broken:
        lines.append("Violations: " + ", ".join(f"{k}: {v}" for k, v in broken.items()) + ".")
    errors = [e for o in result["operations"].values() for e in o.get("first_errors", [])]
    if errors:
        lines += ["", "First errors:", *[f"- `{e[:200]}`" for e in errors[:6]]]
    return "\n".join(lines)


def _refused(operation: dict) -> str:
    by_status = operation.get("refused_by_status") or {}
    if not by_status:
        return str(operation["refused"])
    return f"{operation['refused']} (" + ", ".join(
        f"{status}: {count}" for status, count in by_status.items()) + ")"


def _cell(value) -> str:
    return "" if value is None else str(value)


if __name__ == "__main__":
    main()
