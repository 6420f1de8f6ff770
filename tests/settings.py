"""The settings tests run with: the product's own, plus what keeps the suite fast.

Personas log in by password in many tests; the production hasher is slow on purpose.
"""

from rcu.settings import *  # noqa: F403  (every product setting, unchanged)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The fault and delivery tests receive webhooks on 127.0.0.1.
RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
