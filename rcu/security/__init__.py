"""Account security: sign-in lockout address, session limits, two-factor sign-in.

The API's own pieces (tokens, throttling) live in `rcu.apis`; the services that
write security objects in `rcu.services.tokens` and `rcu.services.two_factor`.
"""
