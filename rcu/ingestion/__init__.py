"""Ingestion: reading source files, applying field mappings, upserting records.

Pure modules (`readers`, `formats`, `mapping`, `config`) know nothing of the ORM;
the writes go through `rcu.services.ingestion` and `rcu.services.imports`.
"""
