"""``assistant skills new``: the names it derives, what it refuses, and a generated package
that installs, lints clean and passes its own tests as written."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import assistant
from assistant.cli.main import main
from assistant.cli.skills_new import skill_names, write_skill_package
from assistant.errors import AssistantError

_PROJECT = Path(assistant.__file__).resolve().parents[1]
_PLUGIN = "assistant.testing.plugin"


def _generate(tmp_path: Path, name: str = "demo") -> Path:
    directory = tmp_path / name
    assert main(["skills", "new", name, "--dir", str(directory)]) == 0
    return directory


def _run(command: list[str], cwd: Path, **environment: str) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **environment}, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def test_a_dashed_name_becomes_the_skill_module_and_distribution_names() -> None:
    names = skill_names("shop-lights")
    assert (names.skill, names.module, names.dist, names.spoken, names.class_prefix) == (
        "shop_lights", "shop_lights_skill", "shop-lights-skill", "shop lights", "ShopLights")


@pytest.mark.parametrize("name", ["Shop Lights", "2lights", "class", "lights!", "", "a-"])
def test_a_name_that_is_no_python_identifier_is_refused_with_what_is_allowed(
        name: str) -> None:
    with pytest.raises(AssistantError) as raised:
        skill_names(name)
    assert raised.value.code == "skill-name-invalid"
    assert "lower-case letters" in raised.value.message


def test_a_directory_with_files_in_it_is_not_written_over(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(AssistantError) as raised:
        write_skill_package(skill_names("demo"), tmp_path)
    assert raised.value.code == "skill-dir-not-empty"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_the_name_of_an_installed_skill_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["skills", "new", "vehicle", "--dir", str(tmp_path / "vehicle")]) == 2
    assert "already installed" in capsys.readouterr().err
    assert not (tmp_path / "vehicle").exists()


def test_the_package_has_its_entry_point_settings_templates_and_tests(tmp_path: Path) -> None:
    directory = _generate(tmp_path, "shop-lights")
    pyproject = (directory / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "shop-lights-skill"' in pyproject
    assert 'shop_lights = "shop_lights_skill:skill"' in pyproject
    package = directory / "src" / "shop_lights_skill"
    assert "settings=ShopLightsSettings" in (package / "__init__.py").read_text(encoding="utf-8")
    assert {p.name for p in package.iterdir()} >= {"templates.yaml", "py.typed", "backend.py"}
    assert (directory / "tests" / "sentences.yaml").is_file()
    assert (directory / "tests" / "test_shop_lights.py").is_file()


def test_the_generated_package_is_lint_clean(tmp_path: Path) -> None:
    directory = _generate(tmp_path)
    _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], directory)


def test_the_generated_package_installs_type_checks_and_passes_its_own_tests(
        tmp_path: Path) -> None:
    directory = _generate(tmp_path)
    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
          "--no-build-isolation", "--target", str(target), "."], directory)
    # The assistant as its source (mypy does not follow an editable install), its own
    # modules not checked again under the new package's settings.
    _run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
          "--cache-dir", str(tmp_path / "mypy"), "src", "tests"], directory,
         MYPYPATH=str(_PROJECT))
    # The harness is on when installed (pytest11 entry point); loading it twice would fail.
    registered = any(point.value == _PLUGIN for point in entry_points(group="pytest11"))
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
          *([] if registered else ["-p", _PLUGIN])], directory,
         PYTHONPATH=os.pathsep.join([str(target), str(_PROJECT)]))
