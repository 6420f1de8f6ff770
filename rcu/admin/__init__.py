"""Django admin for the core domain: one module per area, registered on import."""

from rcu.admin import core, matching  # noqa: F401
