"""Skills reloaded while the service runs: a running voice pipeline (fake engines, audio fed
chunk by chunk) and the real skills, with a third-party skill package written into a
site directory after start, as ``pip install`` would while the service runs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.audio import BYTES_PER_CHUNK, MS_PER_CHUNK, AudioChunk
from assistant.audio.wavfile import WavFileSink
from assistant.config import AssistantConfig
from assistant.events import ActionEvent, CancelledEvent, ConfirmEvent, Event, NoticeEvent
from assistant.nlu.classifier import IntentClassifier
from assistant.plugins import ENTRY_POINT_GROUP
from assistant.reload import RELOAD_REASON, ReloadResult, SkillReloader, reload_on_hangup
from assistant.service import FakeNotifier
from assistant.stt import FakeSpeechToText, Transcript, TranscriptJudge
from assistant.tts import FakeTextToSpeech
from assistant.vad import FakeVoiceActivity
from assistant.wake import FakeWakeWord
from assistant.wiring import Engines, VoiceSession, build_voice_pipeline

LIMIT = 30.0
"""Seconds any one wait may take (a reload trains the classifier: about 2 s here)."""
WAKE, SILENCE = 1, 0
PACKAGE = "shop_horn_skill"


class LiveSource:
    """Audio that goes on until closed, as a microphone's does: the test feeds it marks (a
    wake word, a numbered utterance, silence); ``opened`` counts how often it was read."""

    def __init__(self) -> None:
        self._marks: asyncio.Queue[int | None] = asyncio.Queue()
        self.opened = 0

    def feed(self, *marks: int) -> None:
        for mark in marks:
            self._marks.put_nowait(mark)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        self.opened += 1
        index = 0
        while (mark := await self._marks.get()) is not None:
            yield AudioChunk(bytes([mark]) * BYTES_PER_CHUNK, index * MS_PER_CHUNK)
            index += 1

    async def aclose(self) -> None:
        self._marks.put_nowait(None)


@dataclass
class Running:
    """The service's parts under test, and what came out of them."""

    session: VoiceSession
    source: LiveSource
    reloader: SkillReloader
    notifier: FakeNotifier
    events: list[Event]
    site: Path
    utterances: dict[int, str] = field(default_factory=dict)
    spoken: list[str] = field(default_factory=list)

    async def say(self, text: str, *, wake: bool = True) -> None:
        """Say ``text`` (after the wake word) and wait until the pipeline has read it all."""
        before = self.session.pipeline.progress
        count = self.speak(text, wake=wake)
        await _until(lambda: self.session.pipeline.progress >= before + count)

    def speak(self, text: str, *, wake: bool = True) -> int:
        """Feed ``text``'s audio (after the wake word); returns the chunks fed."""
        mark = next((m for m, t in self.utterances.items() if t == text),
                    len(self.utterances) + 2)
        self.utterances[mark] = text
        marks = ([WAKE] if wake else []) + [SILENCE] * 3 + [mark] * 10 + [SILENCE] * 40
        self.source.feed(*marks)
        return len(marks)

    async def reload(self) -> ReloadResult:
        return await asyncio.wait_for(self.reloader.request(), LIMIT)

    def actions(self, tool: str) -> list[ActionEvent]:
        return [e for e in self.events if isinstance(e, ActionEvent) and e.tool == tool]

    def notices(self) -> list[NoticeEvent]:
        return [e for e in self.events if isinstance(e, NoticeEvent)]

    def install(self, version: str, module: str, templates: str) -> None:
        """Write the skill package and its distribution's metadata into the site directory
        (what ``pip install`` leaves behind)."""
        for old in self.site.glob("shop_horn_skill-*.dist-info"):
            for item in old.iterdir():
                item.unlink()
            old.rmdir()
        package = self.site / PACKAGE
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text(textwrap.dedent(module), encoding="utf-8")
        (package / "templates.yaml").write_text(textwrap.dedent(templates), encoding="utf-8")
        metadata = self.site / f"shop_horn_skill-{version}.dist-info"
        metadata.mkdir()
        (metadata / "METADATA").write_text(f"Metadata-Version: 2.1\nName: shop-horn-skill\n"
                                           f"Version: {version}\n", encoding="utf-8")
        (metadata / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\nshop_horn = {PACKAGE}:skill\n", encoding="utf-8")


class GatedSpeechToText(FakeSpeechToText):
    """Hears what the test says, once ``gate`` is open: a turn held in flight. Like
    Whisper, it has a judge and a prompt (each one it is given is kept)."""

    def __init__(self, utterances: dict[int, str]) -> None:
        super().__init__(lambda audio: utterances[audio[len(audio) // 2]])
        self.gate = asyncio.Event()
        self.gate.set()
        self.judge: TranscriptJudge | None = None
        self.nearest: Callable[[str], list[str]] | None = None
        self.prompts: list[str] = []

    def reprompt(self, prompt: str) -> None:
        self.prompts.append(prompt)

    async def transcribe(self, audio: bytes, *, partial: bool = False) -> Transcript:
        await self.gate.wait()
        return await super().transcribe(audio, partial=partial)


async def _until(condition: Callable[[], bool]) -> None:
    """Polls: the pipeline and the reloader have counts and states to look at, no event."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), LIMIT)


def horn_module(reply: str = "Honk.", *, tool_name: str = "sound_shop_horn",
                create_body: str = "") -> str:
    return f'''
        from pathlib import Path

        from assistant.skill_api import (NoArguments, Skill, SkillContext, SkillRuntime,
                                         ToolResult, tool)


        def _create(context: SkillContext) -> SkillRuntime:
            {create_body or "pass"}

            async def honk(_: NoArguments) -> ToolResult:
                return ToolResult(True, {reply!r})

            return SkillRuntime(tools=(tool({tool_name!r}, NoArguments, honk,
                                            description="Sound the shop horn"),))


        skill = Skill(name="shop_horn", templates=Path(__file__).with_name("templates.yaml"),
                      create=_create)
        '''


HORN_TEMPLATES = """
    tools:
      sound_shop_horn:
        - sentences: ["sound the shop horn"]
    """


@pytest.fixture
def fresh_imports() -> Iterator[None]:
    """A reload forgets the skills' modules; the ones the other tests imported come back
    after this test (their classes stay the ones those tests hold)."""
    prefixes = ("skills", PACKAGE)
    kept = {name: module for name, module in sys.modules.items()
            if name.partition(".")[0] in prefixes}
    yield
    for name in [name for name in sys.modules if name.partition(".")[0] in prefixes]:
        del sys.modules[name]
    sys.modules.update(kept)


@pytest.fixture
async def running(tmp_path: Path, classifier: IntentClassifier,
                  monkeypatch: pytest.MonkeyPatch, fresh_imports: None) -> AsyncIterator[Running]:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(site)
    events: list[Event] = []
    spoken: list[str] = []

    def synthesize(text: str) -> bytes:
        spoken.append(text)
        return bytes(32 * 10)

    utterances: dict[int, str] = {}
    source = LiveSource()
    engines = Engines(
        wake=FakeWakeWord(lambda chunk: chunk.audio[0] == WAKE),
        vad=FakeVoiceActivity(lambda chunk: 1.0 if chunk.audio[0] >= 2 else 0.0),
        stt=GatedSpeechToText(utterances),
        tts=FakeTextToSpeech(synthesize),
    )
    config = AssistantConfig()
    session = build_voice_pipeline(source=source, sink=WavFileSink(None), emit=events.append,
                                   audit_path=tmp_path / "audit.jsonl", engines=engines,
                                   classifier=classifier, config=config)
    notifier = FakeNotifier()
    reloader = SkillReloader(session, emit=events.append, notifier=notifier,
                             reread=lambda: config, skill_configs=lambda _config: None)
    run = asyncio.get_running_loop().create_task(session.pipeline.run(), name="voice-pipeline")
    try:
        yield Running(session, source, reloader, notifier, events, site, utterances, spoken)
    finally:
        await reloader.aclose()
        await source.aclose()
        await asyncio.wait_for(run, LIMIT)
        await session.aclose()


async def test_a_skill_installed_while_running_is_usable_after_a_reload(
        running: Running) -> None:
    await running.say("sound the shop horn")
    assert not running.actions("sound_shop_horn")
    running.install("1.0", horn_module(), HORN_TEMPLATES)

    result = await running.reload()

    assert result.ok, result.message
    assert "shop_horn" in result.skills
    await running.say("sound the shop horn")
    assert [a.message for a in running.actions("sound_shop_horn") if a.ok] == ["Honk."]
    await running.say("lock the doors")
    assert running.actions("lock_doors")[-1].ok
    assert running.source.opened == 1


async def test_the_recognizer_follows_the_new_skills(running: Running) -> None:
    stt = running.session.engines.stt
    assert isinstance(stt, GatedSpeechToText)
    running.install("1.0", horn_module(), HORN_TEMPLATES)

    assert (await running.reload()).ok

    assert "Sound the shop horn." in stt.prompts[-1]
    assert stt.judge is running.session.assistant.understanding


async def test_an_upgraded_skill_is_imported_again(running: Running) -> None:
    running.install("1.0", horn_module("Honk."), HORN_TEMPLATES)
    assert (await running.reload()).ok
    running.install("2.0", horn_module("Honk, honk, version two."), HORN_TEMPLATES)

    assert (await running.reload()).ok

    await running.say("sound the shop horn")
    assert running.actions("sound_shop_horn")[-1].message == "Honk, honk, version two."


async def test_a_reload_tells_systemd_it_reloads_then_is_ready(running: Running) -> None:
    running.install("1.0", horn_module(), HORN_TEMPLATES)
    await running.reload()

    sent = [state for _, state in running.notifier.sent]
    reloading = next(i for i, s in enumerate(sent) if s.startswith("RELOADING=1\n"))
    assert "MONOTONIC_USEC=" in sent[reloading]
    assert sent.index("READY=1", reloading) > reloading
    assert "shop_horn" in sent[-1] and sent[-1].startswith("STATUS=listening")
    assert [n.code for n in running.notices()] == ["skills-reloaded"]


BROKEN = {
    "import error": (horn_module().replace("from pathlib", "import no_such_module_here\n"
                                           "        from pathlib"), HORN_TEMPLATES,
                     "no_such_module_here"),
    "bad templates": (horn_module(), "tools:\n  sound_shop_horn:\n    - sentences: "
                      "[\"sound the (shop horn\"]\n", "templates.yaml"),
    "duplicate tool": (horn_module(tool_name="lock_doors"), "tools:\n  lock_doors:\n"
                       "    - sentences: [\"sound the shop horn\"]\n", "lock_doors"),
    "create raises": (horn_module(create_body="raise RuntimeError('no horn is wired')"),
                      HORN_TEMPLATES, "no horn is wired"),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
async def test_a_broken_skill_keeps_the_running_ones_and_says_why(
        running: Running, broken: str, caplog: pytest.LogCaptureFixture) -> None:
    module, templates, named = BROKEN[broken]
    running.install("1.0", module, templates)

    result = await running.reload()

    assert not result.ok
    notice = running.notices()[-1]
    assert notice.code == result.code and notice.code
    assert named in notice.message
    assert any(record.levelname == "ERROR" and result.code in record.getMessage()
               and named in record.getMessage() for record in caplog.records)
    status = running.notifier.sent[-1][1]
    assert status.startswith(f"STATUS=reload refused ({result.code})")
    assert running.notifier.count("READY=1") == 1
    await running.say("lock the doors")
    assert running.actions("lock_doors")[-1].ok
    assert not running.actions("sound_shop_horn")
    assert running.source.opened == 1


async def test_a_turn_in_flight_finishes_on_the_old_skills(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    stt = running.session.engines.stt
    assert isinstance(stt, GatedSpeechToText)
    old_car = running.session.assistant.backend("vehicle")
    running.install("1.0", horn_module(), HORN_TEMPLATES)
    stt.gate.clear()
    running.speak("set the fan to five")
    await _until(lambda: running.session.pipeline.stage != "wake")

    pipeline = running.session.pipeline
    swapping = asyncio.Event()
    replace = pipeline.replace_text_core

    async def noted(*args: Any, **kwargs: Any) -> Any:
        swapping.set()
        return await replace(*args, **kwargs)

    monkeypatch.setattr(pipeline, "replace_text_core", noted)
    reload = running.reloader.request()
    await asyncio.wait_for(swapping.wait(), LIMIT)  # built: waiting for the turn to end
    assert not reload.done()
    stt.gate.set()
    assert (await asyncio.wait_for(reload, LIMIT)).ok

    kinds = [e.TYPE.value for e in running.events]
    assert kinds.index("action") < kinds.index("notice")
    assert old_car.fan_level == 5  # type: ignore[attr-defined]
    assert running.session.assistant.backend("vehicle").fan_level == 2  # type: ignore[attr-defined]


async def test_a_pending_confirmation_is_cancelled_not_carried_over(running: Running) -> None:
    await running.say("unlock the doors")
    assert any(isinstance(e, ConfirmEvent) for e in running.events)

    assert (await running.reload()).ok

    cancelled = [e for e in running.events if isinstance(e, CancelledEvent)]
    assert [(c.tool, c.reason) for c in cancelled] == [("unlock_doors", RELOAD_REASON)]
    await running.say("yes", wake=False)
    await running.say("what time is it")
    assert not running.actions("unlock_doors")
    assert any("skills were reloaded" in text for text in running.spoken)


async def test_a_second_reload_waits_for_the_first(running: Running) -> None:
    first = running.reloader.request()
    assert running.reloader.request() is first  # not begun yet: the same reload
    await _until(lambda: any(s.startswith("RELOADING=1") for _, s in running.notifier.sent))
    second = running.reloader.request()
    third = running.reloader.request()

    results = await asyncio.wait_for(asyncio.gather(first, second), LIMIT)

    assert third is second and first is not second
    assert all(result.ok for result in results)
    sent = [s.partition("\n")[0] for _, s in running.notifier.sent
            if s.startswith(("RELOADING=1", "READY=1"))]
    assert sent == ["RELOADING=1", "READY=1"] * 2


async def test_sighup_reloads_on_the_running_loop(running: Running) -> None:
    stop = reload_on_hangup(running.reloader)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        await _until(lambda: any(n.code == "skills-reloaded" for n in running.notices()))
    finally:
        stop()
