from __future__ import annotations

import pytest

from assistant.nlu.normalize import normalize
from assistant.nlu.slots import parse_duration


@pytest.mark.parametrize(
    ("spoken", "seconds"),
    [
        ("five minutes", 300),
        ("two and a half minutes", 150),
        ("an hour and a half", 5400),
        ("1 hour and 30 minutes", 5400),
        ("one minute thirty seconds", 90),
        ("half an hour", 1800),
        ("ninety seconds", 90),
        ("3 days", 259200),
        ("one second", 1),
        ("forty five seconds", 45),
    ],
)
def test_durations_in_words_and_digits(spoken: str, seconds: int) -> None:
    assert parse_duration(normalize(spoken).digits) == seconds


def test_a_duration_with_other_words_is_not_a_duration() -> None:
    assert parse_duration("5 minutes of fame") is None


@pytest.mark.parametrize(("unit", "said", "seconds"), [
    ("seconds", "2", 2),
    ("", "2", 2),
    ("minutes", "2", 120),
    ("minutes", "1.5", 90),
    ("hours", "1", 3600),
    ("minutes", "0", None),
    ("minutes", "2 apples", None),
    ("furlongs", "2", None),
])
def test_a_bare_number_answering_a_duration_is_in_the_slots_unit(
        unit: str, said: str, seconds: int | None) -> None:
    from assistant.dispatch.catalog import ArgSpec
    from assistant.nlu.slots import bare_duration
    from assistant.skill_api import SlotKind

    spec = ArgSpec("seconds", SlotKind.DURATION, True, None, 1, 86400, label="timer",
                   unit=unit, question="For how long?", values={})
    assert bare_duration(spec, said) == seconds
