"""The appliance's one configuration file: TOML, read through pydantic-settings.

Where it comes from, first found wins: ``--config FILE``, ``$ASSISTANT_CONFIG``,
``/etc/assistant/config.toml``; with none of them, the built-in defaults (the demo plant and
simulated buses). Any key can be overridden from the environment as
``ASSISTANT_<SECTION>__<KEY>`` (``ASSISTANT_WAKE__THRESHOLD=0.6``), which beats the file.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.errors import ConfigError
from assistant.llm.setup import DEFAULT_LANGUAGE_MODEL, LanguageModelSettings
from assistant.wiring import VoiceSettings

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AssistantConfig",
    "Problem",
    "config_path",
    "load_config",
    "read_config",
    "unknown_environment",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("/etc/assistant/config.toml")


OTHER_VARIABLES = frozenset({
    "ASSISTANT_CONFIG", "ASSISTANT_AUDIT_LOG", "ASSISTANT_MODEL_CACHE", "ASSISTANT_VENV",
    "ASSISTANT_PREFIX", "ASSISTANT_CONFIG_DIR", "ASSISTANT_UNIT_DIR"})
"""``ASSISTANT_*`` environment variables that are not configuration keys, and who reads
them: the command line, the model cache, and the install scripts."""
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class Section(BaseModel):
    """A table of the file: unknown keys are mistakes, not silently ignored. No text value
    is longer than a line of configuration can sensibly be."""

    model_config = ConfigDict(extra="forbid", str_max_length=4096)


DeviceName = Annotated[str, Field(max_length=256)]


class AudioConfig(Section):
    input_device: DeviceName = ""
    """Microphone: part of its name, or its index; empty for the system default."""
    output_device: DeviceName = ""
    """Speaker: part of its name, or its index; empty for the system default."""


class WakeConfig(Section):
    engine: Literal["openwakeword", "porcupine"] = "openwakeword"
    model: str = "hey_jarvis"
    """A packaged openWakeWord model (hey_jarvis, alexa, hey_mycroft, okay_nabu) or a .tflite
    path."""
    threshold: float = Field(0.5, ge=0.05, le=0.99)
    faint_threshold: float = Field(0.1, ge=0.01, le=0.99)
    """A score from here up to ``threshold`` wakes only if the speech recognizer also hears
    the wake phrase (``phrase``); set it to ``threshold`` to turn that off."""
    phrase: str = ""
    """The words the wake model listens for; empty: from the packaged model's name."""
    porcupine_access_key: str = ""
    porcupine_keyword: str = "jarvis"


class SpeechToTextConfig(Section):
    engine: Literal["whisper", "vosk"] = "whisper"
    whisper_model: str = "whisper-tiny.en"
    whisper_fallback: str = "whisper-base"
    """Tried when the first model's text is not understood; "none" for no second model."""
    vosk_model_dir: Path | None = None
    vosk_restrict_to_skills: bool = True


class TextToSpeechConfig(Section):
    voice: str = "piper-en_US-joe-medium"


class LanguageModelConfig(Section):
    name: str = DEFAULT_LANGUAGE_MODEL
    """A packaged model (smollm2-135m, gemma3-270m), or "none"."""
    path: Path | None = None
    """A GGUF file of your own instead; needs sha256."""
    sha256: str = Field("", pattern=r"^([0-9a-fA-F]{64})?$")
    budget_ms: float = Field(1000.0, ge=50.0, le=10000.0)


class SkillsConfig(Section):
    enabled: list[str] | None = None
    """Skills to load by name; absent: every installed skill."""
    confirm_seconds: float = Field(8.0, ge=2.0, le=30.0)

    @field_validator("enabled")
    @classmethod
    def _some_skill(cls, enabled: list[str] | None) -> list[str] | None:
        if enabled is not None and not enabled:
            raise ValueError("no skill would be loaded; name at least one, or leave the key "
                             "out to load every installed skill")
        return enabled


class CanConfig(Section):
    interface: str = "virtual"
    """A python-can interface: virtual (in process), socketcan (vcan0, can0), ..."""
    channel: str = "vehicle"
    timeout_s: float = Field(0.5, gt=0.0, le=5.0)
    """How long a command waits for the body controller's acknowledgement."""
    simulate_body_controller: bool = True
    """Run the simulated body controller on this bus (demo, bench, a vcan0 test rig)."""


