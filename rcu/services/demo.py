"""The demo base: the four example sources, a generated French customer base, one user per role."""

from __future__ import annotations

import json
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from rcu import hooks
from rcu.demo import DatasetSpec, generate_dataset, source_config_paths
from rcu.models import ImportJob, SourceRecord
from rcu.roles import Role
from rcu.services.changes import SystemActor
from rcu.services.imports import import_job_create, import_job_run
from rcu.services.matching.batch import match_run_create
from rcu.services.roles import roles_sync
from rcu.services.sources import department_get_or_create, source_configure

DEMO_PASSWORD = "rcu-demo"
# The demo admin and DPO sign in with two factors, as their roles require: this secret
# is their authenticator app's (base32), printed by seed_demo. A demo, never production.
DEMO_TOTP_KEY = b"rcu-demo-totp-secret"
DEMO_TOTP_SECRET = b32encode(DEMO_TOTP_KEY).decode()
DEMO_TOTP_USERS = ("admin", "dpo")

# username → (roles, departments, staff)
DEMO_USERS: dict[str, tuple[tuple[Role, ...], tuple[str, ...], bool]] = {
    "admin": ((Role.ADMIN,), (), True),
    "dpo": ((Role.DPO,), (), False),
    "auditeur": ((Role.AUDITOR,), (), False),
    "steward.marketing": ((Role.STEWARD,), ("marketing",), False),
    "steward.service-client": ((Role.STEWARD,), ("service-client",), False),
    "steward.ecommerce": ((Role.STEWARD,), ("ecommerce",), False),
    "steward.magasins": ((Role.STEWARD,), ("magasins",), False),
}


DEMO_SEED = SystemActor(job="demo seed")


@dataclass
class DemoSeedResult:
    seeded: bool
    jobs: list[ImportJob]
    usernames: list[str]


@transaction.atomic
def demo_users_ensure() -> list[str]:
    """Create (or reset) one demo user per role, with the demo password."""
    roles_sync()
    User = get_user_model()
    for username, (roles, departments, staff) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = staff
        user.set_password(DEMO_PASSWORD)
        user.save()
        groups = [Group.objects.get(name=role.value) for role in roles]
        groups += [department_get_or_create(code=code, acting_user=DEMO_SEED).group
                   for code in departments]
        user.groups.set(groups)
        if username in DEMO_TOTP_USERS:
            _demo_totp_device_ensure(user)
    return list(DEMO_USERS)


def _demo_totp_device_ensure(user) -> TOTPDevice:
    """One confirmed device holding the documented demo secret, reset on every run."""
    TOTPDevice.objects.filter(user=user).exclude(name="Demo authenticator").delete()
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="Demo authenticator")
    device.key = DEMO_TOTP_KEY.hex()
    device.confirmed = True
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.last_t = -1
    device.save()
    return device


def demo_seed(
    *, persons: int, seed: int, data_dir: Path, force: bool = False,
    progress: Callable[[ImportJob], None] | None = None,
) -> DemoSeedResult:
    """Declare the example sources, generate the base and import it like any file.

    Does nothing but refresh the users when the base already holds records,
    unless `force`: re-importing is an upsert, so a forced run creates no duplicates.
    """
    usernames = demo_users_ensure()
    if SourceRecord.objects.exists() and not force:
        return DemoSeedResult(seeded=False, jobs=[], usernames=usernames)
    admin = get_user_model().objects.get(username="admin")
    sources = {}
    for path in source_config_paths():
        source, _ = source_configure(data=json.loads(path.read_text(encoding="utf-8")), acting_user=admin)
        sources[source.code] = source
    summary = generate_dataset(DatasetSpec(persons=persons, seed=seed), data_dir)
    jobs = []
    for code, path in summary.paths.items():
        if code not in sources:
            continue
        job, _ = import_job_create(source=sources[code], acting_user=admin, path=Path(path))
        jobs.append(
            import_job_run(job=job, progress=progress, match_after=False)
        )
    # One matching run over the whole base once every source is in: it learns its
    # model from all of them, links the duplicates and fills the stewards' queues.
    match_run_create(full=True, acting_user=admin)
    # The other apps' demo data (the GDPR register, kept by the DPO).
    hooks.demo_seeded(acting_user=get_user_model().objects.get(username="dpo"))
    return DemoSeedResult(seeded=True, jobs=jobs, usernames=usernames)
