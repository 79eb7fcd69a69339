"""What the words must say for a guessed call: an argument's own name is its tool's word."""

from __future__ import annotations

from assistant.nlu.normalize import normalize
from assistant.nlu.understand import Understanding


def test_naming_the_argument_is_no_word_of_another_tool(understanding: Understanding) -> None:
    evidence = understanding.evidence
    # "level" is in the fan's sentences, not the volume's; it is the volume's argument's name
    assert evidence.objection("set_volume", normalize("volume level 10"), immediate=False) \
        is None
    # a duration's units belong to the tool that takes one
    assert evidence.objection("set_timer", normalize("countdown of 45 seconds"),
                              immediate=False) is None
    # and words of other tools still object
    assert evidence.objection("set_volume", normalize("volume of the lathe"),
                              immediate=False) is not None
