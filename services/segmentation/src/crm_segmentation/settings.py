"""Settings of the segmentation service (environment variables, see deploy/.env.example)."""

from __future__ import annotations

from crm_servicekit import ServiceSettings

__all__ = ["SegmentationSettings"]


class SegmentationSettings(ServiceSettings):
    service_name: str = "segmentation"
    http_port: int = 8003
