"""Postgres adapters of the profile service."""
