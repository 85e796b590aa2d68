"""The service kit: what every CRM service is made of, the same way.

``create_app`` builds a service's FastAPI app (lifespan-made engine, producer and
API-key store; workers; problem documents for every error; trace, access log and
metrics middleware; ``/healthz``, ``/readyz``, ``/metrics``); ``serve`` runs it.
"""

from crm_servicekit.app import ServiceApp, create_app
from crm_servicekit.context import ServiceContext, get_context
from crm_servicekit.logging import JsonFormatter, configure_logging
from crm_servicekit.openapi import ProblemDocument, problem_responses
from crm_servicekit.problems import PROBLEM_MEDIA_TYPE, Problem, ProblemResponse
from crm_servicekit.readiness import NotReadyError, ReadinessCheck
from crm_servicekit.runner import serve
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.workers import Worker

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "JsonFormatter",
    "NotReadyError",
    "Problem",
    "ProblemDocument",
    "ProblemResponse",
    "ReadinessCheck",
    "ServiceApp",
    "ServiceContext",
    "ServiceSettings",
    "Worker",
    "configure_logging",
    "create_app",
    "get_context",
    "problem_responses",
    "serve",
]
