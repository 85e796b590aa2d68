"""The customer_view service."""
