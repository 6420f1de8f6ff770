"""The REST API (DRF): thin views over the selectors and services of `rcu`."""
