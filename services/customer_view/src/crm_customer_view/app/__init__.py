"""Application layer of the customer view."""
