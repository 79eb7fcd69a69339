from __future__ import annotations

import pytest

from assistant.audio.device import find_device, list_devices
from assistant.errors import AudioError


def test_a_missing_microphone_lists_the_available_ones() -> None:
    names = "; ".join(f"{i}: {n}" for i, n, _ in list_devices("input")) or "none"
    with pytest.raises(AudioError) as caught:
        find_device("No Such USB Microphone", "input")
    assert caught.value.code == "audio-input-missing"
    assert caught.value.message == \
        f"microphone 'No Such USB Microphone' not found; available: {names}"


def test_a_missing_speaker_is_named_as_a_speaker() -> None:
    with pytest.raises(AudioError, match="speaker 'Nowhere' not found"):
        find_device("Nowhere", "output")
