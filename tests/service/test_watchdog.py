"""The watchdog is petted from the audio loop's progress: a real pipeline (fake engines) whose
microphone stops delivering stops the petting, and petting resumes when audio flows again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk
from assistant.audio.wavfile import WavFileSink
from assistant.nlu.classifier import IntentClassifier
from assistant.service import FakeNotifier, Watchdog, watchdog_interval_s
from assistant.stt import FakeSpeechToText
from assistant.tts import FakeTextToSpeech
from assistant.vad import FakeVoiceActivity
from assistant.wake import FakeWakeWord
from assistant.wiring import Engines, build_voice_pipeline
from tests.conftest import AWAIT_LIMIT


class StallingMicrophone:
    """Delivers silence in real time until ``stall`` is set, then nothing until ``resume``."""

    def __init__(self) -> None:
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.done = False

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        index = 0
        while not self.done:
            await self.flowing.wait()
            yield AudioChunk(bytes(BYTES_PER_CHUNK), index * MS_PER_CHUNK)
            index += 1
            await asyncio.sleep(0.005)

    async def aclose(self) -> None:
        self.done = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_petting_follows_progress_not_time() -> None:
    progress, clock, notifier = [0], Clock(), FakeNotifier()
    watchdog = Watchdog(lambda: progress[0], notifier, interval_s=1.0, stall_s=3.0, clock=clock)
    pets = []
    for second in range(10):
        clock.now = float(second)
        if second < 4 or second >= 8:
            progress[0] += 1  # the loop moves, stops at 4 s, moves again at 8 s
        pets.append(watchdog.tick())
    # Moving until 3 s; still within stall_s of the last move at 4, 5, 6; stalled at 7.
    assert pets == [True] * 7 + [False] + [True] * 2
    assert notifier.count("WATCHDOG=1") == 9
    assert any(state.startswith("STATUS=audio loop stalled") for _, state in notifier.sent)


def test_the_interval_is_half_of_systemds_watchdog_for_this_process() -> None:
    import os

    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}) \
        == 1.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval_s({}) is None


async def test_a_stalled_audio_loop_is_no_longer_petted(classifier: IntentClassifier,
                                                        tmp_path: Path) -> None:
    """The pipeline runs for real; the watchdog's time is a clock the test moves, and it
    looks (``tick``) when the test says: no wall-clock sleep decides the outcome."""
    microphone = StallingMicrophone()
    engines = Engines(wake=FakeWakeWord(lambda _chunk: False),
                      vad=FakeVoiceActivity(lambda _chunk: 0.0),
                      stt=FakeSpeechToText(lambda _audio: ""),
                      tts=FakeTextToSpeech(lambda _text: b""))
    session = build_voice_pipeline(source=microphone, sink=WavFileSink(None), emit=lambda _e: None,
                                   audit_path=tmp_path / "audit.jsonl", engines=engines,
                                   classifier=classifier)
    pipeline, notifier, clock = session.pipeline, FakeNotifier(), Clock()
    watchdog = Watchdog(lambda: pipeline.progress, notifier, interval_s=1.0, stall_s=3.0,
                        clock=clock)
    running = asyncio.get_running_loop().create_task(pipeline.run(), name="pipeline-under-test")

    async def a_second_passes() -> bool:
        """One second of watchdog time, in which the loop works through what it has."""
        moved = pipeline.progress
        await asyncio.wait_for(_until(lambda: pipeline.progress > moved
                                      or not microphone.flowing.is_set()), AWAIT_LIMIT)
        clock.now += 1.0
        return watchdog.tick()

    try:
        assert all([await a_second_passes() for _ in range(5)])
        microphone.flowing.clear()  # the audio loop stops making progress
        stalled = [await a_second_passes() for _ in range(5)]
        assert stalled[-2:] == [False, False] and watchdog.stalled, "petted a stalled loop"
        pets_when_stalled = notifier.count("WATCHDOG=1")
        microphone.flowing.set()
        assert await a_second_passes() and not watchdog.stalled
        assert notifier.count("WATCHDOG=1") == pets_when_stalled + 1
    finally:
        await microphone.aclose()
        microphone.flowing.set()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), AWAIT_LIMIT)
        await session.aclose()


async def _until(condition: Callable[[], bool]) -> None:
    """Polls: the pipeline has no event to wait on, only a count to look at."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.001)


def test_a_full_notify_socket_never_blocks_the_loop(tmp_path: Path,
                                                   monkeypatch: object) -> None:
    import socket
    import time

    from assistant.service import SystemdNotifier

    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as unread:
        unread.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))  # type: ignore[attr-defined]
        notifier = SystemdNotifier()
        started = time.monotonic()
        for _ in range(1000):  # far more than the kernel queues (max_dgram_qlen)
            notifier.notify("WATCHDOG=1")
        assert time.monotonic() - started < 1.0
