from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.wavfile import WavFileSink, WavFileSource, read_wav, write_wav
from assistant.errors import AudioError
from tests.speech import piper


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return piper("Lock the doors.")


@pytest.mark.parametrize("sox_format", [
    ["-r", "8000", "-b", "8"],
    ["-r", "44100", "-c", "2", "-b", "24"],
    ["-r", "48000", "-e", "floating-point", "-b", "32"],
    ["-r", "22050", "-c", "2", "-b", "16"],
])
def test_any_wav_becomes_16k_mono(tmp_path: Path, speech: np.ndarray,
                                  sox_format: list[str]) -> None:
    source = tmp_path / "in.wav"
    write_wav(source, speech)
    converted = tmp_path / "converted.wav"
    subprocess.run(["sox", str(source), *sox_format, str(converted)], check=True, timeout=60)
    audio = read_wav(converted)
    assert audio.dtype == np.int16
    assert abs(len(audio) - len(speech)) <= 16
    assert np.corrcoef(audio[: len(speech)].astype(float),
                       speech[: len(audio)].astype(float))[0, 1] > 0.8


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="does not exist"):
        read_wav(tmp_path / "nothing.wav")


def test_a_file_that_is_not_audio_says_how_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio at all", encoding="utf-8")
    with pytest.raises(AudioError, match="sox"):
        read_wav(path)


async def test_the_file_sink_cuts_a_reply_at_barge_in(tmp_path: Path) -> None:
    from assistant.audio import AudioChunk

    sink = WavFileSink(tmp_path / "out.wav")
    sink.set_time(1000.0)
    await sink.play(AudioChunk(bytes(32000), 0.0))  # one second of reply
    sink.set_time(1250.0)
    assert sink.playing
    await sink.stop()
    assert not sink.playing
    assert len(sink.replies()) == 4000
    await sink.aclose()
    assert len(read_wav(tmp_path / "out.wav")) == 4000


async def test_the_file_source_pads_the_end_with_silence(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, np.ones(16000, dtype=np.int16))
    source = WavFileSource(path, trailing_silence_ms=1000)
    chunks = [c async for c in source.chunks()]
    assert chunks[-1].end_ms >= 2000
    assert [c.timestamp_ms for c in chunks] == sorted(c.timestamp_ms for c in chunks)


async def test_a_realtime_file_source_gives_each_chunk_once_it_would_have_arrived(
        tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, np.ones(8000, dtype=np.int16))  # 0.5 s
    source = WavFileSource(path, trailing_silence_ms=0, realtime=True)
    began = time.perf_counter()
    late = []
    async for chunk in source.chunks():
        arrived_ms = (time.perf_counter() - began) * 1000
        assert arrived_ms >= chunk.end_ms - 5  # never before the audio was "said"
        late.append(arrived_ms - chunk.end_ms)
    assert (time.perf_counter() - began) >= 0.45
    assert max(late) < 200  # and not held back either
