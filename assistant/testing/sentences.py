"""Sentence tests: utterances and the call each must decide, checked against the real
understanding (templates and classifier; the language model only when one is given).

A file (``tests/sentences.yaml`` in a skill's package)::

    skills: [shop_lights]      # optional; default: the skills of the package the file is in
    settings:                  # optional; each skill's settings, as in [skills.<name>]
      shop_lights: {host: 127.0.0.1}
    tests:
      - say: turn on the shop lights
        call: {tool: set_shop_lights, arguments: {lit: true}}
      - say: what's the weather like
        call: none

``arguments``, when given, must be exactly the decided ones (defaults included); without
it only the tool is checked. A skill may also be named as ``package.module:attribute``
(a skill not installed yet). ``on``, ``off``, ``yes`` and ``no`` are read as words, never
as booleans: only ``true`` and ``false`` are.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import AssistantError
from assistant.llm.base import LanguageModel
from assistant.nlu.understand import Decision, Understanding
from assistant.plugins import ENTRY_POINT_GROUP
from assistant.skill_api import Skill
from assistant.testing.session import CLASSIFIERS, ClassifierCache, SkillSpec, resolve_skills

__all__ = [
    "DEFAULT_PATH",
    "ExpectedCall",
    "SentenceCase",
    "SentenceFile",
    "SentenceFileError",
    "SentenceOutcome",
    "check_sentences",
    "load_sentence_file",
    "package_skill_names",
    "sentence_understanding",
]

DEFAULT_PATH = Path("tests") / "sentences.yaml"
"""Where ``assistant skills test`` looks without a path: a skill package's tests."""


class SentenceFileError(AssistantError):
    """A sentence-test file is unreadable or malformed; names the file and line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__("sentence-tests-invalid", f"{path}:{line}: {message}")
        self.path = path
        self.line = line


class _Located(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class _WordLoader(yaml.SafeLoader):
    """YAML as a person writing sentences means it: ``on``/``off``/``yes``/``no`` are words."""


_WordLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WordLoader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                  re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))


def _construct_mapping(loader: _WordLoader, node: yaml.MappingNode) -> _Located:
    loader.flatten_mapping(node)
    mapping = _Located()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_WordLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class ExpectedCall(BaseModel):
    """The call an utterance must decide."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str
    arguments: dict[str, Any] | None = None


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    say: str = Field(min_length=1)
    call: ExpectedCall | Literal["none"] | None

    @field_validator("call", mode="before")
    @classmethod
    def _no_tool(cls, value: Any) -> Any:
        return "none" if value is None else value


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: list[str] | None = None
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tests: list[_Case] = Field(min_length=1)


@dataclass(frozen=True)
class SentenceCase:
    """One utterance and the call it must decide (``None``: no tool)."""

    say: str
    expected: ExpectedCall | None
    path: Path
    line: int

    def describe_expected(self) -> str:
        return _describe(self.expected.tool, self.expected.arguments) if self.expected \
            else "none"


@dataclass(frozen=True)
class SentenceFile:
    """A loaded sentence-test file."""

    path: Path
    skills: tuple[str, ...] | None
    settings: Mapping[str, Mapping[str, Any]]
    cases: tuple[SentenceCase, ...]

    def skill_objects(self) -> list[Skill]:
        """The skills the file names (installed names, or ``module:attribute``)."""
        return resolve_skills([_skill(name, self.path) for name in self.skills]
                              if self.skills is not None else None)


@dataclass(frozen=True)
class SentenceOutcome:
    """What an utterance decided, against what it must."""

    case: SentenceCase
    decision: Decision

    @property
    def got_arguments(self) -> dict[str, Any]:
        return dict(self.decision.to_json()["arguments"])

    @property
    def passed(self) -> bool:
        expected = self.case.expected
        if expected is None:
            return self.decision.tool is None
        if self.decision.tool != expected.tool:
            return False
        return expected.arguments is None or expected.arguments == self.got_arguments

    def describe_got(self) -> str:
        if self.decision.tool is None:
            return f"none (route {self.decision.route})"
        return (f"{_describe(self.decision.tool, self.got_arguments)} "
                f"(route {self.decision.route})")

    def failure(self) -> str:
        """The failure as a person reads it, with the file and line."""
        return (f"{self.case.path}:{self.case.line}: {self.case.say!r}\n"
                f"    expected: {self.case.describe_expected()}\n"
                f"    got:      {self.describe_got()}")


def _describe(tool: str, arguments: Mapping[str, Any] | None) -> str:
    if arguments is None:
        return tool
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(arguments.items()))
    return f"{tool}({shown})"


