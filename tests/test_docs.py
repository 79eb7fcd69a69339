"""Every example of ``docs/skills.md`` runs: each fenced block carries an info string this
test knows, and a block without one fails.

- ``python skill``: the reference skill, written as ``kettle_skill.py`` and loaded with
  :func:`assistant.plugins.load_skills` (its templates: the first ``yaml templates`` block);
- ``yaml templates``: loaded with the real template loader against that skill's tools;
- ``yaml sentences``: loaded with the sentence-file loader and checked against the skill;
- ``python test``: run by pytest with the skill importable;
- ``toml config``: read as a configuration file, each skill's table checked against its
  settings and ``check_config`` (the tutorial's skill by the tutorial's ``config check``);
- ``console``: the tutorial's commands, in order, in a temporary directory; the package is
  installed with ``pip install --target`` and every later command sees it on PYTHONPATH;
  each line of output shown must appear in the command's output;
- ``python append=PATH``, ``yaml append=PATH``: the tutorial's edits, appended to PATH;
  ``python insert=PATH``: inserted before the closing ``    )`` of the tuple PATH returns;
- ``console service``: commands that need the installed service, only shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import assistant
from assistant.config.settings import read_config
from assistant.config_check import skill_settings_problems
from assistant.plugins import installed_skill_names, load_skills, settings_problems
from assistant.skill_api import Skill
from assistant.testing.sentences import check_sentences, load_sentence_file

_PROJECT = Path(assistant.__file__).resolve().parents[1]
_DOC = _PROJECT / "docs" / "skills.md"
_PLUGIN = "assistant.testing.plugin"
_FENCE = re.compile(r"^```(.*?)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_KNOWN = {("python", "skill"), ("python", "test"), ("yaml", "templates"),
          ("yaml", "sentences"), ("toml", "config"), ("console", ""), ("console", "service")}
_EDITS = {("python", "append"), ("python", "insert"), ("yaml", "append")}


@dataclass(frozen=True)
class Block:
    language: str
    tag: str
    target: str
    text: str
    line: int


def _blocks() -> list[Block]:
    text = _DOC.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        info = match.group(1).split()
        language = info[0] if info else ""
        tag, _, target = (info[1] if len(info) > 1 else "").partition("=")
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(language, tag, target, match.group(2), line))
    return found


def _of(language: str, tag: str) -> list[Block]:
    return [b for b in _blocks() if (b.language, b.tag) == (language, tag)]


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["nice", "-n", "19", *command], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _pytest_plugin() -> list[str]:
    # The harness is on when the assistant is installed (pytest11); twice would fail.
    registered = any(p.value == _PLUGIN for p in entry_points(group="pytest11"))
    return [] if registered else ["-p", _PLUGIN]


def test_every_block_has_a_known_tag() -> None:
    blocks = _blocks()
    assert blocks
    for block in blocks:
        known = (block.language, block.tag) in _KNOWN if not block.target \
            else (block.language, block.tag) in _EDITS
        assert known, f"docs/skills.md:{block.line}: a block tagged " \
                      f"{block.language!r} {block.tag!r}; give it a tag tests/test_docs.py runs"
    assert len(_of("python", "skill")) == 1


@pytest.fixture(scope="module")
def kettle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Skill, Path]]:
    """The reference skill as a module in a temporary directory, importable."""
    directory = tmp_path_factory.mktemp("kettle")
    (directory / "kettle_skill.py").write_text(_of("python", "skill")[0].text, "utf-8")
    (directory / "templates.yaml").write_text(_of("yaml", "templates")[0].text, "utf-8")
    sys.path.insert(0, str(directory))
    try:
        import kettle_skill

        assert isinstance(kettle_skill.skill, Skill)
        yield kettle_skill.skill, directory
    finally:
        sys.path.remove(str(directory))
        sys.modules.pop("kettle_skill", None)


def test_the_reference_skill_loads_with_its_templates(kettle: tuple[Skill, Path]) -> None:
    loaded = load_skills([kettle[0]])
    assert not loaded.warnings
    assert {s.tool for s in loaded.sentences} == {t.name for t in loaded.runtimes["kettle"].tools}


def test_every_templates_block_loads(kettle: tuple[Skill, Path], tmp_path: Path) -> None:
    for index, block in enumerate(_of("yaml", "templates")):
        path = tmp_path / f"templates_{index}.yaml"
        path.write_text(block.text, encoding="utf-8")
        loaded = load_skills([dataclasses.replace(kettle[0], templates=path)])
        assert loaded.sentences, f"docs/skills.md:{block.line}: no sentence loaded"


def test_every_sentences_block_passes(kettle: tuple[Skill, Path], tmp_path: Path) -> None:
    for index, block in enumerate(_of("yaml", "sentences")):
        path = tmp_path / f"sentences_{index}.yaml"
        path.write_text(block.text, encoding="utf-8")
        outcomes = asyncio.run(check_sentences(load_sentence_file(path)))
        failures = [o.failure() for o in outcomes if not o.passed]
        assert not failures, f"docs/skills.md:{block.line}: " + "; ".join(failures)


def test_the_python_test_blocks_pass(kettle: tuple[Skill, Path]) -> None:
    directory = kettle[1]
    for index, block in enumerate(_of("python", "test")):
        (directory / f"test_doc_{index}.py").write_text(block.text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(directory), str(_PROJECT)])}
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_pytest_plugin(),
          "-o", "asyncio_mode=auto", "-o",
          "asyncio_default_fixture_loop_scope=function", "."], directory, env)


def _tutorial_skill() -> str:
    first = next(b for b in _of("console", "") if "skills new" in b.text)
    name = shlex.split(first.text.splitlines()[0])[-1]
    return name.replace("-", "_")


def test_every_config_block_is_valid(kettle: tuple[Skill, Path], tmp_path: Path) -> None:
    for index, block in enumerate(_of("toml", "config")):
        path = tmp_path / f"config_{index}.toml"
        path.write_text(block.text, encoding="utf-8")
        config, problems = read_config(path)
        assert config is not None and not problems, f"docs/skills.md:{block.line}: {problems}"
        for name, table in config.skill_configs().items():
            if name not in tomllib.loads(block.text).get("skills", {}):
                continue
            if name == kettle[0].name:
                found = [str(p) for p in settings_problems(kettle[0], table)]
                check = kettle[0].check_config
                found += [str(p) for p in (check(table) if check else [])]
            elif name in installed_skill_names():
                found = [str(p) for p in skill_settings_problems({name: table})]
            else:
                assert name == _tutorial_skill(), f"docs/skills.md:{block.line}: [skills.{name}]"
                continue  # checked by the tutorial's own `assistant config check`
            assert not found, f"docs/skills.md:{block.line}: {found}"


def _edit(block: Block, root: Path) -> None:
    path = root / block.target
    text = path.read_text(encoding="utf-8")
    if block.tag == "append":
        text += block.text
    else:
        end = text.rindex("\n    )\n")
        text = text[:end + 1] + block.text + text[end + 1:]
    path.write_text(text, encoding="utf-8")


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    """The console blocks in order, the edits between them where the document has them."""
    site = tmp_path / "site"
    config = tmp_path / "config.toml"
    config.write_text(next(b for b in _of("toml", "config")
                           if f"[skills.{_tutorial_skill()}]" in b.text).text, "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(_PROJECT)]),
           "ASSISTANT_CONFIG": str(config)}
    cwd = tmp_path
    ran: list[str] = []
    for block in _blocks():
        if block.target:
            _edit(block, cwd)
            continue
        if (block.language, block.tag) != ("console", ""):
            continue
        command: list[str] | None = None
        expected: list[str] = []
        for line in [*block.text.splitlines(), "$ "]:
            if not line.startswith("$ "):
                expected.append(line.strip())
                continue
            if command is not None:
                output = _run(command, cwd, env)
                shown = [e.replace("/etc/assistant/config.toml", str(config))
                         for e in expected if e]
                missing = [e for e in shown if e not in output]
                assert not missing, f"docs/skills.md:{block.line}: {command}: {missing} " \
                                    f"not in:\n{output}"
            expected, words = [], shlex.split(line[2:])
            command = None
            if not words:
                continue
            ran.append(words[0] if words[0] != "assistant" else " ".join(words[:3]))
            if words[0] == "cd":
                cwd = cwd / words[1]
            elif words[0] == "assistant":
                command = [sys.executable, "-m", "assistant.cli.main", *words[1:]]
            elif words[:2] == ["pip", "install"]:
                command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--target", str(site), *words[2:]]
            elif words == ["pytest"]:
                command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *_pytest_plugin()]
            else:
                pytest.fail(f"docs/skills.md:{block.line}: the test cannot run {line!r}")
    assert ran[:3] == ["assistant skills new", "cd", "pip"]
    assert {"pytest", "assistant skills check", "assistant skills try",
            "assistant config check"} <= set(ran)


def test_the_reference_skill_hooks_do_what_the_document_says(
        kettle: tuple[Skill, Path]) -> None:
    skill = kettle[0]
    assert skill.check_config is not None and skill.diagnose is not None
    assert skill.simulate is not None
    problems = skill.check_config({"host": "sim", "kettles": {"lab": []}})
    assert [f"skills.kettle.{p.key}: {p.message}" for p in problems] == [
        "skills.kettle.kettles.lab: give the kettle at least one name"]
    assert [f.ok for f in asyncio.run(skill.diagnose({"host": "sim"}))] == [True]

    async def simulated(host: str) -> object:
        async with skill.simulate({"host": host}) as simulation:
            return simulation

    assert asyncio.run(simulated("sim")) is not None
    assert asyncio.run(simulated("10.0.0.5")) is None
