"""docker-compose.yml, checked without a Docker engine: the schema, the settings, the shape.

The compose-topology test (test_compose_topology.py) runs the same file for real.
"""

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from crm_devstack.compose_local import ComposeProject, ComposeService, load_compose, read_env_file
from crm_servicekit import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
SERVICE_PACKAGES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())
_MODULE = re.compile(r"^crm_(?P<service>\w+)$")


def settings_type(service: ComposeService) -> type[ServiceSettings] | None:
    """The settings class of the service this container runs (``python -m crm_<svc> ...``)."""
    command = list(service.command)
    if command[:2] != ["python", "-m"] or not (match := _MODULE.match(command[2])):
        return None
    bootstrap = importlib.import_module(f"crm_{match['service']}.bootstrap")
    settings: type[ServiceSettings] = bootstrap.SERVICE.settings_type
    return settings


def setting_names(settings: type[ServiceSettings]) -> set[str]:
    """The environment variables ``settings`` reads (no prefix: field names upper-cased)."""
    return {name.upper() for name in settings.model_fields}


def service_containers(compose: ComposeProject) -> list[ComposeService]:
    return [s for s in compose.services.values() if s.built and s.name != "topics"]


def test_docker_compose_yml_is_valid_against_the_compose_specification() -> None:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed: it ships the compose-spec schema "
                    "(builtin vendor.compose-spec); add it to the dev dependency group")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(COMPOSE_FILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_package_has_a_container_and_a_migrations_job(
    compose: ComposeProject,
) -> None:
    for package in SERVICE_PACKAGES:
        assert package in compose.services, f"no compose service for services/{package}"
        assert compose.services[package].command[-1] == "serve"
        assert compose.services[f"migrate-{package}"].command[-1] == "migrate"


def test_every_container_environment_names_only_settings_its_service_reads(
    compose: ComposeProject,
) -> None:
    checked = 0
    for service in service_containers(compose):
        settings = settings_type(service)
        assert settings is not None, f"{service.name} runs no crm_<service> command"
        names = set(service.environment) | env_file_names(service)
        unknown = names - setting_names(settings)
        assert not unknown, f"{service.name} sets {sorted(unknown)}, which it never reads"
        checked += 1
    assert checked == 2 * len(SERVICE_PACKAGES), "every service and migrations job is checked"


def env_file_names(service: ComposeService) -> set[str]:
    return {name for path in service.env_files
            for name in read_env_file(ROOT / path)}


def test_every_setting_of_every_service_is_documented_in_the_env_example(
    compose: ComposeProject,
) -> None:
    documented = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", ENV_EXAMPLE.read_text()))
    for service in service_containers(compose):
        if settings := settings_type(service):
            missing = setting_names(settings) - documented
            assert not missing, f"{service.name}: {sorted(missing)} not in deploy/.env.example"


# Values that describe this deployment rather than tune a service: not code defaults.
ADDRESSES = {"KAFKA_BOOTSTRAP_SERVERS"}


def test_the_env_example_states_the_defaults_the_services_really_have(
    compose: ComposeProject,
) -> None:
    example = {k: v for k, v in read_env_file(ENV_EXAMPLE).items() if k not in ADDRESSES}
    for service in service_containers(compose):
        settings = settings_type(service)
        if settings is None:
            continue
        for name, field in settings.model_fields.items():
            if name.upper() in example and not field.is_required():
                value = TypeAdapter(field.annotation).validate_python(example[name.upper()])
                assert value == field.default, f"{service.name}: {name.upper()}"


def test_the_compose_file_defaults_are_the_env_example_values() -> None:
    """An operator who only sets the passwords gets what deploy/.env.example documents."""
    passwords = {k: "pw" for k in read_env_file(ENV_EXAMPLE) if k.endswith("_PASSWORD")}
    bare = load_compose(COMPOSE_FILE, passwords)
    documented = load_compose(COMPOSE_FILE, read_env_file(ENV_EXAMPLE) | passwords)
    for name, service in documented.services.items():
        assert bare.services[name] == service, name


def test_every_variable_is_documented_and_every_documented_variable_is_used() -> None:
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    example = set(read_env_file(ENV_EXAMPLE))
    assert used - example == set(), "used in docker-compose.yml, missing from .env.example"
    assert example - used == set(), "documented in .env.example, unused by docker-compose.yml"


def test_no_secret_has_a_default_in_the_compose_file() -> None:
    text = COMPOSE_FILE.read_text()
    for name in re.findall(r"\$\{(\w*PASSWORD\w*)", text):
        assert re.search(rf"\$\{{{name}:\?", text), f"{name} must be required, not defaulted"
        assert not re.search(rf"\$\{{{name}:?-", text), f"{name} has a default"
    assert not [v for v in read_env_file(ENV_EXAMPLE).items()
                if v[0].endswith("_PASSWORD") and v[1]], "the example holds no password"


def raw_services() -> dict[str, Any]:
    import yaml

    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def test_nothing_assumes_one_instance_of_a_service(compose: ComposeProject) -> None:
    """``--scale customer_view=3`` works: no fixed names, no fixed host ports by default."""
    spec = raw_services()
    for package in SERVICE_PACKAGES:
        assert "container_name" not in spec[package]
        for port in spec[package].get("ports", []):
            published = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(port))
            assert ":" not in published, f"{package} pins host port {published} by default"


