"""HTTP entrypoints of the profile service."""
