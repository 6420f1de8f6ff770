"""Merge candidates, decisions and queues live here (matching and review build on it)."""
