from pathlib import Path

import pytest

from crm_devstack.compose_local import ComposeProject, load_compose, read_env_file

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
HA_ENV = ROOT / "deploy" / "ha.env"


@pytest.fixture(scope="session")
def compose() -> ComposeProject:
    """docker-compose.yml as an operator's .env copied from deploy/.env.example makes it."""
    return load_compose(COMPOSE_FILE, read_env_file(ENV_EXAMPLE))


