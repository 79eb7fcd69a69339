from __future__ import annotations

import numpy as np

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk
from assistant.config import VoiceActivityConfig
from assistant.vad import Endpoint, Endpointer, EndpointKind

FRAMES = BYTES_PER_CHUNK // 320


def _chunk(index: int, level: int) -> AudioChunk:
    rng = np.random.default_rng(index)
    samples = (rng.standard_normal(BYTES_PER_CHUNK // 2) * level).astype(np.int16)
    return AudioChunk(samples.tobytes(), index * MS_PER_CHUNK)


def _endpoints(endpointer: Endpointer, pattern: list[tuple[int, float]]) -> list[Endpoint]:
    found = []
    for index, (level, probability) in enumerate(pattern):
        endpoint = endpointer.feed(_chunk(index, level), [probability] * FRAMES)
        if endpoint is not None:
            found.append(endpoint)
    return found


def _feed(endpointer: Endpointer, pattern: list[tuple[int, float]]) -> list[tuple[str, float]]:
    return [(e.kind.value, e.timestamp_ms) for e in _endpoints(endpointer, pattern)
            if e.kind != EndpointKind.PAUSE]


def test_speech_then_quiet_ends_the_command() -> None:
    endpointer = Endpointer()
    endpointer.start(0.0)
    pattern = [(30, 0.0)] * 5 + [(3000, 0.99)] * 15 + [(30, 0.99)] * 10
    seen = _feed(endpointer, pattern)
    assert [kind for kind, _ in seen] == ["speech_started", "speech_ended"]
    ended_at = seen[-1][1]
    assert 20 * MS_PER_CHUNK <= ended_at <= 20 * MS_PER_CHUNK + 400  # VAD still says speech


def test_no_speech_times_out() -> None:
    endpointer = Endpointer(VoiceActivityConfig(no_speech_timeout_ms=1000))
    endpointer.start(0.0)
    seen = _feed(endpointer, [(30, 0.0)] * 20)
    assert seen == [("no_speech", seen[0][1])]
    assert 1000 <= seen[0][1] < 1100


def test_digital_silence_is_never_speech() -> None:
    endpointer = Endpointer(VoiceActivityConfig(no_speech_timeout_ms=800))
    endpointer.start(0.0)
    seen = _feed(endpointer, [(0, 1.0)] * 15)
    assert [kind for kind, _ in seen] == ["no_speech"]


def test_a_long_command_is_cut() -> None:
    endpointer = Endpointer(VoiceActivityConfig(max_speech_ms=1000))
    endpointer.start(0.0)
    seen = _feed(endpointer, [(3000, 0.99)] * 30)
    assert seen[-1][0] == EndpointKind.TOO_LONG.value


def test_the_lead_in_before_the_voice_is_trimmed() -> None:
    endpointer = Endpointer(VoiceActivityConfig(onset_margin_ms=100))
    endpointer.start(0.0)
    result = None
    for index, (level, probability) in enumerate([(30, 0.0)] * 8 + [(3000, 0.99)] * 10 +
                                                 [(30, 0.0)] * 8):
        result = endpointer.feed(_chunk(index, level), [probability] * FRAMES) or result
    assert result is not None and result.kind == EndpointKind.SPEECH_ENDED
    lead_in_bytes = len(result.audio) - 10 * BYTES_PER_CHUNK
    assert lead_in_bytes < 6 * BYTES_PER_CHUNK


def test_a_pause_offers_the_audio_and_the_end_names_it() -> None:
    endpointer = Endpointer(VoiceActivityConfig(pause_quiet_ms=100))
    endpointer.start(0.0)
    found = _endpoints(endpointer, [(30, 0.0)] * 5 + [(3000, 0.99)] * 15 + [(30, 0.0)] * 10)
    kinds = [e.kind for e in found]
    assert kinds == [EndpointKind.SPEECH_STARTED, EndpointKind.PAUSE, EndpointKind.SPEECH_ENDED]
    pause, end = found[1], found[2]
    assert pause.pause_id is not None
    assert end.pause_id == pause.pause_id
    assert len(pause.audio) > 10 * BYTES_PER_CHUNK


def test_voice_after_a_pause_makes_the_pause_stale() -> None:
    endpointer = Endpointer(VoiceActivityConfig(pause_quiet_ms=100))
    endpointer.start(0.0)
    pattern = ([(30, 0.0)] * 5 + [(3000, 0.99)] * 10 + [(30, 0.0)] * 2 + [(3000, 0.99)] * 10
               + [(30, 0.0)] * 10)
    found = _endpoints(endpointer, pattern)
    pauses = [e for e in found if e.kind == EndpointKind.PAUSE]
    end = found[-1]
    assert end.kind == EndpointKind.SPEECH_ENDED
    assert len(pauses) == 2
    assert end.pause_id == pauses[-1].pause_id != pauses[0].pause_id
