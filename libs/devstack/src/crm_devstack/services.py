"""The services ``make run`` starts: name, module and port (ARCHITECTURE.md's table).

Data only, so the devstack never imports a service: each is run as
``python -m <module> migrate`` and ``python -m <module> serve``, the same
commands docker-compose.yml gives its containers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["SERVICES", "ServiceProcess"]


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    module: str
    port: int

    @property
    def schema(self) -> str:
        return self.name

    def shifted(self, offset: int) -> ServiceProcess:
        """The same service on ``port + offset``."""
        return replace(self, port=self.port + offset)


SERVICES: tuple[ServiceProcess, ...] = (
    ServiceProcess("touchpoint", "crm_touchpoint", 8001),
    ServiceProcess("profile", "crm_profile", 8002),
    ServiceProcess("segmentation", "crm_segmentation", 8003),
    ServiceProcess("campaign", "crm_campaign", 8004),
    ServiceProcess("customer_view", "crm_customer_view", 8005),
)
