"""The pure domain of the profile service: identity resolution and the profile aggregate.

No I/O here: no web framework, no database, no broker.
"""
