"""The skills' sentences nearest to a misheard command."""

from __future__ import annotations

import pytest

from assistant.nlu.understand import Understanding


@pytest.mark.parametrize(("heard", "nearest"), [
    ("Stop the blame.", "stop the lathe"),
    ("Open the pass-in to window crack.", "open the passenger window a crack"),
    ("How many parts design one made?", "how many parts has line 1 made"),
    ("Set the fan speed to tree point 5", None),  # one number heard, none in the nearest
])
def test_the_nearest_sentences_keep_the_numbers_heard(
        understanding: Understanding, heard: str, nearest: str | None) -> None:
    found = understanding.sentences.nearest(heard)
    assert found
    if nearest is not None:
        assert nearest in found[:2]
    assert all(understanding.fully_understands(sentence) for sentence in found)


def test_numbers_heard_fill_the_number_slots(understanding: Understanding) -> None:
    found = understanding.sentences.nearest("Set conveyor 2 to 50 per cent")
    assert found
    assert all(sentence.split().count("2") == 1 and "50" in sentence.split()
               for sentence in found)


def test_free_text_commands_are_not_offered(understanding: Understanding) -> None:
    assert not any(s.startswith("set the destination") for s in understanding.sentences.skeletons)
