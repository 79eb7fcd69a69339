"""``assistant config check`` and ``assistant config show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

import tomli_w

from assistant.config import AssistantConfig, config_path, read_config, unknown_environment
from assistant.config_check import config_problems

__all__ = ["check_config", "show_config"]


def check_config(explicit: Path | None, out: TextIO) -> int:
    """Every problem, one per line with its key; 0 when there are none. ``ASSISTANT_*``
    variables that set nothing are warnings: they do not fail the check."""
    path = config_path(explicit)
    where = str(path) if path is not None else "the built-in defaults (no file)"
    config, problems = read_config(path)
    if config is not None:
        problems = config_problems(config)
    for warning in unknown_environment():
        out.write(f"warning: {warning}\n")
    if not problems:
        out.write(f"{where}: ok\n")
        return 0
    out.write(f"{where}: {len(problems)} problem(s)\n")
    for problem in problems:
        out.write(f"  {problem}\n")
    return 1


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

    def drop_none(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_none(v) for k, v in value.items() if v is not None}
        return value

    result: dict[str, Any] = drop_none(config.model_dump(mode="json"))
    return result
