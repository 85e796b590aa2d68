"""Application layer of the profile service."""
