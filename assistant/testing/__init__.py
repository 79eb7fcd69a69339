"""Test tools for the assistant and for skill authors.

- A session (:func:`open_session`, the ``assistant_session`` fixture of the pytest plugin
  :mod:`assistant.testing.plugin`): the chosen skills on their simulators in the real
  assistant; ``say`` returns the turn's reply, events and calls.
- Sentence tests (:mod:`assistant.testing.sentences`): utterances and the call each must
  decide, run by ``assistant skills test`` and collected by pytest.
- Word salad from the skills' own vocabulary, and a safety rig that drives the real
  dialogue and dispatcher on simulated back ends that fail, checking the safety rules after
  every step.

Names are imported when first used: the pytest plugin imports this package, and loading a
test session must not load the assistant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.testing.invariants import Monitor, Rule, Snapshot, Step, Violation
    from assistant.testing.rig import (
        DiskFault,
        Kind,
        Pools,
        SafetyRig,
        Utterance,
        sample_pools,
    )
    from assistant.testing.salad import SaladTally, WordSalad
    from assistant.testing.sentences import (
        ExpectedCall,
        SentenceCase,
        SentenceFile,
        SentenceFileError,
        SentenceOutcome,
        check_sentences,
        load_sentence_file,
    )
    from assistant.testing.session import (
        AWAIT_LIMIT,
        FakeClock,
        SessionFactory,
        SkillSession,
        Turn,
        open_session,
    )

__all__ = [
    "AWAIT_LIMIT",
    "DiskFault",
    "ExpectedCall",
    "FakeClock",
    "Kind",
    "Monitor",
    "Pools",
    "Rule",
    "SafetyRig",
    "SaladTally",
    "SentenceCase",
    "SentenceFile",
    "SentenceFileError",
    "SentenceOutcome",
    "SessionFactory",
    "SkillSession",
    "Snapshot",
    "Step",
    "Turn",
    "Utterance",
    "Violation",
    "WordSalad",
    "check_sentences",
    "load_sentence_file",
    "open_session",
    "sample_pools",
]

_MODULES = {
    "assistant.testing.invariants": ("Monitor", "Rule", "Snapshot", "Step", "Violation"),
    "assistant.testing.rig": ("DiskFault", "Kind", "Pools", "SafetyRig", "Utterance",
                              "sample_pools"),
    "assistant.testing.salad": ("SaladTally", "WordSalad"),
    "assistant.testing.sentences": ("ExpectedCall", "SentenceCase", "SentenceFile",
                                    "SentenceFileError", "SentenceOutcome", "check_sentences",
                                    "load_sentence_file"),
    "assistant.testing.session": ("AWAIT_LIMIT", "FakeClock", "SessionFactory",
                                  "SkillSession", "Turn", "open_session"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
