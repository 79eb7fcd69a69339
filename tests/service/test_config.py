"""The configuration file: every problem named with its key and what is allowed, environment
overrides, the effective configuration shown, and the plant defined in the file."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.cli.config import check_config
from assistant.config import AssistantConfig, config_path, read_config
from assistant.config_check import config_problems
from assistant.errors import ConfigError
from assistant.wiring import build_understanding

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "systemd" / "config.toml"


def _assistant(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli.main", *args], input=stdin,
                          check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_the_installed_example_is_valid() -> None:
    config, problems = read_config(EXAMPLE)
    assert config is not None and problems == []
    assert config_problems(config) == []


def test_check_reports_every_problem_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[wake]\nthreshold = 1.5\ncolour = "red"\n'
                    '[speech_to_text]\nengine = "kaldi"\n'
                    '[factory.modbus]\nport = 70000\n', encoding="utf-8")
    result = _assistant("config", "check", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "4 problem(s)" in lines[0]
    report = "\n".join(lines)
    assert "wake.threshold: Input should be less than or equal to 0.99 (got 1.5)" in report
    assert ("wake.colour: unknown key; allowed here: engine, faint_threshold, model, phrase"
            in report)
    assert "speech_to_text.engine: Input should be 'whisper' or 'vosk'" in report
    assert "factory.modbus.port: Input should be less than or equal to 65535" in report


def test_check_finds_what_the_schema_cannot(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[wake]\nmodel = "hey_computer"\n[language_model]\nname = "gpt"\n'
                    '[skills]\nenabled = ["core", "weather"]\n'
                    '[factory]\nplant_file = "/nowhere/plant.yaml"\n'
                    '[factory.modbus]\nport = 0\nsimulate_plc = false\n'
                    '[vehicle.can]\ninterface = "carrier-pigeon"\n', encoding="utf-8")
    config, problems = read_config(path)
    assert config is not None and problems == []
    found = {p.key: p.message for p in config_problems(config)}
    assert "hey_jarvis" in found["wake.model"]
    assert "smollm2-135m" in found["language_model.name"]
    assert "'weather' is not installed" in found["skills.enabled"]
    assert "/nowhere/plant.yaml" in found["factory.plant_file"]
    assert "502" in found["factory.modbus.port"]
    assert "socketcan" in found["vehicle.can.interface"]


@pytest.mark.usefixtures("installed_horn")
def test_a_skills_own_check_is_reported_under_its_section(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[skills]\nenabled = ["core", "horn"]\n', encoding="utf-8")
    out = io.StringIO()
    assert check_config(path, out) == 1
    assert "  skills.horn.volume: the horn needs a volume from 1 to 10\n" in out.getvalue()


def test_a_broken_file_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[wake]\nthreshold = \n", encoding="utf-8")
    result = _assistant("config", "check", str(path))
    assert result.returncode == 1 and "not valid TOML" in result.stdout
    assert "line 2" in result.stdout
    served = _assistant("--config", str(path), "parse", stdin="lock the doors\n")
    assert served.returncode == 2 and "assistant config check" in served.stderr


def test_environment_overrides_the_file_and_show_prints_the_result(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[wake]\nthreshold = 0.6\nmodel = "alexa"\n', encoding="utf-8")
    result = _assistant("config", "show", ASSISTANT_CONFIG=str(path),
                        ASSISTANT_WAKE__THRESHOLD="0.8")
    assert result.returncode == 0, result.stderr
    shown = tomllib.loads(result.stdout)
    assert shown["wake"] == {**shown["wake"], "model": "alexa", "threshold": 0.8}
    # What show prints is itself a valid configuration with the same effect.
    again = tmp_path / "shown.toml"
    again.write_text(result.stdout, encoding="utf-8")
    config, problems = read_config(again)
    assert problems == [] and config is not None
    assert config.model_dump() == AssistantConfig.model_validate(shown).model_dump()
    as_json = json.loads(_assistant("--config", str(path), "config", "show", "--json").stdout)
    assert as_json["wake"]["threshold"] == 0.6


def test_the_flag_beats_the_environment_and_the_default_is_optional(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag, env = tmp_path / "a.toml", tmp_path / "b.toml"
    monkeypatch.setenv("ASSISTANT_CONFIG", str(env))
    assert config_path(flag) == flag
    assert config_path(None) == env
    monkeypatch.delenv("ASSISTANT_CONFIG")
    assert config_path(None) in {None, Path("/etc/assistant/config.toml")}


def test_a_plant_defined_in_the_file_is_the_one_understood(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[factory.machines.grinder]\nnames = ["grinder", "big grinder"]\n'
                    '[factory.machines.saw]\nnames = ["saw"]\n'
                    '[factory.lines.line_a]\nnames = ["line a"]\nmachines = ["grinder"]\n',
                    encoding="utf-8")
    result = _assistant("--config", str(path), "parse", "--slm", "none",
                        stdin="start the big grinder\nstart press one\n")
    assert result.returncode == 0, result.stderr
    grinder, press = (json.loads(line) for line in result.stdout.splitlines())
    assert grinder["tool"] == "start_machine" and grinder["arguments"] == {"machine": "grinder"}
    assert (press["tool"], press["route"]) == (None, "none"), press


@pytest.mark.parametrize(
    ("toml", "key", "says"),
    [('[service]\naudit_log = "/proc/assistant/audit.jsonl"\n', "service.audit_log",
      "kernel file system"),
     ('[factory.modbus]\nhost = "plc..local"\nport = 502\nsimulate_plc = false\n',
      "factory.modbus.host", "not an IP address or a host name"),
     ('[factory.modbus]\nhost = "-plc"\nport = 502\nsimulate_plc = false\n',
      "factory.modbus.host", "not an IP address or a host name"),
     ('[audio]\ninput_device = "' + "mic" * 2_000_000 + '"\n', "audio.input_device",
      "at most 256 characters"),
     ("[skills]\nenabled = []\n", "skills.enabled", "no skill would be loaded"),
     ('[service]\naudit_log = "/tmp/' + "n" * 300 + '/audit.jsonl"\n', "service.audit_log",
      "at most 255 bytes")],
)
def test_check_refuses_what_cannot_work(tmp_path: Path, toml: str, key: str,
                                        says: str) -> None:
    """Issue 12: each of these passed the check."""
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    result = _assistant("config", "check", str(path))
    assert result.returncode == 1, result.stdout
    [line] = [line for line in result.stdout.splitlines() if line.strip().startswith(key)]
    assert says in line and len(line) < 300


def test_check_warns_of_environment_variables_that_set_nothing(tmp_path: Path) -> None:
    result = _assistant("config", "check", ASSISTANT_WAKE__THRESHHOLD="0.6",
                        ASSISTANT_MODBUS_HOST="plc", ASSISTANT_FACTORY__MODBUS__HOST="plc",
                        ASSISTANT_MODEL_CACHE=str(tmp_path))
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.stdout
    assert "ASSISTANT_MODBUS_HOST: unknown environment variable, ignored" in warnings[0]
    assert "did you mean ASSISTANT_WAKE__THRESHOLD?" in warnings[1]


def test_the_command_line_beats_the_environment_which_beats_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli.main import _config, _parser

    path = tmp_path / "config.toml"
    path.write_text('[wake]\nthreshold = 0.6\nmodel = "alexa"\n'
                    '[language_model]\nbudget_ms = 500\nthreads = 1\n', encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_WAKE__THRESHOLD", "0.7")
    args = _parser().parse_args(["--config", str(path), "parse", "--wake-threshold", "0.8",
                                 "--slm", "none", "--skills", "vehicle"])
    config = _config(args)
    assert config.wake.threshold == 0.8
    assert config.wake.model == "alexa"
    assert config.language_model.name == "none" and not config.language_model.enabled
    assert (config.language_model.budget_ms, config.language_model.threads) == (500, 1)
    assert config.skills.enabled == ["vehicle"]
    monkeypatch.delenv("ASSISTANT_WAKE__THRESHOLD")
    assert _config(_parser().parse_args(["--config", str(path), "run"])).wake.threshold == 0.6


def test_the_configuration_is_one_frozen_tree() -> None:
    config = AssistantConfig()
    with pytest.raises(ValidationError):
        config.wake.threshold = 0.9  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.wake = config.wake  # type: ignore[misc]
    changed = config.overridden({"voice_activity": {"end_quiet_ms": 400}})
    assert changed.voice_activity.end_quiet_ms == 400
    assert config.voice_activity.end_quiet_ms == 250
    assert changed.wake is config.wake


def test_an_override_out_of_range_names_the_key() -> None:
    with pytest.raises(ConfigError) as raised:
        AssistantConfig().overridden({"wake": {"threshold": 3}})
    assert "wake.threshold" in raised.value.message


def test_the_configuration_imports_nothing_above_it() -> None:
    """The settings are read before anything is built: importing them loads no engine, no
    skill and none of the text core."""
    probe = ("import sys, assistant.config; "
             "print(sorted(m for m in sys.modules if m.startswith(('assistant', 'skills'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    loaded = set(ast.literal_eval(done.stdout))
    assert loaded <= {"assistant", "assistant.errors", "assistant.config",
                      "assistant.config.sections", "assistant.config.settings"}, loaded


def test_every_command_line_option_reaches_its_key(tmp_path: Path) -> None:
    from assistant.cli.main import _config, _parser

    path = tmp_path / "config.toml"
    path.write_text('[skills]\nenabled = ["core", "vehicle"]\n'
                    '[factory.machines.press_1]\nnames = ["press one"]\n', encoding="utf-8")
    plant = tmp_path / "plant.yaml"
    config = _config(_parser().parse_args(
        ["--config", str(path), "chat", "--plant", str(plant), "--speed", "50", "--skills",
         "--audit-log", str(tmp_path / "a.jsonl"), "--confirm-seconds", "5"]))
    assert config.skills.enabled == ["core", "vehicle"]  # a bare --skills: as configured
    assert config.skills.confirm_seconds == 5
    assert config.audit_path() == tmp_path / "a.jsonl"
    skills = config.skill_configs()
    assert skills["factory"]["plant_file"] == str(plant) and "plant" not in skills["factory"]
    assert skills["vehicle"]["speed_kmh"] == 50
    run = _config(_parser().parse_args(
        ["--config", str(path), "run", "--stt", "vosk", "--vosk-model", str(tmp_path),
         "--vosk-any-words", "--input-device", "3", "--output-device", "usb",
         "--tts-voice", "voice.onnx", "--wake-model", "alexa"]))
    assert (run.speech_to_text.engine, run.speech_to_text.vosk_model_dir,
            run.speech_to_text.vosk_restrict_to_skills) == ("vosk", tmp_path, False)
    assert (run.audio.input_device, run.audio.output_device) == ("3", "usb")
    assert (run.text_to_speech.voice, run.wake.model) == ("voice.onnx", "alexa")
    parse = _config(_parser().parse_args(["--config", str(path), "parse"]))
    assert parse.speech_to_text.vosk_restrict_to_skills
    # Nothing runs for parse: its skills stand on simulations, whatever buses are configured.
    loaded, _ = build_understanding(parse.skills.enabled, parse.skill_configs())
    assert type(loaded.runtimes["vehicle"].backend).__name__ == "SimulatedVehicle"


@pytest.mark.parametrize(("changes", "named"), [
    ({"wake": {"threshold": 0.95}}, "threshold_while_speaking"),
    ({"voice_activity": {"min_speech_ms": 1500, "max_speech_ms": 1000}}, "max_speech_ms"),
])
def test_settings_that_contradict_each_other_are_refused_with_both_keys(
        changes: dict[str, dict[str, float]], named: str) -> None:
    """Each value is in its range, the pair is not: refused when read, not as a crash when
    the engine is built."""
    with pytest.raises(ConfigError) as raised:
        AssistantConfig().overridden(changes)
    assert named in raised.value.message
