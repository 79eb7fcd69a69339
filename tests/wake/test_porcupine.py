"""Porcupine at its adapter boundary: its AccessKey is validated online, so it is refused here."""

from __future__ import annotations

import pytest

from assistant.errors import WakeWordError
from assistant.wake.porcupine import PorcupineDetector

pytest.importorskip("pvporcupine")


def test_no_access_key_says_where_to_get_one() -> None:
    with pytest.raises(WakeWordError) as caught:
        PorcupineDetector("")
    assert caught.value.code == "wake-porcupine-no-key"
    assert "AccessKey" in caught.value.message


def test_an_invalid_access_key_is_translated_at_the_boundary() -> None:
    with pytest.raises(WakeWordError) as caught:
        PorcupineDetector("not-a-real-access-key", "jarvis")
    assert caught.value.code == "wake-porcupine-failed"
    assert caught.value.__cause__ is not None
