"""Application layer of the touchpoint service: ingestion and lookup."""
