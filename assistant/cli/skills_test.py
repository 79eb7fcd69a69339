"""``assistant skills test [PATH ...]``: run sentence-test files (default
``tests/sentences.yaml`` here) against the installed skills; each failure is printed with
its file, line, the expected call and the decided one. Exit status 1 when any fails."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from assistant.config import LanguageModelConfig
from assistant.errors import AssistantError

__all__ = ["run_sentence_tests"]


async def run_sentence_tests(paths: Sequence[Path], out: TextIO, err: TextIO, *,
                             language_model: LanguageModelConfig | None = None) -> int:
    """Check every file; returns the exit status (0 all passed, 1 some failed). The
    language model decides what the templates and the classifier leave undecided only when
    ``language_model`` is given."""
    from assistant.llm.setup import attach_language_model
    from assistant.testing.sentences import (
        DEFAULT_PATH,
        check_sentences,
        load_sentence_file,
        sentence_understanding,
    )

    if not paths:
        if not DEFAULT_PATH.is_file():
            raise AssistantError("sentence-tests-missing", f"no {DEFAULT_PATH} in "
                                 f"{Path.cwd()}; give the file's path, or write one "
                                 "(tests: [{say: ..., call: {tool: ..., arguments: {...}}}])")
        paths = [DEFAULT_PATH]
    passed = failed = 0
    for path in paths:
        sentences = load_sentence_file(path)
        understanding = sentence_understanding(sentences)
        last_tier = (attach_language_model(understanding, language_model)
                     if language_model is not None else None)
        if last_tier is not None and last_tier.notice:
            err.write(f"assistant: {last_tier.notice}\n")
        try:
            outcomes = await check_sentences(sentences, understanding=understanding)
        finally:
            if last_tier is not None:
                await last_tier.aclose()
        for outcome in outcomes:
            if outcome.passed:
                passed += 1
            else:
                failed += 1
                out.write(f"FAIL {outcome.failure()}\n")
    out.write(f"{passed} passed, {failed} failed\n" if failed else f"{passed} passed\n")
    return 1 if failed else 0
