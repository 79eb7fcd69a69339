"""``assistant skills new NAME [--dir DIR]``: write a skill package that installs and passes
its own tests as written: an entry point, a settings model, tools with slots of three kinds
(one confirm-class), sentence templates, a back end behind a Protocol with a simulator,
sentence tests and pytest tests through ``assistant.testing``. The files are templates in
:mod:`assistant.scaffold`."""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import TextIO

from assistant.errors import AssistantError
from assistant.scaffold import FILES

__all__ = ["SkillNames", "add_new_parser", "run_new", "skill_names", "write_skill_package"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class SkillNames:
    """Every name a new skill goes by, derived from the one its author gave."""

    skill: str
    """The skill's name (``shop_lights``): its entry point, ``[skills.shop_lights]``."""

    @property
    def module(self) -> str:
        """The Python package (``shop_lights_skill``)."""
        return f"{self.skill}_skill"

    @property
    def dist(self) -> str:
        """The distribution pip installs (``shop-lights-skill``)."""
        return f"{self.skill.replace('_', '-')}-skill"

    @property
    def spoken(self) -> str:
        """How people say it (``shop lights``)."""
        return self.skill.replace("_", " ")

    @property
    def class_prefix(self) -> str:
        """The prefix of its classes (``ShopLights``)."""
        return "".join(part.capitalize() for part in self.skill.split("_") if part)

    def substitutions(self) -> dict[str, str]:
        return {"skill": self.skill, "module": self.module, "dist": self.dist,
                "spoken": self.spoken, "Class": self.class_prefix,
                "SKILL": self.skill.upper()}


def skill_names(name: str) -> SkillNames:
    """The names of a new skill called ``name`` (``-`` read as ``_``), or an error saying
    what a name may be."""
    skill = name.strip().replace("-", "_")
    if not _NAME.fullmatch(skill) or keyword.iskeyword(skill) or skill.endswith("_"):
        raise AssistantError("skill-name-invalid", f"{name!r} cannot name a skill: use "
                             "lower-case letters, digits, '-' and '_', starting with a letter "
                             "(e.g. shop-lights)")
    return SkillNames(skill)


def write_skill_package(names: SkillNames, directory: Path) -> list[Path]:
    """Write the new skill's package into ``directory`` (created; refused when it holds
    anything already) and return the files written."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise AssistantError("skill-dir-not-empty", f"{directory} is not an empty directory; "
                             "choose another with --dir, or remove it first")
    substitutions = names.substitutions()
    templates = files("assistant.scaffold")
    written: list[Path] = []
    for template_name, target in FILES.items():
        text = templates.joinpath(template_name).read_text(encoding="utf-8")
        path = directory / Template(target).substitute(substitutions)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(substitutions), encoding="utf-8")
        written.append(path)
    return written


def add_new_parser(skills_commands: argparse._SubParsersAction[argparse.ArgumentParser],
                   ) -> None:
    """``skills new`` under the ``skills`` command group."""
    new = skills_commands.add_parser(
        "new", help="write a skill package that installs and passes its own tests")
    new.add_argument("name", help="the skill's name, e.g. shop-lights (read as shop_lights)")
    new.add_argument("--dir", type=Path, help="where to write it (default: ./NAME); must be "
                     "empty or not exist")


def run_new(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Write the package and say what to do next."""
    from assistant.plugins import installed_skill_names

    names = skill_names(args.name)
    if names.skill in installed_skill_names():
        raise AssistantError("skill-name-taken", f"a skill named {names.skill!r} is already "
                             "installed ('assistant skills list'); choose another name")
    directory: Path = args.dir or Path(args.name)
    written = write_skill_package(names, directory)
    print(f"Wrote the {names.skill} skill ({names.dist}) in {directory}:", file=out)
    for path in written:
        print(f"  {path.relative_to(directory)}", file=out)
    print(f"\nNext:\n  cd {directory}\n  pip install -e .      # into the assistant's "
          "environment\n  pytest                # its tests, through assistant.testing\n"
          f"  assistant skills test\n", file=out)
    return 0
