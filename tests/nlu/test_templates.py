from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import TemplateError
from assistant.nlu.templates import Alternative, SlotRef, Word, load_templates, parse_expression

TOOLS = {"set_temperature": frozenset({"celsius", "zone"}), "lock_doors": frozenset()}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_expression_has_alternatives_optionals_and_slots() -> None:
    expression = parse_expression("set [the] (temperature|heat) to {celsius}")
    kinds = [type(item) for item in expression.items]
    assert kinds == [Word, Alternative, Alternative, Word, SlotRef]
    assert expression.items[1].optional


def test_rules_expand(tmp_path: Path) -> None:
    path = _write(tmp_path, 'rules:\n  heat: "(heat|temperature)"\n'
                            'tools:\n  set_temperature:\n'
                            '    - sentences: ["set <heat> to {celsius}"]\n')
    [sentence] = load_templates(path, TOOLS)
    assert sentence.slots == ["celsius"]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ('    - sentences:\n        - "set (the temperature to {celsius}"\n', 5, "missing ')'"),
        ('    - sentences:\n        - "lock"\n        - "set it to {degrees}"\n', 6, "{degrees}"),
        ('    - sentences:\n        - "set <warmth> to {celsius}"\n', 5, "unknown rule <warmth>"),
        ('    - sentences:\n        - "set the temperature]"\n', 5, "unexpected ']'"),
        ('    - sentences:\n        - "how (is|\'s) the temperature"\n', 5, "whole word"),
    ],
)
def test_template_errors_name_file_and_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = _write(tmp_path, "language: en\ntools:\n  set_temperature:\n" + body)
    with pytest.raises(TemplateError) as caught:
        load_templates(path, TOOLS)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert message in str(caught.value)


def test_unknown_tool_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "tools:\n  fly_away:\n    - sentences: [\"fly\"]\n")
    with pytest.raises(TemplateError, match="unknown tool 'fly_away'"):
        load_templates(path, TOOLS)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "tools:\n  lock_doors:\n    - sentences: [\"lock\"\n  bad: :\n")
    with pytest.raises(TemplateError) as caught:
        load_templates(path, TOOLS)
    assert caught.value.line > 0


def test_the_recognizers_prompt_is_plain_sentences_of_the_installed_skills() -> None:
    """What Whisper is prompted with biases what it hears: a made-up word there ("Play the
    airport.", "Pause the.") turns up in transcripts of other commands."""
    from assistant.stt.vocabulary import command_prompt
    from assistant.wiring import build_assistant

    assistant = build_assistant(lambda _e: None)
    tools = list(dict.fromkeys(t.tool for t in assistant.skills.sentences if not t.example))
    sentences = [s.strip() for s in command_prompt(
        assistant.skills.sentences, assistant.understanding.catalog).split(".") if s.strip()]
    commands = [s for s in sentences if ":" not in s]
    assert len(commands) == len(tools)  # one per tool, in the order of their templates
    for sentence, tool in zip(commands, tools, strict=True):
        words = sentence.lower().split()
        assert words[-1] not in {"the", "a", "to", "for", "of"}, sentence
        assert all(a != b for a, b in itertools.pairwise(words)), sentence
        assert assistant.understanding.decide(sentence).tool == tool, sentence
    assert "Play folk music" in commands  # the field's first example
    assert "Navigate to the harbour" in commands


@pytest.mark.parametrize(("template", "said"), [
    ("pause [the] [<media>]", "pause"),
    ("(turn|switch) [the] ac on", "turn the ac on"),
    ("{seat} [seat] heat", "driver seat heat"),
    ("play {query}", "play music"),
])
def test_a_plain_sentence_keeps_a_templates_own_words_and_drops_dangling_ones(
        template: str, said: str) -> None:
    from assistant.dispatch.catalog import ArgSpec
    from assistant.nlu.expand import canonical_sentence
    from assistant.nlu.templates import TemplateSentence
    from assistant.skill_api import SlotKind

    def spec(name: str, kind: SlotKind, values: dict[str, Any]) -> ArgSpec:
        return ArgSpec(name, kind, True, None, None, None, label=name if name != "query"
                       else "music", unit="", question="", values=values)

    specs = {"seat": spec("seat", SlotKind.ENUM, {"driver seat": "driver"}),
             "query": spec("query", SlotKind.TEXT, {})}
    rules = {"media": parse_expression("(music|radio)")}
    sentence = TemplateSentence("tool", parse_expression(template, rules), template, "test")
    assert canonical_sentence(sentence, specs) == said
