"""Sentence-test files: read as their author means them (``on`` is a word), refused with
the line that is wrong, and checked against the real understanding by ``assistant skills
test``, which prints each failure with its line, the call expected and the one decided."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.cli.skills_test import run_sentence_tests
from assistant.testing import ExpectedCall, SentenceFileError, check_sentences, load_sentence_file
from assistant.testing.sentences import package_skill_names

_HORN = "tests.third_party:skill"


def _write(folder: Path, text: str) -> Path:
    path = folder / "sentences.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_booleans_are_read_as_the_words_they_look_like(tmp_path: Path) -> None:
    path = _write(tmp_path, "skills: [vehicle]\ntests:\n"
                            "  - say: turn on the air conditioning\n"
                            "    call: {tool: set_air_conditioning, arguments: {on: true}}\n"
                            "  - say: yes\n"
                            "    call: none\n")
    loaded = load_sentence_file(path)
    assert loaded.skills == ("vehicle",)
    [on, yes] = loaded.cases
    assert on.expected == ExpectedCall(tool="set_air_conditioning", arguments={"on": True})
    assert (on.line, yes.say, yes.expected, yes.line) == (3, "yes", None, 5)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("tests:\n  - say: honk\n    call: none\n  - say: beep\n    cal: none\n", 5,
     "tests.1.cal: unknown key 'cal' (allowed: say, call)"),
    ("tests:\n  - say: honk\n    call: {tool: honk, argument: {}}\n", 3,
     "tests.0.call.argument: unknown key 'argument' (allowed: tool, arguments)"),
    ("test:\n  - say: honk\n", 1, "unknown key 'test' (allowed: skills, settings, tests)"),
    ("tests:\n  - say: honk\n", 2, "tests.0.call: Field required"),
    ("tests:\n  - say: honk\n    call: none\n  - say: honk\n    call: none\n", 4,
     "'honk' is tested twice (first on line 2)"),
    ("tests:\n  - say: [honk\n", 3, "invalid YAML"),
])
def test_a_malformed_file_names_its_line(tmp_path: Path, text: str, line: int,
                                         message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SentenceFileError) as raised:
        load_sentence_file(path)
    assert raised.value.code == "sentence-tests-invalid"
    assert raised.value.message.startswith(f"{path}:{line}: "), raised.value.message
    assert message in raised.value.message


def test_without_skills_the_file_tests_its_packages_skills(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "horn"\n[project.entry-points."assistant.skills"]\n'
        'horn = "horn_skill:skill"\n', encoding="utf-8")
    (tmp_path / "tests").mkdir()
    assert package_skill_names(tmp_path / "tests") == ("horn",)
    assert load_sentence_file(_write(tmp_path / "tests", "tests:\n  - say: honk\n"
                                     "    call: none\n")).skills == ("horn",)
    assert package_skill_names(Path("/")) is None


async def test_each_utterance_is_checked_against_its_call(tmp_path: Path) -> None:
    path = _write(tmp_path, f"skills: [{_HORN}, core]\ntests:\n"
                            "  - say: beep the horn\n    call: {tool: honk}\n"
                            "  - say: what time is it\n"
                            "    call: {tool: get_time, arguments: {zone: utc}}\n"
                            "  - say: honk\n    call: none\n")
    outcomes = await check_sentences(load_sentence_file(path))
    assert [outcome.passed for outcome in outcomes] == [True, False, False]
    assert outcomes[1].failure() == (f"{path}:5: 'what time is it'\n"
                                     "    expected: get_time(zone='utc')\n"
                                     "    got:      get_time() (route grammar)")
    assert outcomes[2].failure().endswith("expected: none\n    got:      honk() "
                                          "(route grammar)")


async def test_skills_test_prints_each_failure_and_fails(tmp_path: Path) -> None:
    good = _write(tmp_path, f"skills: [{_HORN}, core]\ntests:\n"
                            "  - say: beep the horn\n    call: {tool: honk, arguments: {}}\n")
    (tmp_path / "bad").mkdir()
    bad = _write(tmp_path / "bad", f"skills: [{_HORN}, core]\ntests:\n"
                                   "  - say: honk\n    call: {tool: get_time}\n")
    out, err = io.StringIO(), io.StringIO()
    assert await run_sentence_tests([good], out, err) == 0
    assert out.getvalue() == "1 passed\n"
    out = io.StringIO()
    assert await run_sentence_tests([good, bad], out, err) == 1
    assert out.getvalue() == (f"FAIL {bad}:3: 'honk'\n    expected: get_time\n"
                              "    got:      honk() (route grammar)\n1 passed, 1 failed\n")


def test_skills_test_looks_for_tests_sentences_yaml_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["skills", "test"]) == 2
    assert "no tests/sentences.yaml in" in capsys.readouterr().err
    (tmp_path / "tests").mkdir()
    _write(tmp_path / "tests", f"skills: [{_HORN}, core]\ntests:\n"
                               "  - say: what time is it\n    call: {tool: get_time}\n")
    assert main(["skills", "test"]) == 0
    assert capsys.readouterr().out == "1 passed\n"
