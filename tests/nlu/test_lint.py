"""What ``skills check`` finds in one skill's templates, on a small catalog of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from assistant.dispatch.catalog import Catalog
from assistant.nlu.lint import Severity, expansions, lint_skill
from assistant.nlu.templates import Expression, TemplateSentence, load_templates, parse_expression
from assistant.skill_api import NoArguments, Slot, ToolResult, tool


class SetLevel(BaseModel):
    model_config = ConfigDict(frozen=True)
    level: Annotated[int, Field(ge=0, le=9), Slot(label="level")]


async def _done(_arguments: BaseModel) -> ToolResult:
    return ToolResult(True, "Done.")


CATALOG = Catalog({t.name: t for t in (
    tool("set_level", SetLevel, _done, description="Set the level"),
    tool("honk", NoArguments, _done, description="Honk"),
    tool("flash", NoArguments, _done, description="Flash"),
)}, {})
ARGUMENTS = {name: frozenset(t.arguments.model_fields) for name, t in CATALOG.tools.items()}


def _lint(tmp_path: Path, templates: str) -> list[tuple[Severity, str, str, str]]:
    path = tmp_path / "templates.yaml"
    path.write_text(templates, encoding="utf-8")
    sentences = load_templates(path, ARGUMENTS)
    return [(p.severity, p.tool, p.message, p.source.rsplit(":", 1)[-1])
            for p in lint_skill("demo", list(CATALOG.tools), sentences, CATALOG)]


def test_a_clean_skill_has_nothing_to_report(tmp_path: Path) -> None:
    assert _lint(tmp_path, """\
tools:
  set_level:
    - sentences: ["set [the] level to {level}"]
  honk:
    - sentences: ["(honk|beep) [the horn]"]
  flash:
    - sentences: ["flash [the lights]"]
""") == []


def test_an_option_said_twice_is_unreachable(tmp_path: Path) -> None:
    found = _lint(tmp_path, """\
tools:
  set_level: [{sentences: ["set level {level}"]}]
  flash: [{sentences: ["flash"]}]
  honk:
    - sentences:
        - "(honk|beep|honk) [the horn]"
        - "sound (twenty one|21) horns"
""")
    assert [(f[0], f[1], f[3]) for f in found] == [
        (Severity.WARNING, "honk", "6"), (Severity.WARNING, "honk", "7")]
    assert "the option 'honk' is there twice" in found[0][2]
    assert "the option '21' is there twice" in found[1][2]


def test_an_optional_word_beside_the_same_word_adds_nothing(tmp_path: Path) -> None:
    found = _lint(tmp_path, """\
tools:
  set_level: [{sentences: ["set level {level}"]}]
  flash: [{sentences: ["flash"]}]
  honk: [{sentences: ["honk [horn] horn"]}]
""")
    assert len(found) == 1 and "[horn] next to 'horn' adds nothing" in found[0][2]


def test_a_sentence_an_earlier_one_covers_is_reported_with_both_lines(tmp_path: Path) -> None:
    found = _lint(tmp_path, """\
tools:
  set_level:
    - sentences:
        - "(set|put) [the] level [to] {level}"
        - "set level to {level}"
  flash: [{sentences: ["flash"]}]
  honk: [{sentences: ["honk"]}]
""")
    assert [(f[0], f[1], f[3]) for f in found] == [(Severity.WARNING, "set_level", "5")]
    assert "adds nothing" in found[0][2] and "templates.yaml:4)" in found[0][2]


def test_sentences_with_other_fixed_values_are_not_covered(tmp_path: Path) -> None:
    assert _lint(tmp_path, """\
tools:
  set_level:
    - sentences: ["level {level}"]
    - sentences: ["level {level}"]
      arguments: {level: 3}
  flash: [{sentences: ["flash"]}]
  honk: [{sentences: ["honk"]}]
""") == []


def test_a_required_slot_no_sentence_says_and_a_tool_without_sentences(
        tmp_path: Path) -> None:
    found = _lint(tmp_path, """\
tools:
  set_level: [{sentences: ["change the level"]}]
  honk: [{sentences: ["honk"]}]
""")
    assert {(f[0], f[1]) for f in found} == {(Severity.WARNING, "set_level"),
                                              (Severity.WARNING, "flash")}
    assert any("needs {level} but no sentence says it" in f[2] for f in found)
    assert any("flash has no sentences" in f[2] for f in found)


def test_a_block_that_fixes_the_slot_fills_it(tmp_path: Path) -> None:
    assert _lint(tmp_path, """\
tools:
  set_level:
    - sentences: ["maximum level"]
      arguments: {level: 9}
  flash: [{sentences: ["flash"]}]
  honk: [{sentences: ["honk"]}]
""") == []


def test_expansions_cover_every_option_and_are_the_same_each_run() -> None:
    sentence = TemplateSentence("honk", _expression("(honk|beep) [the] horn"), "", "t:1")
    said = expansions(sentence, CATALOG.specs["honk"])
    assert set(said) == {"honk the horn", "honk horn", "beep the horn", "beep horn"}
    assert said == expansions(sentence, CATALOG.specs["honk"])


def _expression(text: str) -> Expression:
    return parse_expression(text)
