"""Matching against the database: keys, scoring, clustering, applying, batch runs.

The engine itself (`rcu.engine`) is pure; these services feed it rows and write
its decisions. Entry points: `records_match` (real time, after an ingest),
`match_search` (search before create), `match_run_start` (batch).
"""