def _skill(name: str, path: Path) -> SkillSpec:
    if ":" not in name:
        return name
    module, _, attribute = name.partition(":")
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as err:
        raise SentenceFileError(path, 1, f"skill {name!r} cannot be imported: {err}") from err
    if not isinstance(found, Skill):
        raise SentenceFileError(path, 1, f"{name!r} is not an assistant.skill_api.Skill")
    return found


def _line_of(document: Any, location: Sequence[int | str]) -> int:
    """The line of the innermost part of ``document`` that ``location`` reaches."""
    line = document.line if isinstance(document, _Located) else 1
    node = document
    for part in location:
        if isinstance(node, _Located) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = node.line if isinstance(node, _Located) else line
        else:
            break
    return line


_KEYS_AT_DEPTH: dict[int, type[BaseModel]] = {1: _Document, 3: _Case, 4: ExpectedCall}
"""The model whose keys a location of that length names (``tests.0.call.tool``: 4)."""


def _problem(error: Mapping[str, Any]) -> str:
    # pydantic names the branch of ``call``'s union it tried; the file has no such key.
    location = [str(part) for part in error["loc"]
                if part != ExpectedCall.__name__ and not str(part).startswith("literal[")]
    where = ".".join(location) or "the file"
    if error["type"] == "extra_forbidden":
        model = _KEYS_AT_DEPTH.get(len(location))
        allowed = f" (allowed: {', '.join(model.model_fields)})" if model else ""
        return f"{where}: unknown key {location[-1]!r}{allowed}"
    return (f"{where}: {error['msg']} (a file has 'tests:', a list of {{say: ..., call: "
            "{tool: ..., arguments: {...}} or none})")


def package_skill_names(start: Path) -> tuple[str, ...] | None:
    """The skills the package around ``start`` publishes (its ``pyproject.toml`` entry
    points), or ``None`` outside a skill package."""
    for folder in [start.resolve(), *start.resolve().parents]:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                project = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                return None
            points = project.get("project", {}).get("entry-points", {})
            names = sorted(points.get(ENTRY_POINT_GROUP, {}))
            return tuple(names) if names else None
    return None


def load_sentence_file(path: Path) -> SentenceFile:
    """Read and check a sentence-test file; a :class:`SentenceFileError` names the line."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_WordLoader)
    except OSError as err:
        raise SentenceFileError(path, 0, f"cannot read the sentence tests: {err}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise SentenceFileError(path, mark.line + 1 if mark is not None else 0,
                                f"invalid YAML: {err}") from err
    try:
        document = _Document.model_validate(raw)
    except ValidationError as err:
        # A misspelt key also leaves the right one missing: the misspelling is the news.
        first = min(err.errors(), key=lambda error: error["type"] != "extra_forbidden")
        raise SentenceFileError(path, _line_of(raw, first["loc"]), _problem(first)) from err
    cases: list[SentenceCase] = []
    seen: dict[str, int] = {}
    for index, case in enumerate(document.tests):
        line = _line_of(raw, ("tests", index))
        if case.say in seen:
            raise SentenceFileError(path, line, f"{case.say!r} is tested twice (first on "
                                    f"line {seen[case.say]}); keep one")
        seen[case.say] = line
        expected = None if case.call == "none" or case.call is None else case.call
        cases.append(SentenceCase(case.say, expected, path, line))
    skills = tuple(document.skills) if document.skills is not None \
        else package_skill_names(path.parent)
    return SentenceFile(path, skills, document.settings, tuple(cases))


def sentence_understanding(sentences: SentenceFile,
                           classifiers: ClassifierCache = CLASSIFIERS) -> Understanding:
    """The understanding the file's utterances are decided by (its skills, its settings)."""
    return classifiers.understanding(sentences.skill_objects(), sentences.settings)


async def check_sentences(
    sentences: SentenceFile,
    *,
    understanding: Understanding | None = None,
    language_model: LanguageModel | None = None,
) -> list[SentenceOutcome]:
    """Decide every utterance of the file; the language model, when given, is asked about
    what the templates and the classifier leave undecided."""
    understanding = understanding or sentence_understanding(sentences)
    if language_model is not None:
        understanding.attach_model(language_model)
    outcomes: list[SentenceOutcome] = []
    for case in sentences.cases:
        decision = await understanding.understand(case.say) \
            if understanding.model_tier is not None else understanding.decide(case.say)
        outcomes.append(SentenceOutcome(case, decision))
    return outcomes
