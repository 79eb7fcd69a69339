"""A skill's settings: declared as a pydantic model, set in ``[skills.<name>]``, overridden
from the environment, checked by ``config check``, shown by ``config show``, and given to
``create`` validated."""

from __future__ import annotations

import asyncio
import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from assistant import skill_api
from assistant.cli.config import check_config, show_config
from assistant.config import read_config
from assistant.errors import SkillLoadError
from assistant.plugins import load_skills
from assistant.skill_api import (
    NoArguments,
    Skill,
    SkillContext,
    SkillRuntime,
    ToolResult,
    tool,
)
from assistant.wiring import build_assistant

AWAIT_LIMIT = 5.0
TEMPLATES = Path(__file__).with_name("lamp_templates.yaml")


class LampSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = "127.0.0.1"
    port: int = Field(7000, ge=1, le=65535)


@dataclass
class Lamp:
    settings: LampSettings
    calls: list[str] = field(default_factory=list)

    async def start(self) -> None:
        self.calls.append("start")

    async def aclose(self) -> None:
        self.calls.append("aclose")


def _create(context: SkillContext) -> SkillRuntime:
    assert isinstance(context.settings, LampSettings)
    lamp = Lamp(context.settings)

    async def flash(_: NoArguments) -> ToolResult:
        return ToolResult(True, "Flashed.")

    return SkillRuntime(tools=(tool("flash_lamp", NoArguments, flash, description="Flash"),),
                        backend=lamp)


LAMP = Skill(name="lamp", templates=TEMPLATES, create=_create, settings=LampSettings)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_create_is_given_the_validated_settings_and_the_same_as_plain_values() -> None:
    loaded = load_skills([LAMP], {"lamp": {"port": "7100"}})
    lamp = loaded.runtimes["lamp"].backend
    assert isinstance(lamp, Lamp) and lamp.settings == LampSettings(port=7100)
    assert load_skills([LAMP]).runtimes["lamp"].backend.settings == LampSettings()  # type: ignore[attr-defined]


def test_settings_that_do_not_validate_name_their_key_and_what_is_allowed() -> None:
    with pytest.raises(SkillLoadError) as raised:
        load_skills([LAMP], {"lamp": {"port": 0, "colour": "red"}})
    assert raised.value.code == "skill-settings-invalid"
    assert "skills.lamp.port: Input should be greater than or equal to 1 (got 0)" in \
        raised.value.message
    assert "skills.lamp.colour: unknown key; allowed here: host, port" in raised.value.message


async def test_the_back_end_is_started_and_closed_by_the_assistant(tmp_path: Path) -> None:
    loaded = load_skills([LAMP])
    assert isinstance(loaded.runtimes["lamp"].backend, skill_api.Backend)
    assistant = build_assistant(lambda _e: None, audit_path=tmp_path / "audit.jsonl")
    # The built-ins' back ends follow the same lifecycle (a timer service, simulations).
    await asyncio.wait_for(assistant.start(), AWAIT_LIMIT)
    await asyncio.wait_for(assistant.aclose(), AWAIT_LIMIT)
    from assistant.plugins import close_backends, start_backends

    await asyncio.wait_for(start_backends(loaded.runtimes), AWAIT_LIMIT)
    await asyncio.wait_for(close_backends(loaded.runtimes), AWAIT_LIMIT)
    assert loaded.runtimes["lamp"].backend.calls == ["start", "aclose"]  # type: ignore[attr-defined]


def test_a_skill_table_in_the_file_reaches_the_skill_and_the_environment_beats_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, '[skills.vehicle]\nspeed_kmh = 50\nbackend = "in_process"\n')
    config, problems = read_config(path)
    assert problems == [] and config is not None
    assert config.skill_configs()["vehicle"] == {"speed_kmh": 50, "backend": "in_process"}
    assistant = build_assistant(lambda _e: None, config, skill_configs=config.skill_configs(),
                                audit_path=tmp_path / "audit.jsonl")
    assert assistant.backend("vehicle").speed == 50  # type: ignore[attr-defined]
    monkeypatch.setenv("ASSISTANT_SKILLS__VEHICLE__SPEED_KMH", "70")
    monkeypatch.setenv("ASSISTANT_SKILLS__VEHICLE__CAN__TIMEOUT_S", "0.2")
    config, _ = read_config(path)
    assert config is not None
    assert config.skill_configs()["vehicle"] == {"speed_kmh": "70", "backend": "in_process",
                                                 "can": {"timeout_s": "0.2"}}
    out = io.StringIO()
    assert check_config(path, out) == 0, out.getvalue()
    assert "unknown environment variable" not in out.getvalue()


def test_check_names_the_key_and_what_is_allowed(tmp_path: Path) -> None:
    path = _file(tmp_path, '[wake]\nthreshold = 2.0\n'
                 '[skills.vehicle]\nspeed_kmh = 500\ncolour = "red"\n'
                 '[skills.weather]\ncity = "Oslo"\n')
    out = io.StringIO()
    assert check_config(path, out) == 1
    report = out.getvalue()
    assert "wake.threshold" in report  # the file's other problems do not hide the skills'
    assert ("skills.vehicle.speed_kmh: Input should be less than or equal to 300 (got 500)"
            in report)
    assert "skills.vehicle.colour: unknown key; allowed here: backend, can, speed_kmh" in report
    assert "skills.weather: settings for a skill that is not installed; installed:" in report


def test_a_skills_own_check_runs_on_its_validated_settings(tmp_path: Path) -> None:
    path = _file(tmp_path, '[skills.factory.modbus]\nport = 0\nsimulate_plc = false\n')
    out = io.StringIO()
    assert check_config(path, out) == 1
    assert "skills.factory.modbus.port: port 0 (any free port) only works" in out.getvalue()


def test_the_old_sections_still_work_with_a_deprecation_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _file(tmp_path, '[vehicle]\nspeed_kmh = 30\n[skills.vehicle]\nbackend = "in_process"\n')
    config, problems = read_config(path)
    assert problems == [] and config is not None
    assert config.skill_configs()["vehicle"] == {"speed_kmh": 30, "backend": "in_process"}
    assert "[vehicle] is deprecated: move its keys to [skills.vehicle]" in caplog.text
    out = io.StringIO()
    assert check_config(path, out) == 0
    assert "warning: [vehicle] is deprecated; move its keys to [skills.vehicle]" in \
        out.getvalue()


def test_show_prints_each_skills_settings_with_its_defaults(tmp_path: Path) -> None:
    path = _file(tmp_path, '[vehicle]\nspeed_kmh = 30\n')
    out = io.StringIO()
    assert show_config(path, out, as_json=False) == 0
    shown = tomllib.loads(out.getvalue())
    assert "vehicle" not in shown  # shown where it now belongs
    assert shown["skills"]["vehicle"] == {
        "speed_kmh": 30.0, "backend": "can",
        "can": {"interface": "virtual", "channel": "vehicle", "timeout_s": 0.5,
                "simulate_body_controller": True}}
    assert shown["skills"]["factory"]["modbus"]["simulate_plc"] is True
    again = _file(tmp_path, out.getvalue())
    assert read_config(again)[1] == []


def test_the_public_surface_has_what_a_skill_needs() -> None:
    for name in ("BackendError", "UnconfirmedError", "AssistantError", "Backend",
                 "format_number", "spoken_duration", "spoken_list", "Skill", "SkillContext"):
        assert name in skill_api.__all__ and hasattr(skill_api, name)
    assert skill_api.spoken_list(["hall", "office", "yard"]) == "hall, office and yard"
    assert skill_api.format_number(21.0) == "21"
