"""The admin console's settings: the password from the environment or a file (first line),
not both, and a file that cannot give one refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from cognate.config import ConfigError, Settings


def test_off_by_default() -> None:
    assert Settings.from_env({}).admin_secret() == ""


def test_password_from_the_environment() -> None:
    settings = Settings.from_env({"COGNATE_ADMIN_PASSWORD": "from env"})
    assert settings.admin_secret() == "from env"


def test_password_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "admin"
    path.write_text("  from-file \nignored second line\n")
    settings = Settings.from_env({"COGNATE_ADMIN_PASSWORD_FILE": str(path)})
    assert settings.admin_secret() == "from-file"


def test_refusals(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n\n")
    with pytest.raises(ConfigError, match="is empty"):
        Settings.from_env({"COGNATE_ADMIN_PASSWORD_FILE": str(empty)})
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env({"COGNATE_ADMIN_PASSWORD_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env(
            {"COGNATE_ADMIN_PASSWORD": "x", "COGNATE_ADMIN_PASSWORD_FILE": str(empty)}
        )
