"""The API answers every request generated from its own schema as the schema says.

Schemathesis reads the OpenAPI schema the API serves, generates requests for every
operation (path and query parameters, bodies), sends them to the Django WSGI
application in-process, and checks each answer: never a server error, a status code
the operation documents, a body that matches the documented schema (the error shape
for every 4xx). It runs as an administrator and as a steward, each authenticated with
an RCU API token, over a small base with customers, records and open candidates so that
some generated ids exist. Bounded: a fixed number of examples per operation, derandomised,
so a run is the same on every machine.

Nothing is excluded: the writes (merge, reject, unmerge, ingest, import, delete at source,
token revocation) run against the test's own small base, which the test's transaction
throws away. The one request left out is revoking the token the run authenticates with.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rcu.services.imports import import_job_create
from rcu.services.tokens import api_token_create
from tests.factories import PLAIN_FIELDS, TEST_ACTOR
from tests.stewardship.api_world import build_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# 23 operations, 10 each, 2 personas: about 460 requests, some 20 s on SQLite. A longer
# hunt by hand: RCU_CONFORMANCE_EXAMPLES=200.
EXAMPLES_PER_OPERATION = int(os.environ.get("RCU_CONFORMANCE_EXAMPLES", "10"))


@dataclass
class Findings:
    operations: int = 0
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    # Answers by class (2 for 2xx…): a run that only met 404s would prove little.
    statuses: Counter[int] = field(default_factory=Counter)
    # The operations answered 2xx at least once: the run reached their real handlers.
    answered: set[str] = field(default_factory=set)


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, inside the test's transaction.

    Django closes the database connection at the end of each request when it is not
    in autocommit; inside a test's transaction that would end the test, so the two
    signal handlers are off while the generated requests run (Django's own test
    client does the same).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@dataclass(frozen=True)
class Run:
    """What the generated requests are sent with, and the ids that exist."""

    headers: dict[str, str]
    # Path parameter values that name existing objects, by path prefix and name: half
    # the cases of a detail route use one of them, the other half random values.
    known: dict[tuple[str, str], list]
    # The token the run authenticates with: revoking it would leave only 401s to test.
    own_token_id: int

    def path_parameter_sets(self, path: str) -> list[dict]:
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        choices = [
            next((values for (prefix, name), values in self.known.items()
                  if name == wanted and path.startswith(prefix)), [])
            for wanted in names
        ]
        if not names or not all(choices):
            return []
        return [dict(zip(names, combo, strict=True)) for combo in zip(*choices, strict=False)]


def case_strategy(operation, run: Run):
    # Valid requests, and requests that break the schema on purpose (which must be
    # refused in the documented shape, never answered with a server error).
    generated = st.one_of(
        operation.as_strategy(), operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    )
    known = [operation.as_strategy(path_parameters=values)
             for values in run.path_parameter_sets(operation.path)]
    return st.one_of(generated, *known) if known else generated


def check_operation(operation, *, run: Run, findings: Findings) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=case_strategy(operation, run))
    def check(case):
        assume(not (operation.path == "/api/v1/tokens/{id}/"
                    and case.path_parameters.get("id") == run.own_token_id))
        findings.calls += 1
        response = case.call_and_validate(headers=run.headers, checks=CHECKS)
        findings.statuses[response.status_code // 100] += 1
        if response.status_code // 100 == 2:
            findings.answered.add(f"{operation.method.upper()} {operation.path}")

    try:
        check()
    # Every operation's failures are reported, not only the first one's (schemathesis
    # raises a group of distinct failures, a BaseExceptionGroup).
    except (Exception, BaseExceptionGroup) as exc:
        findings.failures.append(f"{operation.method.upper()} {operation.path}: {exc}")


def small_base(*, sources, admin_user, tmp_path) -> dict[tuple[str, str], list]:
    """Customers, records and open candidates (two departments), a finished import job,
    a spare API token: the ids a detail route can be asked about."""
    world = build_world(sources)
    path = tmp_path / "crm.csv"
    path.write_text(
        ",".join(["id", *PLAIN_FIELDS]) + "\nCRM-7,M.,Paul,Durand,,p@durand.fr,,,,,75001,Paris,FR\n",
        encoding="utf-8",
    )
    job, _ = import_job_create(source=sources["crm"], path=path, acting_user=TEST_ACTOR)
    spare = api_token_create(user=admin_user, acting_user=admin_user, name="spare")
    records = list(world.records.values())
    return {
        ("/api/v1/candidates/", "id"): [c.pk for c in world.candidates.values()],
        ("/api/v1/customers/", "public_id"): [str(r.customer.public_id) for r in records],
        ("/api/v1/records/", "id"): [r.pk for r in records],
        ("/api/v1/imports/", "id"): [job.pk],
        ("/api/v1/tokens/", "id"): [spare.token.pk],
        ("/api/v1/sources/", "code"): [r.source.code for r in records],
        ("/api/v1/sources/", "external_id"): [r.external_id for r in records],
    }


# What each persona's run must reach (a 2xx at least once): a steward may use the
# customers, records and the department's queue, and little else (GDPR, tokens of
# others, administration answer 403, which is documented too).
MUST_ANSWER = {
    "steward_marketing": {"GET /api/v1/customers/", "GET /api/v1/customers/{public_id}/",
                          "GET /api/v1/candidates/", "GET /api/v1/records/{id}/"},
    "admin_user": {"GET /api/v1/customers/", "GET /api/v1/sources/", "GET /api/v1/imports/",
                   "GET /api/v1/imports/{id}/", "GET /api/v1/tokens/", "GET /api/v1/attributes/"},
}


@pytest.mark.parametrize("persona", ["admin_user", "steward_marketing"])
def test_every_generated_request_is_answered_as_documented(
    request, persona, admin_user, sources, wsgi_app, api_schema, tmp_path
):
    known = small_base(sources=sources, admin_user=admin_user, tmp_path=tmp_path)
    user = request.getfixturevalue(persona)
    token = api_token_create(user=user, acting_user=admin_user, name="conformance")
    run = Run(
        headers={"Authorization": f"Token {token.key}", "Accept-Language": "en"},
        known=known,
        own_token_id=token.token.pk,
    )
    schema = schemathesis.openapi.from_dict(api_schema)
    schema.app = wsgi_app
    findings = Findings()

    for result in schema.get_all_operations():
        findings.operations += 1
        check_operation(result.ok(), run=run, findings=findings)

    assert not findings.failures, "\n\n".join(findings.failures)
    assert findings.operations >= 20
    assert findings.calls >= findings.operations * 5, "the run sent too few requests to count"
    assert MUST_ANSWER[persona] <= findings.answered, MUST_ANSWER[persona] - findings.answered
    # And a good share of the operations in all: a run that met only refusals proves little.
    assert len(findings.answered) >= findings.operations // 5, (len(findings.answered), findings.statuses)
