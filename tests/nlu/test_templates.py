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


LIGHTS = {"set_lights": frozenset({"state", "lit"}), "get_lights": frozenset()}
LIGHTS_BOOLEANS = {"set_lights": frozenset({"lit"})}


@pytest.mark.parametrize(("text", "line", "message"), [
    ('tool:\n  lock_doors:\n    - sentences: ["lock"]\n', 1,
     "unknown key 'tool'; did you mean 'tools'?"),
    ('langage: en\ntools: {}\n', 1, "unknown key 'langage'; did you mean 'language'?"),
    ('tools:\n  lock_doors:\n    - sentence: ["lock"]\n', 3,
     "lock_doors[0]: unknown key 'sentence'; did you mean 'sentences'?"),
    ('tools:\n  lock_doors:\n    - sentences: ["lock"]\n      argument: {}\n', 4,
     "unknown key 'argument'; did you mean 'arguments'?"),
    ('tools:\n  lock_doors:\n    - arguments: {}\n', 3, "'sentences' is a required property"),
    ('tools:\n  lock_doors:\n    - sentences: "lock"\n', 3, "is not of type 'array'"),
    ('tools:\n  lock_doors:\n    - sentences:\n        - lock\n        - 5\n', 5,
     "5 is not of type 'string'"),
    ('priority: high\ntools: {}\n', 1, "priority: 'high' is not of type 'integer'"),
    ('tools:\n  lock_doors:\n    - sentences: ["lock"]\n      requires: lock\n', 4,
     "is not of type 'array'"),
    ('tools:\n  lock_doors:\n    - sentences: ["lock"]\n  lock_doors:\n    - sentences: ["x"]\n',
     4, "lock_doors is written twice (first on line 2)"),
    ('- tools\n', 1, "expected a mapping"),
    ('', 1, "expected a mapping"),
])
def test_the_schema_refuses_unknown_keys_and_wrong_types_at_their_line(
        tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TemplateError) as caught:
        load_templates(path, TOOLS)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert message in str(caught.value)


