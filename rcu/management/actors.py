"""Who a command acts as: the user named by `--user`, or RCU itself."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from rcu.services.changes import Actor, SystemActor


def command_actor(command: str, username: str | None = None) -> Actor:
    """`--user NAME` makes the changes that user's; without it they are RCU's own,
    named after the command in history."""
    if not username:
        return SystemActor(job=f"{command} command")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"unknown user {username!r}")
    return user
