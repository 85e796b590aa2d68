"""Postgres adapters of the customer view."""
