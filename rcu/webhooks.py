"""Standard Webhooks 1.0 on the wire: secrets, signatures, bodies, allowed targets.

Plain functions, no database: a receiving system verifies what these produce with any
Standard Webhooks library (`standardwebhooks.Webhook(secret).verify(body, headers)`).
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """A fresh signing secret: 32 random bytes, base64, with the standard prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(
    *, message_id: str, timestamp: datetime, body: bytes, signing_secrets: Iterable[str]
) -> dict[str, str]:
    """The three headers; during a rotation, one signature per secret, space-separated."""
    signatures = [Webhook(s).sign(message_id, timestamp, body) for s in signing_secrets if s]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


def event_body(
    *, event_type: str, occurred_at: datetime, customer_id: str, version: int,
    attributes: Mapping[str, Any], extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`{"type", "timestamp", "data"}`: `data` holds the customer's public id, the event's
    version for that customer, the attributes the subscriber may see, and what the type
    adds (`retired_ids` and `survivor_id` of a merge, the subscriber's own ids)."""
    return {
        "type": event_type,
        "timestamp": occurred_at.isoformat(),
        "data": {"customer_id": customer_id, "version": version, "attributes": dict(attributes),
                 **(extra or {})},
    }


def target_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why RCU must not send to this URL, or None. Only https, and never to a private,
    loopback or link-local address (server-side request forgery), unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "the URL must be an absolute https URL"
    if allow_private:
        return None
    if parts.scheme != "https":
        return "the URL must use https"
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        return f"the host {parts.hostname} cannot be resolved"
    for address in addresses:
        # str(): typeshed types a socket address as str or int; an IPv6 one may end "%scope".
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not ip.is_global:
            return f"the host {parts.hostname} is a private or local address ({ip})"
    return None