class VehicleConfig(Section):
    speed_kmh: float = Field(0.0, ge=0.0, le=300.0)
    """The simulated car's speed at start."""
    backend: Literal["can", "in_process"] = "can"
    """can: body and climate over the CAN bus below; in_process: a simulated car, no bus."""
    can: CanConfig = Field(default_factory=CanConfig)


def _host(value: str) -> str:
    """An IP address or a host name (RFC 1123), as a Modbus client can connect to it."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError("not an IP address or a host name (letters, digits and hyphens, "
                         "dot-separated, at most 253 characters)")
    return value


class ModbusConfig(Section):
    host: Annotated[str, AfterValidator(_host)] = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    """The PLC's port (usually 502); 0 picks a free one, only with simulate_plc."""
    timeout_s: float = Field(1.0, gt=0.0, le=10.0)
    simulate_plc: bool = True
    """Start the PLC simulator on host:port (loopback) and speak to it."""


class MachineConfig(Section):
    names: list[str] = Field(default_factory=list)
    """How people say it; the first is how the assistant says it."""


class LineConfig(MachineConfig):
    machines: list[str] = Field(default_factory=list)


class FactoryConfig(Section):
    plant_file: Path | None = None
    """A plant definition (YAML); or define machines, conveyors and lines here."""
    machines: dict[str, MachineConfig] | None = None
    conveyors: dict[str, MachineConfig] | None = None
    lines: dict[str, LineConfig] | None = None
    backend: Literal["modbus", "in_process"] = "modbus"
    """modbus: the PLC below over Modbus TCP; in_process: a simulated plant, no bus."""
    modbus: ModbusConfig = Field(default_factory=ModbusConfig)


class ServiceConfig(Section):
    audit_log: Path | None = None
    """Default: $STATE_DIRECTORY/audit.jsonl under systemd, else ~/.local/state."""
    log_format: Literal["journald", "text"] = "journald"
    watchdog_stall_s: float = Field(15.0, ge=0.5, le=120.0)
    """The watchdog is no longer petted once the audio loop has not moved for this long
    (longer than the slowest turn: transcription, understanding and a reply; shorter than
    the unit's WatchdogSec)."""


