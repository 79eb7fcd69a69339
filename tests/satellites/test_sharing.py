"""What many satellites share: the duplicate rule and the recognizer's turns."""

from __future__ import annotations

import asyncio

from assistant.audio import AudioChunk
from assistant.satellites.sharing import (
    FairScheduler,
    FairSpeechToText,
    SatelliteWake,
    UtteranceArbiter,
)
from assistant.satellites.streams import Rechunker
from assistant.stt import FakeJudge, FakeSpeechToText
from assistant.wake import FakeWakeWord


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_same_words_in_one_area_act_once_within_the_window() -> None:
    clock = _Clock()
    arbiter = UtteranceArbiter(3.0, clock=clock)
    assert arbiter.claim("front", "car", "Open all the windows.")
    clock.now += 1.0
    assert not arbiter.claim("rear", "car", "open all the window")  # two microphones
    assert arbiter.claim("shop", "shop floor", "Open all the windows.")  # another room
    assert arbiter.claim("rear", "car", "Lock the doors.")  # another command
    clock.now += 5.0
    assert arbiter.claim("rear", "car", "Open all the windows.")  # said again, later


def test_a_satellite_never_duplicates_itself() -> None:
    arbiter = UtteranceArbiter(3.0, clock=_Clock())
    assert arbiter.claim("front", "car", "yes")
    assert arbiter.claim("front", "car", "yes")


async def test_transcriptions_take_turns_the_least_served_first() -> None:
    scheduler = FairScheduler()
    order: list[str] = []
    release = asyncio.Event()

    async def transcribe(satellite: str) -> None:
        async with scheduler.turn(satellite):
            order.append(satellite)
            await release.wait()

    first = asyncio.create_task(transcribe("a"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(transcribe(name)) for name in ("a", "b", "c")]
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *waiting), 5.0)
    assert order == ["a", "b", "c", "a"]  # "a" was served once already: it waits


async def test_a_cancelled_waiter_does_not_hold_the_recognizer() -> None:
    scheduler = FairScheduler()
    release = asyncio.Event()

    async def transcribe(satellite: str) -> str:
        async with scheduler.turn(satellite):
            await release.wait()
            return satellite

    busy = asyncio.create_task(transcribe("a"))
    await asyncio.sleep(0)
    gone = asyncio.create_task(transcribe("b"))
    later = asyncio.create_task(transcribe("c"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    assert await asyncio.wait_for(asyncio.gather(busy, later), 5.0) == ["a", "c"]


def test_any_stream_becomes_80_ms_chunks_of_16_khz_mono() -> None:
    clock = _Clock()
    rechunker = Rechunker(48000, 2, clock=clock)
    stereo = bytes(48000 * 2 * 2)  # one second of 48 kHz stereo silence
    chunks = rechunker.feed(stereo)
    assert 11 <= len(chunks) <= 13 and all(len(c.audio) == 2560 for c in chunks)
    starts = [c.timestamp_ms for c in chunks]
    assert starts == sorted(starts) and starts[1] - starts[0] == 80.0
    clock.now += 10.0  # the satellite stopped streaming for ten seconds
    later = rechunker.feed(stereo)
    assert later[0].timestamp_ms >= 9000.0  # time went on meanwhile


async def test_a_stop_jumps_the_queue() -> None:
    """Another satellite's transcription holds the recognizer: a short stop is acted on
    from the spotter's guess, a short request that is no stop waits its turn."""
    scheduler = FairScheduler()
    release = asyncio.Event()
    stt = FakeSpeechToText(lambda audio: "stop the lathe" if audio[:1] == b"s" else "hello")
    judge = FakeJudge(at_once=lambda text: "stop" in text)
    fair = FairSpeechToText(stt, scheduler, "lathe", judge=judge)

    async def hold() -> None:
        async with scheduler.turn("press"):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    heard = await asyncio.wait_for(fair.transcribe(b"s" * 16000), 1.0)
    assert heard.text == "stop the lathe"
    waiting = asyncio.create_task(fair.transcribe(b"h" * 16000))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    release.set()
    assert (await asyncio.wait_for(waiting, 1.0)).text == "hello"
    await holder


async def test_no_guess_at_a_pause_while_the_recognizer_is_busy() -> None:
    scheduler = FairScheduler()
    release = asyncio.Event()
    calls: list[bytes] = []
    stt = FakeSpeechToText(lambda audio: calls.append(audio) or "open the windows")
    fair = FairSpeechToText(stt, scheduler, "rear")

    async def hold() -> None:
        async with scheduler.turn("front"):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    guess = await asyncio.wait_for(fair.transcribe(b"o" * 64000, partial=True), 1.0)
    assert guess.text == "" and calls == []
    release.set()
    await holder
    assert (await fair.transcribe(b"o" * 64000, partial=True)).text == "open the windows"


async def test_a_local_wake_word_rests_the_hubs_detector() -> None:
    detector = FakeWakeWord(lambda chunk: True)
    wake = SatelliteWake(detector, "rear")
    chunk = AudioChunk(bytes(2560), 0.0)
    assert await wake.process(chunk) is not None  # streaming all the time: the hub listens
    heard = await wake.process(chunk)
    assert heard is not None and heard.in_stream  # its tail may sound: the VAD starts afresh
    wake.trigger()
    own = await wake.process(chunk)  # the satellite's own wake word, said before the stream:
    assert own is not None and not own.in_stream  # nothing of it for the VAD to forget
    assert await wake.process(chunk) is None  # and from then on its detector, not ours


async def test_two_transcriptions_at_once_on_two_places() -> None:
    scheduler = FairScheduler(capacity=2)
    release = asyncio.Event()
    running: list[str] = []

    async def transcribe(satellite: str) -> None:
        async with scheduler.turn(satellite):
            running.append(satellite)
            await release.wait()

    tasks = [asyncio.create_task(transcribe(name)) for name in ("a", "b", "c")]
    await asyncio.sleep(0.01)
    assert running == ["a", "b"] and scheduler.busy
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5.0)
    assert running == ["a", "b", "c"] and not scheduler.busy
