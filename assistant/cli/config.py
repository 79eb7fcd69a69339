"""``assistant config check`` and ``assistant config show``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TextIO

import tomli_w

from assistant.config import (
    DEPRECATED_SKILL_SECTIONS,
    AssistantConfig,
    Problem,
    SkillsConfig,
    config_path,
    merged,
    read_config,
    unknown_environment,
)
from assistant.config_check import config_problems, skill_settings_problems
from assistant.plugins import installed_skill_names, installed_skills, skill_settings

__all__ = ["check_config", "show_config"]


def check_config(explicit: Path | None, out: TextIO) -> int:
    """Every problem, one per line with its key; 0 when there are none. ``ASSISTANT_*``
    variables that set nothing are warnings: they do not fail the check."""
    path = config_path(explicit)
    where = str(path) if path is not None else "the built-in defaults (no file)"
    config, problems = read_config(path)
    if config is not None:
        problems = config_problems(config)
        for name in config.deprecated_sections():
            out.write(f"warning: [{name}] is deprecated; move its keys to [skills.{name}]\n")
    elif path is not None:
        problems += _skill_table_problems(path)
    for warning in unknown_environment():
        out.write(f"warning: {warning}\n")
    if not problems:
        out.write(f"{where}: ok\n")
        return 0
    out.write(f"{where}: {len(problems)} problem(s)\n")
    for problem in problems:
        out.write(f"  {problem}\n")
    return 1


def _skill_table_problems(path: Path) -> list[Problem]:
    """The skills' tables of a file whose other sections have problems: checked all the
    same, so one run of the check lists everything."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return []  # already reported by read_config
    found = data.get("skills")
    skills: dict[str, Any] = found if isinstance(found, dict) else {}
    known = set(SkillsConfig.model_fields)
    tables = {name: value for name, value in skills.items()
              if name not in known and isinstance(value, dict)}
    old = [name for name in DEPRECATED_SKILL_SECTIONS if isinstance(data.get(name), dict)]
    for name in old:
        tables[name] = merged(data[name], tables.get(name, {}))  # as the settings read them
    enabled = skills.get("enabled") if isinstance(skills.get("enabled"), list) else None
    return skill_settings_problems(tables, enabled, old_sections=old)


def show_config(explicit: Path | None, out: TextIO, *, as_json: bool) -> int:
    """The effective configuration (file, then environment overrides, then defaults)."""
    path = config_path(explicit)
    config, problems = read_config(path)
    if config is None:
        out.write(f"{path}: {len(problems)} problem(s); run 'assistant config check'\n")
        for problem in problems:
            out.write(f"  {problem}\n")
        return 1
    data = _plain(config)
    for name in DEPRECATED_SKILL_SECTIONS:  # shown where they now belong: [skills.<name>]
        data.pop(name, None)
    tables = config.skill_configs()
    for skill in installed_skills(config.skills.enabled or installed_skill_names()):
        if skill.settings is not None:  # each skill's settings, its defaults filled in
            data["skills"][skill.name] = _plain_value(
                skill_settings(skill, tables.get(skill.name, {}))[1])
    if as_json:
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        source = str(path) if path is not None else "built-in defaults"
        out.write(f"# effective configuration: {source}, with ASSISTANT_* environment "
                  "overrides\n")
        out.write(tomli_w.dumps(data))
    return 0


def _plain(config: AssistantConfig) -> dict[str, Any]:
    """TOML has no null: unset optional keys are left out."""
    result: dict[str, Any] = _plain_value(config.model_dump(mode="json"))
    return result


def _plain_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items() if v is not None}
    return value
