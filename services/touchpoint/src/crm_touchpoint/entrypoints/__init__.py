"""HTTP entrypoints of the touchpoint service."""
