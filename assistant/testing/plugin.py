"""The pytest plugin of ``assistant.testing``, installed through the ``pytest11`` entry
point: fixtures to test a skill in a real assistant, and every ``sentences.yaml`` under
the test paths collected as tests, one per utterance.

Fixtures: ``assistant_session`` (a factory: ``async with assistant_session(["horn"]) as
s: turn = await s.say("beep")``), ``fake_clock`` (the session's clock; ``advance(s)``)
and ``audit_log`` (the session's audit log, a temporary file).

Importing this module loads no skill and trains nothing: everything heavy is imported
when a fixture or a sentence test first runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assistant.llm.base import LanguageModel
    from assistant.nlu.understand import Understanding
    from assistant.testing.sentences import SentenceCase, SentenceFile
    from assistant.testing.session import FakeClock, SessionFactory, SkillSession, SkillSpec

SENTENCE_FILE_NAME = "sentences.yaml"

_ENTRY_POINT_NAME = "assistant"
"""The plugin's name in the ``pytest11`` entry point (``pyproject.toml``)."""


def pytest_plugin_registered(plugin: object, plugin_name: str,
                             manager: pytest.PytestPluginManager) -> None:
    """Loaded once, whichever way comes first (the entry point, ``-p``, a conftest's
    ``pytest_plugins``): the other names of this module are blocked, as pluggy refuses a
    module registered twice."""
    if plugin is not sys.modules[__name__]:
        return
    for other in (_ENTRY_POINT_NAME, __name__):
        if other != plugin_name and manager.get_plugin(other) is None:
            manager.set_blocked(other)


@pytest.fixture
def fake_clock() -> FakeClock:
    """Monotonic seconds the test advances; the clock of the sessions it opens."""
    from assistant.testing.session import FakeClock

    return FakeClock()


@pytest.fixture
def audit_log(tmp_path: Path) -> Path:
    """A temporary audit log: where the sessions the test opens write theirs."""
    return tmp_path / "audit.jsonl"


@pytest.fixture
def assistant_session(fake_clock: FakeClock, audit_log: Path) -> SessionFactory:
    """Open an assistant on some skills, as an async context manager::

        async with assistant_session(["shop_lights"], settings={"shop_lights": {...}}) as s:
            turn = await s.say("turn on the shop lights")
            assert turn.calls == [("set_shop_lights", {"lit": True})]

    Skills are installed names or :class:`~assistant.skill_api.Skill` objects (one not
    installed yet); ``None`` loads every installed skill, ``builtins=True`` adds the
    assistant's own. Their ``simulate`` hooks run for the session; no language model is
    used unless ``language_model`` is given.
    """

    def open_one(
        skills: Iterable[SkillSpec] | None = None,
        *,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        builtins: bool = False,
        language_model: LanguageModel | None = None,
    ) -> AbstractAsyncContextManager[SkillSession]:
        from assistant.testing.session import open_session

        return open_session(skills, settings=settings, builtins=builtins,
                            audit_path=audit_log, clock=fake_clock,
                            language_model=language_model)

    return open_one


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name == SENTENCE_FILE_NAME:
        collected: pytest.Collector = SentenceTestFile.from_parent(parent, path=file_path)
        return collected
    return None


class SentenceTestFile(pytest.File):
    """A sentence-test file: one test per utterance."""

    _sentences: SentenceFile | None = None
    _understanding: Understanding | None = None

    def collect(self) -> Iterator[pytest.Item]:
        from assistant.testing.sentences import load_sentence_file

        self._sentences = load_sentence_file(self.path)
        for case in self._sentences.cases:
            yield SentenceTest.from_parent(self, name=case.say, case=case)

    def understanding(self) -> Understanding:
        """The file's skills on its settings, built at its first test."""
        from assistant.testing.sentences import load_sentence_file, sentence_understanding

        if self._understanding is None:
            self._sentences = self._sentences or load_sentence_file(self.path)
            self._understanding = sentence_understanding(self._sentences)
        return self._understanding


class SentenceMismatch(AssertionError):
    """An utterance decided another call than its test says."""


class SentenceTest(pytest.Item):
    """One utterance: the call it decides must be the one its line says."""

    def __init__(self, *, case: SentenceCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from assistant.testing.sentences import SentenceOutcome

        file = self.getparent(SentenceTestFile)
        if file is None:
            raise TypeError("a sentence test belongs to a sentence-test file")
        outcome = SentenceOutcome(self.case, file.understanding().decide(self.case.say))
        if not outcome.passed:
            raise SentenceMismatch(outcome.failure())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, SentenceMismatch):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"sentence: {self.case.say}"

