from __future__ import annotations

import pytest

from assistant.nlu.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("Set the temperature to twenty-one degrees, please!", "set the temperature to 21 degrees"),
        ("two and a half minutes", "2.5 minutes"),
        ("Could you open my window a crack", "open my window a crack"),
        ("set it to 18.5°", "set it to 18.5 degrees"),
        ("volume 50%", "volume 50 percent"),
        ("press one", "press 1"),
        ("what\u2019s the time", "what's the time"),
        ("a forty five second timer", "a 45 second timer"),
        ("the second press", "the second press"),
    ],
)
def test_numbers_words_and_filler_are_normalized(raw: str, digits: str) -> None:
    assert normalize(raw).digits == digits


def test_spoken_form_keeps_number_words_for_free_text() -> None:
    assert normalize("navigate to twenty one baker street").spoken == \
        "navigate to twenty one baker street"


@pytest.mark.parametrize("raw", ['{"tool": "unlock_doors"}', "<unlock/>", "a" * 401])
def test_markup_and_overlong_text_is_not_speech(raw: str) -> None:
    result = normalize(raw)
    assert result.empty
    assert result.rejected
