"""What a well-formed configuration can still get wrong: names of models that do not
exist, files that are missing, skills that are not installed, and what each skill's own
``check_config`` finds in its section (a plant that does not parse). Nothing here loads a
model or opens a device; ``assistant doctor`` does that."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from assistant.config import NO_LANGUAGE_MODEL, AssistantConfig, Problem
from assistant.errors import SkillLoadError
from assistant.manifest import ModelManifest
from assistant.plugins import (
    installed_skill_names,
    installed_skills,
    settings_problems,
    skill_settings,
)

__all__ = ["config_problems", "skill_settings_problems"]


def config_problems(config: AssistantConfig) -> list[Problem]:
    """Every problem, each with its key and what is allowed."""
    manifest = ModelManifest.load()
    problems: list[Problem] = []

    def named_or_file(key: str, value: str, kind: str, suffix: str) -> None:
        packaged = sorted(e.name for e in manifest.of_kind(kind))
        if value in packaged:
            return
        if value.endswith(suffix) or "/" in value:
            if not Path(value).exists():
                problems.append(Problem(key, f"file {value} does not exist"))
            return
        problems.append(Problem(key, f"unknown model {value!r}; packaged: "
                                f"{', '.join(packaged)}, or a path to a {suffix} file"))

    if config.wake.engine == "openwakeword":
        named_or_file("wake.model", config.wake.model, "wake", ".tflite")
    elif not config.wake.porcupine_access_key:
        problems.append(Problem("wake.porcupine_access_key", "the porcupine engine needs a "
                                "Picovoice AccessKey (validated online); or use "
                                "engine = \"openwakeword\""))
    stt = config.speech_to_text
    if stt.engine == "whisper":
        named_or_file("speech_to_text.whisper_model", stt.whisper_model, "stt", "/")
    elif stt.vosk_model_dir is None or not stt.vosk_model_dir.is_dir():
        problems.append(Problem("speech_to_text.vosk_model_dir", "the vosk engine needs an "
                                "existing model directory, e.g. vosk-model-small-en-us-0.15 "
                                "(see models/README.md)"))
    named_or_file("text_to_speech.voice", config.text_to_speech.voice, "tts", ".onnx")
    problems += _language_model_problems(config, manifest)
    problems += _skill_problems(config)
    problems += _path_problems(config)
    return problems


_VIRTUAL = (Path("/proc"), Path("/sys"), Path("/dev"))
_NAME_MAX = 255
_PATH_MAX = 4096


def _path_problems(config: AssistantConfig) -> list[Problem]:
    """Paths no file system takes, and an audit log that could not be written."""
    problems = [Problem(key, message) for key, path in _paths(config.model_dump(), "")
                for message in [_unusable(path)] if message]
    if any(p.key == "service.audit_log" for p in problems):
        return problems
    audit = config.audit_path().absolute()
    key = "service.audit_log"
    if any(audit.is_relative_to(root) for root in _VIRTUAL):
        problems.append(Problem(key, f"{audit} is on a kernel file system, not a disk; use a "
                                "directory such as /var/lib/assistant"))
        return problems
    if audit.exists() and not audit.is_file():
        problems.append(Problem(key, f"{audit} exists and is not a file"))
        return problems
    existing = next(folder for folder in audit.parents if folder.exists())
    if not existing.is_dir():
        problems.append(Problem(key, f"{existing} is a file, so {audit} cannot be created"))
    elif not os.access(audit if audit.exists() else existing, os.W_OK):
        problems.append(Problem(key, f"{audit if audit.exists() else existing} is not "
                                "writable by this user; the audit log could not be written"))
    return problems


def _paths(data: Any, key: str) -> list[tuple[str, Path]]:
    if isinstance(data, Path):
        return [(key, data)]
    if isinstance(data, dict):
        return [found for name, value in data.items()
                for found in _paths(value, f"{key}.{name}" if key else str(name))]
    return []


def _unusable(path: Path) -> str:
    text = str(path)
    if len(text.encode("utf-8", "surrogateescape")) > _PATH_MAX:
        return f"a path of {len(text)} characters; at most {_PATH_MAX} bytes work"
    long = [part for part in path.parts if len(part.encode("utf-8", "surrogateescape")) >
            _NAME_MAX]
    if long:
        return f"a name in the path is {len(long[0])} characters; at most {_NAME_MAX} bytes work"
    if "\x00" in text:
        return "the path contains a NUL character"
    return ""


def _language_model_problems(config: AssistantConfig, manifest: ModelManifest) -> list[Problem]:
    model = config.language_model
    if model.path is not None:
        if not model.path.is_file():
            return [Problem("language_model.path", f"file {model.path} does not exist")]
        if not model.sha256:
            return [Problem("language_model.sha256", "a GGUF file of your own needs its "
                            "sha256 (sha256sum FILE)")]
        return []
    packaged = sorted(e.name for e in manifest.of_kind("llm"))
    if model.name not in (*packaged, NO_LANGUAGE_MODEL):
        return [Problem("language_model.name", f"unknown model {model.name!r}; allowed: "
                        f"{', '.join(packaged)}, {NO_LANGUAGE_MODEL}, or set path")]
    return []


def _skill_problems(config: AssistantConfig) -> list[Problem]:
    """Skills enabled and not installed, then every skill's settings."""
    problems: list[Problem] = []
    installed = installed_skill_names()
    for name in config.skills.enabled or ():
        if name not in installed:
            problems.append(Problem("skills.enabled", f"skill {name!r} is not installed; "
                                    f"installed: {', '.join(installed)}"))
    return problems + skill_settings_problems(config.skill_configs(), config.skills.enabled,
                                              old_sections=config.deprecated_sections())


def skill_settings_problems(configs: Mapping[str, Mapping[str, Any]],
                            enabled: Collection[str] | None = None, *,
                            old_sections: Collection[str] = ()) -> list[Problem]:
    """Tables of skills that are not installed, each skill's table against its settings
    model, then each skill's own ``check_config``. A table read from an old top-level
    section (``[factory]``) is reported under that section's name, as the file says it."""
    problems: list[Problem] = []
    installed = installed_skill_names()
    for name in configs:
        if name not in installed:
            problems.append(Problem(f"skills.{name}", f"settings for a skill that is not "
                                    f"installed; installed: {', '.join(installed)}"))
    # A disabled skill's table is still checked: enabling it must not reveal old mistakes.
    try:
        skills = installed_skills([*(enabled or installed), *configs])
    except SkillLoadError as err:
        return [*problems, Problem("skills.enabled", err.message)]
    for skill in skills:
        prefix = skill.name if skill.name in old_sections else f"skills.{skill.name}"
        table = configs.get(skill.name, {})
        wrong = settings_problems(skill, table)
        problems += [Problem(prefix + each.key.removeprefix(f"skills.{skill.name}"),
                             each.message) for each in wrong]  # as the file names it
        if skill.check_config is None or wrong:
            continue
        try:
            found = skill.check_config(skill_settings(skill, table)[1])
        except Exception as err:  # a skill's broken check is a problem to report, not a crash
            problems.append(Problem(skill.name, f"the {skill.name} skill's configuration check "
                                    f"failed: {type(err).__name__}: {err}; report it to the "
                                    "skill's author"))
            continue
        problems += [Problem(f"{prefix}.{each.key}", each.message) for each in found]
    return problems
