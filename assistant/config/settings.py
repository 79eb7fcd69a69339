"""The configuration tree, where it is read from, and the problems in it."""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.config.sections import (
    AudioConfig,
    LanguageModelConfig,
    SatelliteConfig,
    Section,
    ServiceConfig,
    SkillsConfig,
    SpeechToTextConfig,
    TextToSpeechConfig,
    VoiceActivityConfig,
    WakeConfig,
    WyomingConfig,
)
from assistant.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEPRECATED_SKILL_SECTIONS",
    "AssistantConfig",
    "Problem",
    "config_path",
    "default_audit_path",
    "load_config",
    "merged",
    "read_config",
    "unknown_environment",
    "validation_problems",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("/etc/assistant/config.toml")


OTHER_VARIABLES = frozenset({
    "ASSISTANT_CONFIG", "ASSISTANT_AUDIT_LOG", "ASSISTANT_MODEL_CACHE", "ASSISTANT_VENV",
    "ASSISTANT_PREFIX", "ASSISTANT_CONFIG_DIR", "ASSISTANT_UNIT_DIR"})
"""``ASSISTANT_*`` environment variables that are not configuration keys, and who reads
them: the command line, the model cache, and the install scripts."""


class AssistantConfig(BaseSettings):
    """Everything an integrator sets. Units in the key names."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True, toml_file=None)
    toml_path: ClassVar[Path | None] = None

    audio: AudioConfig = Field(default_factory=AudioConfig)
    wake: WakeConfig = Field(default_factory=WakeConfig)
    speech_to_text: SpeechToTextConfig = Field(default_factory=SpeechToTextConfig)
    text_to_speech: TextToSpeechConfig = Field(default_factory=TextToSpeechConfig)
    voice_activity: VoiceActivityConfig = Field(default_factory=VoiceActivityConfig)
    language_model: LanguageModelConfig = Field(default_factory=LanguageModelConfig)
    skills: SkillsConfig = Field(default_factory=SkillsConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    wyoming: WyomingConfig = Field(default_factory=WyomingConfig)
    satellites: dict[str, SatelliteConfig] = Field(default_factory=dict)
    """The hub's satellites by name: ``assistant serve`` connects to these and no others."""
    vehicle: dict[str, Any] | None = None
    """Deprecated: the vehicle skill's settings, now ``[skills.vehicle]``."""
    factory: dict[str, Any] | None = None
    """Deprecated: the factory skill's settings, now ``[skills.factory]``."""

    @model_validator(mode="after")
    def _deprecated_sections(self) -> AssistantConfig:
        """``[vehicle]`` and ``[factory]`` are read as ``[skills.vehicle]`` and
        ``[skills.factory]`` (whose own keys win), with a warning."""
        moved: dict[str, Any] = {}
        for name in DEPRECATED_SKILL_SECTIONS:
            old = getattr(self, name)
            if old is None:
                continue
            _LOGGER.warning("[%s] is deprecated: move its keys to [skills.%s] "
                            "(ASSISTANT_SKILLS__%s__<KEY>)", name, name, name.upper())
            moved[name] = merged(old, self.skills.settings_for(name))
        if moved:
            skills = SkillsConfig.model_validate({**self.skills.model_dump(), **moved})
            object.__setattr__(self, "skills", skills)  # still being built: not yet frozen
        return self

    def deprecated_sections(self) -> list[str]:
        """The old section names this configuration still uses."""
        return [name for name in DEPRECATED_SKILL_SECTIONS if getattr(self, name) is not None]

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

    def overridden(self, changes: Mapping[str, Mapping[str, Any]]) -> AssistantConfig:
        """This configuration with some keys of some sections replaced (the command line's
        options), each changed section validated again; a :class:`ConfigError` names the
        key and what is allowed."""
        replaced: dict[str, Section] = {}
        problems: list[Problem] = []
        for name, keys in changes.items():
            if not keys:
                continue
            section: Section = getattr(self, name)
            try:
                replaced[name] = type(section).model_validate(
                    merged(section.model_dump(), keys))
            except ValidationError as err:
                problems += [_problem(error, prefix=[name]) for error in err.errors()]
        if problems:
            raise ConfigError("config-invalid", "; ".join(str(p) for p in problems))
        return self.model_copy(update=replaced)

    def skill_configs(self) -> dict[str, dict[str, Any]]:
        """Each skill's table as written (``[skills.<name>]``, the deprecated sections
        included), by skill name; each skill validates its own when it is loaded."""
        return self.skills.skill_tables()

    def audit_path(self) -> Path:
        if self.service.audit_log is not None:
            return self.service.audit_log
        state = os.environ.get("STATE_DIRECTORY")  # set by systemd's StateDirectory=
        if state:
            return Path(state.split(":")[0]) / "audit.jsonl"
        return default_audit_path()


DEPRECATED_SKILL_SECTIONS = ("vehicle", "factory")
"""Top-level sections that were a built-in skill's settings before ``[skills.<name>]``."""


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` on top, tables merged key by key."""
    result = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def default_audit_path() -> Path:
    """``$ASSISTANT_AUDIT_LOG``, else the user's state directory."""
    configured = os.environ.get("ASSISTANT_AUDIT_LOG")
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "assistant" / "audit.jsonl"


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
            # [skills.<name>]: a skill's own table, checked against the skill's settings
            return model is SkillsConfig
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


def validation_problems(error: ValidationError, model: type[BaseModel],
                        prefix: Sequence[str]) -> list[Problem]:
    """Each problem ``model`` found, keyed as the file says it: under ``prefix`` (a skill's
    settings are ``skills.<name>``), unknown keys with the keys allowed there."""
    return [_problem(each, list(prefix), model) for each in error.errors()]


def _problem(error: Mapping[str, Any], prefix: list[str] | None = None,
             model: type[BaseModel] | None = None) -> Problem:
    inside = [str(part) for part in error["loc"]]
    location = [*(prefix or []), *inside]
    key = ".".join(location) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = (_allowed_keys(location[:-1]) if model is None
                   else _allowed_keys(inside[:-1], model))
        return Problem(key, f"unknown key; allowed here: {', '.join(allowed)}")
    message = str(error["msg"]).removeprefix("Value error, ")
    if "input" in error and error["type"] != "missing" and not isinstance(
            error["input"], dict):
        shown = repr(error["input"])
        if len(shown) > 80:
            shown = f"{shown[:60]}... ({len(str(error['input']))} characters)"
        message += f" (got {shown})"
    return Problem(key, message)


def _allowed_keys(location: list[str], root: type[BaseModel] | None = None) -> list[str]:
    model: Any = root or AssistantConfig
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
