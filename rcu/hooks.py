"""The one explicit hook through which other apps react to the core.

`rcu` imports neither `stewardship` nor `gdpr`. When the core does something other
apps must know about, it calls a function here; apps register their receivers in
their `AppConfig.ready()`. Receivers run synchronously, in the caller's transaction,
in registration order: no hidden signal chains.

Hooks:
- ``personal_data_read(user, customers, purpose)``: a person read customers'
  personal data (a customer page, an API read, an export). The GDPR access log listens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

_receivers: dict[str, list[Callable[..., Any]]] = {"personal_data_read": []}


def register(hook: str, receiver: Callable[..., Any]) -> None:
    if hook not in _receivers:
        raise KeyError(f"unknown hook {hook!r}; known: {sorted(_receivers)}")
    if receiver not in _receivers[hook]:
        _receivers[hook].append(receiver)


def personal_data_read(*, user: Any, customers: Iterable[Any], purpose: str) -> None:
    customers = list(customers)
    if not customers or user is None or not getattr(user, "is_authenticated", False):
        return
    for receiver in _receivers["personal_data_read"]:
        receiver(user=user, customers=customers, purpose=purpose)
