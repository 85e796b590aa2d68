"""HTTP entrypoints of the customer view."""