def test_the_schema_ships_beside_the_loader_and_accepts_the_builtin_templates() -> None:
    import jsonschema
    import yaml

    from assistant.nlu.template_yaml import template_schema

    root = Path(__file__).resolve().parents[2]
    for path in sorted(root.glob("skills/*/templates.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), template_schema())


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n", "true", "false"])
def test_a_yaml_11_boolean_is_the_word_it_looks_like_for_a_word_argument(
        tmp_path: Path, word: str) -> None:
    path = _write(tmp_path, f'tools:\n  set_lights:\n    - sentences: ["lights {word}"]\n'
                            f'      arguments: {{state: {word}}}\n')
    [sentence] = load_templates(path, LIGHTS, boolean_arguments=LIGHTS_BOOLEANS)
    assert sentence.fixed == {"state": word}
    assert type(sentence.fixed["state"]) is str


@pytest.mark.parametrize(("word", "value"), [("on", True), ("off", False), ("yes", True),
                                             ("no", False), ("true", True), ("false", False)])
def test_a_yaml_11_boolean_stays_a_boolean_for_a_boolean_argument(
        tmp_path: Path, word: str, value: bool) -> None:
    path = _write(tmp_path, f'tools:\n  set_lights:\n    - sentences: ["lights {word}"]\n'
                            f'      arguments: {{lit: {word}}}\n')
    [sentence] = load_templates(path, LIGHTS, boolean_arguments=LIGHTS_BOOLEANS)
    assert sentence.fixed == {"lit": value}


def test_a_boolean_argument_refuses_a_word_that_is_no_boolean(tmp_path: Path) -> None:
    path = _write(tmp_path, 'tools:\n  set_lights:\n    - sentences: ["lights"]\n'
                            '      arguments: {lit: maybe}\n')
    with pytest.raises(TemplateError, match=r":4: set_lights: lit is on or off"):
        load_templates(path, LIGHTS, boolean_arguments=LIGHTS_BOOLEANS)


def test_an_on_key_is_the_word_on_and_its_error_has_a_real_line(tmp_path: Path) -> None:
    """The old ``templates.yaml:0: set_lights has no argument True``."""
    path = _write(tmp_path, 'tools:\n  set_lights:\n    - sentences: ["lights on"]\n'
                            '      arguments:\n        on: yes\n')
    with pytest.raises(TemplateError) as caught:
        load_templates(path, LIGHTS, boolean_arguments=LIGHTS_BOOLEANS)
    assert caught.value.line == 5
    assert "set_lights has no argument 'on'; it takes lit, state" in str(caught.value)
    on_tools = {"set_lights": frozenset({"on"})}
    [sentence] = load_templates(path, on_tools, boolean_arguments={"set_lights": {"on"}})
    assert sentence.fixed == {"on": True}


def test_priority_and_requires_reach_every_sentence(tmp_path: Path) -> None:
    path = _write(tmp_path, 'priority: 3\ntools:\n  set_lights:\n'
                            '    - sentences: ["turn on the lights"]\n'
                            '      requires: [Shop, workshop]\n      arguments: {lit: on}\n'
                            '  get_lights:\n    - sentences: ["are the lights on"]\n')
    first, second = load_templates(path, LIGHTS, boolean_arguments=LIGHTS_BOOLEANS)
    assert (first.priority, first.requires) == (3, ("shop", "workshop"))
    assert (second.priority, second.requires) == (3, ())


def test_the_defaults_are_priority_0_and_no_required_words(tmp_path: Path) -> None:
    path = _write(tmp_path, 'tools:\n  lock_doors:\n    - sentences: ["lock"]\n')
    [sentence] = load_templates(path, TOOLS)
    assert (sentence.priority, sentence.requires) == (0, ())


def test_a_tool_no_sentence_calls_is_a_warning(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    from assistant.nlu.templates import read_templates, template_warnings

    path = _write(tmp_path, 'tools:\n  set_lights:\n    - sentences: ["lights on"]\n'
                            '      arguments: {lit: on}\nexamples:\n  get_lights:\n'
                            '    - sentences: ["are the lights on"]\n')
    loaded = read_templates(path, LIGHTS, boolean_arguments=LIGHTS_BOOLEANS)
    [warning] = loaded.warnings
    assert (warning.code, warning.line) == ("tool-without-sentences", 6)  # its examples
    assert "'get_lights' has no sentences" in str(warning)
    assert "'get_lights' has no sentences" in caplog.text
    assert template_warnings(path, LIGHTS) == [warning]


def test_templates_are_picked_by_language_from_a_folder(tmp_path: Path) -> None:
    from assistant.nlu.templates import read_templates

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "en.yaml").write_text('tools:\n  lock_doors:\n    - sentences: ["lock"]\n',
                                    encoding="utf-8")
    (folder / "xx.yaml").write_text('language: xx\ntools:\n  lock_doors:\n'
                                    '    - sentences: ["zorp the doors"]\n', encoding="utf-8")
    tools = {"lock_doors": frozenset()}
    [english] = read_templates(folder, tools).sentences
    [made_up] = read_templates(folder, tools, language="xx").sentences
    assert (english.text, made_up.text) == ("lock", "zorp the doors")
    assert read_templates(folder, tools).languages == ("en", "xx")


def test_a_skill_without_the_configured_language_loads_with_a_warning(tmp_path: Path) -> None:
    from assistant.nlu.templates import read_templates

    path = _write(tmp_path, 'language: en\ntools:\n  lock_doors:\n    - sentences: ["lock"]\n')
    loaded = read_templates(path, {"lock_doors": frozenset()}, language="xx")
    assert loaded.sentences == ()
    [warning] = loaded.warnings
    assert (warning.code, warning.line) == ("language-missing", 1)
    assert "no templates in 'xx' (it has en)" in str(warning)
    made_up = _write(tmp_path, 'language: xx\ntools:\n  lock_doors:\n    - sentences: ["zorp"]\n')
    assert [s.text for s in load_templates(made_up, {"lock_doors": frozenset()},
                                           language="xx")] == ["zorp"]
    assert load_templates(made_up, {"lock_doors": frozenset()}) == []


def test_a_language_file_must_say_its_own_language(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "xx.yaml").write_text('language: en\ntools: {}\n', encoding="utf-8")
    with pytest.raises(TemplateError, match=r"xx.yaml:1: language 'en' in a file named for"):
        load_templates(folder, {}, language="xx")
