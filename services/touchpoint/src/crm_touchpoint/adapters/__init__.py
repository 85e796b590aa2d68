"""Postgres adapters of the touchpoint service."""
