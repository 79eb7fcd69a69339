"""``assistant wyoming`` through the real ``wyoming`` client, as Home Assistant uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.intent import Intent, NotRecognized, Recognize
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection, NotDetected

from assistant.cli.wyoming import serve_wyoming
from assistant.config import AssistantConfig
from assistant.service import FakeNotifier
from tests.satellites.conftest import free_port
from tests.speech import piper, session

LIMIT = 60.0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[int, AssistantConfig]]:
    port = free_port()
    config = AssistantConfig.model_validate({
        "language_model": {"name": "none"},
        "service": {"audit_log": str(tmp_path / "audit.jsonl")},
        "wyoming": {"services": ["asr", "tts", "wake", "intent", "handle"]}})
    started = asyncio.Event()
    task = asyncio.get_running_loop().create_task(serve_wyoming(
        config, uri=f"tcp://127.0.0.1:{port}", notifier=FakeNotifier(), started=started),
        name="wyoming-server")
    await asyncio.wait_for(started.wait(), LIMIT)
    yield port, config
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _ask(client: AsyncTcpClient, *events: Event) -> Event:
    for event in events:
        await client.write_event(event)
    answer = await asyncio.wait_for(client.read_event(), LIMIT)
    assert answer is not None
    return answer


async def _send_audio(client: AsyncTcpClient, samples: bytes) -> None:
    await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
    for start in range(0, len(samples), 2048):
        await client.write_event(AudioChunk(rate=16000, width=2, channels=1,
                                            audio=samples[start:start + 2048]).event())
    await client.write_event(AudioStop().event())


async def test_describe_intent_handle_and_synthesize(
        server: tuple[int, AssistantConfig]) -> None:
    port, _ = server
    async with AsyncTcpClient("127.0.0.1", port) as client:
        info = Info.from_event(await _ask(client, Describe().event()))
        assert [p.name for p in info.asr] == ["assistant-whisper"]
        assert info.tts[0].voices[0].name == "piper-en_US-joe-medium"
        assert info.wake[0].models[0].name == "hey_jarvis"
        assert info.intent and info.handle

        intent = Intent.from_event(await _ask(client, Recognize(text="set the fan to 3").event()))
        assert (intent.name, {e.name: e.value for e in intent.entities}) == \
            ("set_fan_speed", {"level": 3})
        assert NotRecognized.is_type((await _ask(
            client, Recognize(text="what is the meaning of life").event())).type)

        context = {"conversation_id": "kitchen"}
        asked = await _ask(client, Transcript(text="unlock the doors", context=context).event())
        assert asked.type == "handled" and asked.data["text"].endswith("Are you sure?")
        done = await _ask(client, Transcript(text="yes", context=context).event())
        assert (done.type, done.data["text"]) == ("handled", "Doors unlocked.")
        elsewhere = await _ask(client, Transcript(text="yes", context={
            "conversation_id": "garage"}).event())
        assert elsewhere.type == "not-handled"

        first = await _ask(client, Synthesize(text="Doors unlocked.").event())
        assert AudioStart.is_type(first.type)
        chunks = 0
        while not AudioStop.is_type((event := await _ask(client)).type):
            assert AudioChunk.is_type(event.type)
            chunks += len(AudioChunk.from_event(event).audio)
        assert chunks > 10_000


async def test_a_wav_transcribed_and_a_wake_word_detected(
        server: tuple[int, AssistantConfig]) -> None:
    port, _ = server
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe().event())
        spoken = piper("Set the temperature to twenty one degrees.")
        await _send_audio(client, session([0.3, spoken, 0.5]).tobytes())
        heard = Transcript.from_event(await _ask(client))
        assert "temperature to 21" in heard.text.lower()

        await client.write_event(Detect(names=["hey_jarvis"]).event())
        await _send_audio(client, session([1.0, piper("Hey Jarvis."), 1.0]).tobytes())
        assert Detection.from_event(await _ask(client)).name == "hey_jarvis"
        await client.write_event(Detect().event())
        await _send_audio(client, session([1.0, piper("Good morning."), 1.0]).tobytes())
        assert NotDetected.is_type((await _ask(client)).type)


async def test_what_is_not_offered_is_refused(tmp_path: Path) -> None:
    port = free_port()
    config = AssistantConfig.model_validate({
        "language_model": {"name": "none"}, "wyoming": {"services": ["intent"]},
        "service": {"audit_log": str(tmp_path / "audit.jsonl")}})
    started = asyncio.Event()
    task = asyncio.get_running_loop().create_task(serve_wyoming(
        config, uri=f"tcp://127.0.0.1:{port}", notifier=FakeNotifier(), started=started),
        name="wyoming-server")
    try:
        await asyncio.wait_for(started.wait(), LIMIT)
        async with AsyncTcpClient("127.0.0.1", port) as client:
            info = Info.from_event(await _ask(client, Describe().event()))
            assert info.intent and not (info.asr or info.tts or info.wake or info.handle)
            refused = await _ask(client, Transcript(text="unlock the doors").event())
            assert refused.type == "error" and "handle is not offered" in refused.data["text"]
            assert Intent.is_type((await _ask(client, Recognize(text="lock the doors").event()
                                           )).type)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