def test_services_start_after_healthy_infrastructure_their_migrations_and_the_topics(
    compose: ComposeProject,
) -> None:
    for package in SERVICE_PACKAGES:
        assert compose.services[package].depends_on == {
            "postgres": "service_healthy", "kafka": "service_healthy",
            "topics": "service_completed_successfully",
            f"migrate-{package}": "service_completed_successfully",
        }
        assert compose.services[f"migrate-{package}"].depends_on == {
            "postgres": "service_healthy"}
    assert compose.jobs() == {"topics", *(f"migrate-{p}" for p in SERVICE_PACKAGES)}


def test_each_service_has_its_own_database_role_and_schema(compose: ComposeProject) -> None:
    for package in SERVICE_PACKAGES:
        env = compose.services[package].environment
        assert re.fullmatch(rf"postgresql://{package}:[^@]+@postgres:5432/{package}",
                            env["DATABASE_URL"])
        assert env["DB_SCHEMA"] == package
        assert compose.services[f"migrate-{package}"].environment == env


def test_restart_policies_memory_limits_and_volumes() -> None:
    spec = raw_services()
    for name, service in spec.items():
        is_job = name == "topics" or name.startswith("migrate-")
        assert service["restart"] == ("no" if is_job else "unless-stopped"), name
        assert service["deploy"]["resources"]["limits"]["memory"], name
    volumes = {v.split(":")[0] for s in spec.values() for v in s.get("volumes", [])}
    assert {"pgdata", "kafka-1-data"} <= volumes


def test_the_ha_profile_runs_three_brokers_in_one_quorum_and_replicates_three_times() -> None:
    ha = load_compose(COMPOSE_FILE, read_env_file(ENV_EXAMPLE) | read_env_file(
        ROOT / "deploy" / "ha.env"))
    brokers = [s for s in ha.active(["ha"]) if (s.image or "").startswith("apache/kafka")]
    assert len(brokers) == 3
    voters = {f"{s.environment['KAFKA_NODE_ID']}@{s.name}:9093" for s in brokers}
    for broker in brokers:
        assert set(broker.environment["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert broker.environment["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    topics = ha.services["topics"].command
    assert topics[topics.index("--replication-factor") + 1] == "3"
    assert len(ha.services["touchpoint"].environment["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == 3
    default = [s for s in ha.active() if (s.image or "").startswith("apache/kafka")]
    assert [s.name for s in default] == ["kafka"]


def test_the_dockerfile_reads_every_workspace_member_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    members = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/*/pyproject.toml")
                     if p.parts[-3] in ("libs", "services"))
    for manifest in members:
        assert f"COPY {manifest} " in dockerfile, f"the Dockerfile misses {manifest}"
    assert "uv sync --frozen --no-dev" in dockerfile
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert "COPY --from=uv" not in runtime and "apt-get" not in runtime
    assert re.search(r"^USER crm", runtime, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", runtime, re.MULTILINE)
