"""The touchpoint service."""
