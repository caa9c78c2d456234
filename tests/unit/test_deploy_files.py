"""The Dockerfile and the systemd unit example stay true to the code.

Neither can run here (no Docker daemon, no systemd), so this checks what they rely on:
the files the Dockerfile copies exist, its ENV values are settings Cognate accepts, its
command and the unit's commands parse as `cognate` command lines, and the health check's
URL is one a live server answers.
"""

from __future__ import annotations

import json
import re
import shlex
import urllib.request
from pathlib import Path

from cognate import cli
from cognate.config import Settings
from tests.support.server import CognateServer

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
UNIT = (ROOT / "deploy" / "cognate.service").read_text()


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n\s*",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_dockerfile_copies_files_that_exist() -> None:
    copies = [args for word, args in _instructions(DOCKERFILE) if word == "COPY"]
    assert copies
    for args in copies:
        for source in args.split()[:-1]:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is missing"


def test_dockerfile_environment_is_valid_settings() -> None:
    env: dict[str, str] = {}
    for word, args in _instructions(DOCKERFILE):
        if word == "ENV":
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                env[name] = value
    assert env["COGNATE_HOST"] == "0.0.0.0"
    settings = Settings.from_env(env)
    assert settings.db == "sqlite:////data/cognate.db"
    assert str(settings.key_file()) == "/data/master.key"


def test_dockerfile_command_is_a_cognate_command_line() -> None:
    (cmd,) = [args for word, args in _instructions(DOCKERFILE) if word == "CMD"]
    argv = json.loads(cmd)
    assert argv[0] == "cognate"
    assert cli._parser().parse_args(argv[1:]).command == "serve"


def test_unit_commands_are_cognate_command_lines() -> None:
    commands = dict(
        line.split("=", 1) for line in UNIT.splitlines() if line.startswith("ExecStart")
    )
    assert set(commands) == {"ExecStartPre", "ExecStart"}
    for command in commands.values():
        argv = shlex.split(command)
        assert argv[0].endswith("/bin/cognate")
        cli._parser().parse_args(argv[1:])
    assert shlex.split(commands["ExecStartPre"])[1] == "migrate"


def test_healthcheck_url_is_answered(server: CognateServer) -> None:
    (check,) = [args for word, args in _instructions(DOCKERFILE) if word == "HEALTHCHECK"]
    match = re.search(r"http://127\.0\.0\.1:9230(/[^'\"]*)", check)
    assert match, check
    with urllib.request.urlopen(server.endpoint + match.group(1), timeout=5) as response:
        assert response.status == 200


def test_exposed_port_is_the_default() -> None:
    port = re.search(r"EXPOSE (\d+)", DOCKERFILE)
    assert port is not None
    assert Settings().port == int(port.group(1))
