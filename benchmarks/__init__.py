"""Benchmarks: ``make bench`` runs them all against a fresh embedded stack."""
