"""The core knows no skill: nothing under ``assistant/`` imports ``skills``. Built-in
skills are plugins like any other, reached only through the skill API's entry points and
hooks."""

from __future__ import annotations

import ast
from pathlib import Path

import assistant

_CORE = Path(assistant.__file__).parent
_SKILLS = "skills"


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an ``import``, ``from ... import`` or ``import_module("...")`` names."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
              in {"import_module", "__import__"}):
            found.append((node.lineno, node.args[0].value))
    return found


def _is_skills(module: str) -> bool:
    return module == _SKILLS or module.startswith(f"{_SKILLS}.")


def test_no_module_of_the_core_imports_skills() -> None:
    offenders = [f"{path.relative_to(_CORE.parent)}:{line}: {module}"
                 for path in sorted(_CORE.rglob("*.py"))
                 for line, module in _imported_modules(ast.parse(path.read_text("utf-8")))
                 if _is_skills(module)]
    assert not offenders, ("the core imports skills; offer what it needs through "
                           "assistant.skill_api instead:\n" + "\n".join(offenders))


def test_the_check_sees_every_kind_of_import() -> None:
    source = ("import skills.factory\nfrom skills.vehicle import can_bus\n"
              "importlib.import_module('skills.core')\nfrom assistant import skill_api\n")
    assert [module for _, module in _imported_modules(ast.parse(source))
            if _is_skills(module)] == ["skills.factory", "skills.vehicle", "skills.core"]
