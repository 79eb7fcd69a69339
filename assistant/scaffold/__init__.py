"""The files ``assistant skills new`` writes, as package data: each ``*.tmpl`` file is a
:class:`string.Template` (``$skill``, ``$module``, ...), and :data:`FILES` says where each
one goes in the new package."""

from __future__ import annotations

__all__ = ["FILES"]

FILES: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "skill_init.py.tmpl": "src/$module/__init__.py",
    "skill_settings.py.tmpl": "src/$module/settings.py",
    "skill_backend.py.tmpl": "src/$module/backend.py",
    "skill_tools.py.tmpl": "src/$module/tools.py",
    "skill_templates.yaml.tmpl": "src/$module/templates.yaml",
    "py.typed.tmpl": "src/$module/py.typed",
    "sentences.yaml.tmpl": "tests/sentences.yaml",
    "test_skill.py.tmpl": "tests/test_$skill.py",
}
"""Template file (in this package) -> path in the new package (itself a template)."""