class AssistantConfig(BaseSettings):
    """Everything an integrator sets. Units in the key names."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__",
                                      extra="forbid", toml_file=None)
    toml_path: ClassVar[Path | None] = None

    audio: AudioConfig = Field(default_factory=AudioConfig)
    wake: WakeConfig = Field(default_factory=WakeConfig)
    speech_to_text: SpeechToTextConfig = Field(default_factory=SpeechToTextConfig)
    text_to_speech: TextToSpeechConfig = Field(default_factory=TextToSpeechConfig)
    language_model: LanguageModelConfig = Field(default_factory=LanguageModelConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    vehicle: VehicleConfig = Field(default_factory=VehicleConfig)
    factory: FactoryConfig = Field(default_factory=FactoryConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_path))
        return tuple(sources)

    def voice_settings(self) -> VoiceSettings:
        return VoiceSettings(
            wake_engine=self.wake.engine, wake_model=self.wake.model,
            wake_threshold=self.wake.threshold,
            wake_candidate_threshold=self.wake.faint_threshold,
            wake_phrase=self.wake.phrase,
            porcupine_access_key=self.wake.porcupine_access_key,
            porcupine_keyword=self.wake.porcupine_keyword,
            stt_engine=self.speech_to_text.engine,
            whisper_model=self.speech_to_text.whisper_model,
            whisper_fallback=self.speech_to_text.whisper_fallback,
            vosk_model_dir=self.speech_to_text.vosk_model_dir,
            vosk_restrict_to_skills=self.speech_to_text.vosk_restrict_to_skills,
            tts_voice=self.text_to_speech.voice,
            language_model=self.language_model_settings())

    def language_model_settings(self) -> LanguageModelSettings:
        model = self.language_model
        return LanguageModelSettings(name=model.name, path=model.path, sha256=model.sha256,
                                     budget_ms=model.budget_ms)

    def skill_configs(self) -> dict[str, dict[str, Any]]:
        """What each built-in skill is given (the buses as configured, before simulators
        pick their ports)."""
        vehicle: dict[str, Any] = {"speed_kmh": self.vehicle.speed_kmh}
        if self.vehicle.backend == "can":
            vehicle["can"] = self.vehicle.can.model_dump()
        factory: dict[str, Any] = {}
        if self.factory.plant_file is not None:
            factory["plant_file"] = str(self.factory.plant_file)
        elif self.factory.machines is not None:
            factory["plant"] = self.factory.model_dump(
                include={"machines", "conveyors", "lines"}, exclude_none=True)
        if self.factory.backend == "modbus":
            factory["modbus"] = self.factory.modbus.model_dump()
        return {"vehicle": vehicle, "factory": factory}

    def audit_path(self) -> Path:
        from assistant.wiring import default_audit_path

        if self.service.audit_log is not None:
            return self.service.audit_log
        state = os.environ.get("STATE_DIRECTORY")  # set by systemd's StateDirectory=
        if state:
            return Path(state.split(":")[0]) / "audit.jsonl"
        return default_audit_path()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: where, and what is allowed."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def config_path(explicit: Path | None = None) -> Path | None:
    """The file to read: the flag, ``$ASSISTANT_CONFIG``, the default if it exists, else
    none (built-in defaults)."""
    if explicit is not None:
        return explicit
    configured = os.environ.get("ASSISTANT_CONFIG")
    if configured:
        return Path(configured)
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def read_config(path: Path | None) -> tuple[AssistantConfig | None, list[Problem]]:
    """The configuration and every problem in its shape (syntax, unknown keys, types,
    ranges); a file with problems gives no configuration."""
    if path is not None:
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            return None, [Problem(str(path), f"cannot read it: {err.strerror or err}")]
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            return None, [Problem(str(path), f"not valid TOML: {err}")]
        except RecursionError:
            return None, [Problem(str(path), "not a configuration: arrays or tables nested "
                                  "too deeply to read")]

    class FromFile(AssistantConfig):
        toml_path: ClassVar[Path | None] = path

    try:
        return FromFile(), []
    except ValidationError as err:
        return None, [_problem(error) for error in err.errors()]


def unknown_environment(environ: Mapping[str, str] | None = None) -> list[Problem]:
    """``ASSISTANT_*`` variables that set nothing (a misspelt key is silently ignored by the
    settings): each with the nearest real name."""
    from rapidfuzz import process

    environ = os.environ if environ is None else environ
    known = sorted(OTHER_VARIABLES | set(_variables(AssistantConfig, "ASSISTANT_")))
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("ASSISTANT_") or upper in OTHER_VARIABLES or _sets_a_key(upper):
            continue
        nearest = process.extractOne(upper, known, score_cutoff=70)
        hint = f"; did you mean {nearest[0]}?" if nearest else ""
        problems.append(Problem(name, f"unknown environment variable, ignored{hint}"))
    return problems


def _sets_a_key(name: str) -> bool:
    model: Any = AssistantConfig
    for part in name.removeprefix("ASSISTANT_").lower().split("__"):
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return model is dict  # below a table of names (factory.machines.ID) anything goes
        field = fields.get(part)
        if field is None:
            return False
        model = _model_of(field.annotation) or (
            dict if "dict" in str(field.annotation) else None)
    return True


def _variables(model: Any, prefix: str) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        inner = _model_of(field.annotation)
        names += _variables(inner, variable + "__") if inner is not None else [variable]
    return names


def load_config(explicit: Path | None = None) -> AssistantConfig:
    """The effective configuration, or a :class:`ConfigError` listing every problem.
    ``ASSISTANT_*`` variables that set nothing are logged as warnings."""
    for problem in unknown_environment():
        _LOGGER.warning("%s", problem)
    path = config_path(explicit)
    config, problems = read_config(path)
    if config is None:
        listed = "; ".join(str(p) for p in problems)
        raise ConfigError("config-invalid", f"configuration {path} has {len(problems)} "
                          f"problem(s): {listed}. Run 'assistant config check' for details.")
    return config


def _problem(error: Mapping[str, Any]) -> Problem:
    location = [str(part) for part in error["loc"]]
    key = ".".join(location) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(location[:-1])
        return Problem(key, f"unknown key; allowed here: {', '.join(allowed)}")
    message = str(error["msg"]).removeprefix("Value error, ")
    if "input" in error and error["type"] != "missing" and not isinstance(
            error["input"], dict):
        shown = repr(error["input"])
        if len(shown) > 80:
            shown = f"{shown[:60]}... ({len(str(error['input']))} characters)"
        message += f" (got {shown})"
    return Problem(key, message)


def _allowed_keys(location: list[str]) -> list[str]:
    model: Any = AssistantConfig
    for part in location:
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _model_of(field.annotation)
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def _model_of(annotation: Any) -> Any:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
