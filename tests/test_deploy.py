"""The Dockerfile and docker-compose.yml agree with the code: commands, settings, port, health.

No Docker engine runs where these tests run, so the files are read, not built: every command
they run is a real CLI command, every variable they set is a real setting, and the port and
health check are the ones `crossbot serve` uses.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from bot.cli import app
from bot.settings import Settings
from tests.conftest import REPO
from tests.test_docs import cli_commands, setting_names

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
CROSSBOT_SERVICES = ["migrate", "crossbot"]
DEFAULT_PORT = Settings(_env_file=None).port  # type: ignore[call-arg]


def instructions(name: str) -> list[str]:
    """The arguments of every Dockerfile instruction `name` (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def crossbot_invocations(command: Any) -> list[str]:
    """Each `crossbot ...` command line in a compose command or a Dockerfile CMD."""
    words = command if isinstance(command, list) else shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        return [part.strip() for part in words[2].split("&&")]
    return [" ".join(words)]


def env_names(service: dict[str, Any]) -> list[str]:
    return [entry.split("=", 1)[0] for entry in service["environment"]]


def env_value(service: dict[str, Any], name: str) -> str | None:
    for entry in service["environment"]:
        key, _, value = entry.partition("=")
        if key == name:
            return value
    return None


def assert_real_command(line: str) -> None:
    known = cli_commands(app)
    assert line.startswith("crossbot ")
    assert any(line == name or line.startswith(name + " ") for name in known), line


@pytest.mark.parametrize("name", CROSSBOT_SERVICES)
def test_compose_runs_real_commands(name: str):
    for line in crossbot_invocations(COMPOSE["services"][name]["command"]):
        assert_real_command(line)


def test_compose_migrates_before_any_replica_serves():
    assert "crossbot db upgrade" in crossbot_invocations(COMPOSE["services"]["migrate"]["command"])
    waits_for = COMPOSE["services"]["crossbot"]["depends_on"]["migrate"]["condition"]
    assert waits_for == "service_completed_successfully"
    assert COMPOSE["services"]["migrate"]["depends_on"]["postgres"]["condition"] == (
        "service_healthy"
    )


@pytest.mark.parametrize("name", CROSSBOT_SERVICES)
def test_compose_sets_only_real_settings(name: str):
    service = COMPOSE["services"][name]
    unknown = set(env_names(service)) - set(setting_names())
    assert unknown == set()
    assert (env_value(service, "CROSSBOT_DATABASE_URL") or "").startswith("postgresql+psycopg")


def test_the_content_folder_is_the_volume_the_settings_point_at():
    service = COMPOSE["services"]["crossbot"]
    targets = [volume.rsplit(":", 2)[-2] for volume in service["volumes"]]  # SRC:TARGET:ro
    assert env_value(service, "CROSSBOT_CONTENT_DIR") in targets
    assert "CROSSBOT_CONTENT_DIR=/content" in instructions("ENV")[0].split()


def test_one_port_everywhere():
    service = COMPOSE["services"]["crossbot"]
    assert int(env_value(service, "CROSSBOT_PORT") or 0) == DEFAULT_PORT
    assert [int(p.rsplit(":", 1)[1]) for p in service["ports"]] == [DEFAULT_PORT]
    assert instructions("EXPOSE") == [str(DEFAULT_PORT)]
    assert f"127.0.0.1:{DEFAULT_PORT}/healthz" in " ".join(service["healthcheck"]["test"])


def test_the_image_serves_as_a_non_root_user_with_a_health_check():
    assert instructions("USER") and instructions("USER")[-1] not in ("root", "0")
    [health] = instructions("HEALTHCHECK")
    assert "/healthz" in health and "CROSSBOT_PORT" in health
    [cmd] = instructions("CMD")
    for line in crossbot_invocations(yaml.safe_load(cmd)):
        assert_real_command(line)
    env = instructions("ENV")[0].split()
    settings = {entry.split("=", 1)[0] for entry in env if "=" in entry}
    assert {name for name in settings if name.startswith("CROSSBOT_")} <= set(setting_names())


def test_postgres_is_healthy_before_migrations():
    postgres = COMPOSE["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    user = postgres["environment"]["POSTGRES_USER"]
    url = env_value(COMPOSE["services"]["crossbot"], "CROSSBOT_DATABASE_URL") or ""
    assert url.startswith(f"postgresql+psycopg://{user}:") and "@postgres:5432/" in url
