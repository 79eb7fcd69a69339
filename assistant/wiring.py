"""The one place the assistant is put together, for chat, parse, run, serve and demo: the
skills and the text core (understanding, dispatcher, dialogue, audit), the engines with
their checked models, and the voice pipeline joining them."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.audio import AudioSink, AudioSource
from assistant.dialogue import CONFIRM_SECONDS, Dialogue
from assistant.dispatch.audit import AuditLog
from assistant.dispatch.dispatcher import Dispatcher
from assistant.events import ErrorEvent, EventSink, ReplyEvent, TurnEvents
from assistant.llm.base import LanguageModel
from assistant.llm.setup import LanguageModelSettings, try_language_model
from assistant.manifest import ModelManifest
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.slm import prompt_prefix
from assistant.nlu.understand import Understanding
from assistant.pipeline import PipelineSettings, StreamClock, VoicePipeline
from assistant.plugins import LoadedSkills, close_backends, discover_skills, load_skills
from assistant.stt import SpeechToText
from assistant.stt.vocabulary import command_prompt, vosk_phrases
from assistant.tts import TextToSpeech
from assistant.vad import Endpointer, EndpointSettings, MicroVadActivity, VoiceActivity
from assistant.wake import PhraseSupport, WakeWordDetector

__all__ = [
    "Assistant",
    "Engines",
    "Notices",
    "VoiceSession",
    "VoiceSettings",
    "build_assistant",
    "build_engines",
    "build_understanding",
    "build_voice_pipeline",
    "default_audit_path",
]


def default_audit_path() -> Path:
    """``$ASSISTANT_AUDIT_LOG``, else the user's state directory."""
    configured = os.environ.get("ASSISTANT_AUDIT_LOG")
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "assistant" / "audit.jsonl"


def build_understanding(
    enabled: Collection[str] | None = None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    notify: Callable[[str], None] = lambda _text: None,
    classifier: IntentClassifier | None = None,
) -> tuple[LoadedSkills, Understanding]:
    """Load the skills and build the tiers (a trained classifier may be reused)."""
    loaded = load_skills(discover_skills(enabled), configs, notify)
    return loaded, Understanding(loaded.catalog, loaded.sentences, classifier=classifier)


class Notices:
    """What the skills say unprompted (a timer rang), kept for the voice pipeline to speak
    between turns; each is also a ``reply`` event when it is said."""

    def __init__(self) -> None:
        self._waiting: deque[str] = deque(maxlen=16)

    def put(self, text: str) -> None:
        self._waiting.append(text)

    def drain(self) -> list[str]:
        texts = list(self._waiting)
        self._waiting.clear()
        return texts


@dataclass
class Assistant:
    skills: LoadedSkills
    understanding: Understanding
    dispatcher: Dispatcher
    dialogue: Dialogue
    audit: AuditLog
    notices: Notices = field(default_factory=Notices)

    def backend(self, skill: str) -> object:
        return self.skills.runtimes[skill].backend

    async def aclose(self) -> None:
        """Close the skills' back ends (bus connections), then the audit log."""
        try:
            await close_backends(self.skills.runtimes)
        finally:
            self.audit.close()


def build_assistant(
    emit: EventSink,
    *,
    audit_path: Path | None = None,
    enabled: Collection[str] | None = None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    now_ms: Callable[[], float] | None = None,
    clock: Callable[[], float] = time.monotonic,
    confirm_seconds: float = CONFIRM_SECONDS,
    classifier: IntentClassifier | None = None,
    audit: AuditLog | None = None,
) -> Assistant:
    """Everything the text core needs, wired; the skills' notices become reply events.
    ``audit`` is a log of the caller's (``audit_path`` is then not used)."""
    started = clock()
    timestamp = now_ms or (lambda: (clock() - started) * 1000.0)

    notices = Notices()

    def notify(text: str) -> None:
        emit(ReplyEvent(t_ms=timestamp(), text=text))
        notices.put(text)

    loaded, understanding = build_understanding(enabled, configs, notify, classifier)
    audit = audit or AuditLog(audit_path or default_audit_path())
    events = TurnEvents(emit)
    dispatcher = Dispatcher(loaded.catalog, audit, events, timestamp)
    dialogue = Dialogue(understanding, dispatcher, events, now_ms=timestamp, clock=clock,
                        confirm_seconds=confirm_seconds)
    return Assistant(loaded, understanding, dispatcher, dialogue, audit, notices)


@dataclass(frozen=True)
class VoiceSettings:
    """Which engines and models, and how they listen. Units in the field names."""

    wake_engine: Literal["openwakeword", "porcupine"] = "openwakeword"
    wake_model: str = "hey_jarvis"
    """A packaged openWakeWord model name, or a path to a .tflite file."""
    wake_threshold: float = 0.5
    wake_threshold_while_speaking: float = 0.9
    wake_refractory_ms: float = 2000.0
    wake_candidate_threshold: float = 0.1
    """A fainter score than ``wake_threshold`` wakes only if the speech recognizer also hears
    the wake phrase there (openWakeWord with Whisper); at ``wake_threshold``: never."""
    wake_phrase: str = ""
    """The words the wake model listens for; by default from a packaged model's name."""
    wake_verify_log_probability: float = -5.0
    """Mean token log-probability of the wake phrase that confirms a faint wake word."""
    porcupine_access_key: str = ""
    porcupine_keyword: str = "jarvis"
    stt_engine: Literal["whisper", "vosk"] = "whisper"
    whisper_model: str = "whisper-tiny.en"
    """A manifest name, or a CTranslate2 model directory."""
    whisper_fallback: str = "whisper-base"
    """A second Whisper model for text the first one's is not understood; "none" for none."""
    whisper_window_s: float = 10.0
    """Seconds of audio Whisper's encoder looks at (10-30). With the command prompt, 10 s
    is as accurate as 30 s on held-out voices and a third of the time."""
    whisper_nearest: bool = False
    """Correct text nobody understands to the nearest skill sentence the audio supports
    (read back, never acted on silently). Off: it costs 1.3-2 s and helps little."""
    vosk_model_dir: Path | None = None
    vosk_restrict_to_skills: bool = True
    tts_voice: str = "piper-en_US-joe-medium"
    """A manifest name, or a path to a Piper .onnx voice."""
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    language_model: LanguageModelSettings = field(default_factory=LanguageModelSettings)


@dataclass
class Engines:
    wake: WakeWordDetector
    stt: SpeechToText
    tts: TextToSpeech
    vad: VoiceActivity
    language_model: LanguageModel | None = None
    language_model_problem: str = ""
    """Why the configured language model is not used (said once at start-up)."""
    language_model_settings: LanguageModelSettings = field(
        default_factory=LanguageModelSettings)

    def attach_model_to(self, understanding: Understanding) -> None:
        """Make the language model (loaded once for all sessions) ``understanding``'s last
        tier."""
        if self.language_model is not None:
            understanding.attach_model(
                self.language_model, budget_s=self.language_model_settings.budget_ms / 1000.0)

    async def aclose(self) -> None:
        for engine in (self.wake, self.stt, self.tts, self.vad, self.language_model):
            if engine is not None:
                await engine.aclose()


def build_engines(settings: VoiceSettings, assistant: Assistant, *,
                  paced: bool = False) -> Engines:
    """Load every engine once, with its model checked against the manifest. ``paced``
    (a microphone, or a file at its pace): the stop spotter listens while a turn is
    worked on, with a second tiny.en worker of its own (~18 MB)."""
    manifest = ModelManifest.load()
    sentences = assistant.understanding.sentences  # built now, not at the first pause
    stt: SpeechToText
    verify: PhraseSupport | None = None
    if settings.stt_engine == "vosk":
        from assistant.stt.vosk import VoskSpeechToText

        if settings.vosk_model_dir is None:
            from assistant.errors import SpeechToTextError

            raise SpeechToTextError(
                "stt-model-missing",
                "the Vosk engine needs a model "
                "directory (vosk_model_dir), e.g. vosk-model-small-en-us-0.15",
            )
        phrases = (vosk_phrases(assistant.understanding.matcher.vocabulary)
                   if settings.vosk_restrict_to_skills else None)
        stt = VoskSpeechToText(settings.vosk_model_dir, phrases=phrases)
    else:
        from assistant.stt.whisper import WhisperSpeechToText

        whisper = WhisperSpeechToText(
            settings.whisper_model,
            fallback=None if settings.whisper_fallback == "none" else settings.whisper_fallback,
            prompt=command_prompt(assistant.skills.sentences,
                                  assistant.understanding.catalog),
            window_s=settings.whisper_window_s,
            judge=assistant.understanding,
            spotting=paced,
            nearest=sentences.nearest if settings.whisper_nearest else None,
            manifest=manifest,
        )
        stt, verify = whisper, whisper.phrase_support
    wake: WakeWordDetector
    if settings.wake_engine == "porcupine":
        from assistant.wake.porcupine import PorcupineDetector

        wake = PorcupineDetector(
            settings.porcupine_access_key,
            settings.porcupine_keyword,
            refractory_ms=settings.wake_refractory_ms,
        )
    else:
        from assistant.wake.openwakeword import OpenWakeWordDetector

        wake = OpenWakeWordDetector(
            settings.wake_model,
            threshold=settings.wake_threshold,
            strict_threshold=settings.wake_threshold_while_speaking,
            refractory_ms=settings.wake_refractory_ms,
            candidate_threshold=settings.wake_candidate_threshold,
            verify=verify,
            phrase=settings.wake_phrase,
            verify_log_probability=settings.wake_verify_log_probability,
            manifest=manifest,
        )
    from assistant.tts.piper import PiperTextToSpeech

    tts = PiperTextToSpeech(settings.tts_voice, manifest=manifest)
    model, notice = try_language_model(settings.language_model,
                                       prompt_prefix(assistant.understanding.catalog))
    return Engines(wake=wake, stt=stt, tts=tts, vad=MicroVadActivity(), language_model=model,
                   language_model_problem=notice, language_model_settings=settings.language_model)


@dataclass
class VoiceSession:
    pipeline: VoicePipeline
    assistant: Assistant
    engines: Engines

    async def aclose(self) -> None:
        try:
            await self.engines.aclose()
        finally:
            await self.assistant.aclose()


def build_voice_pipeline(
    *,
    source: AudioSource,
    sink: AudioSink,
    emit: EventSink,
    settings: VoiceSettings | None = None,
    audit_path: Path | None = None,
    enabled: Collection[str] | None = None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    paced: bool = False,
    engines: Engines | None = None,
    classifier: IntentClassifier | None = None,
    confirm_seconds: float = CONFIRM_SECONDS,
) -> VoiceSession:
    """The text core on the stream clock, the engines, and the pipeline joining them."""
    settings = settings or VoiceSettings()
    clock = StreamClock()
    assistant = build_assistant(
        emit,
        audit_path=audit_path,
        enabled=enabled,
        configs=configs,
        now_ms=clock.ms,
        clock=clock.seconds,
        classifier=classifier,
        confirm_seconds=confirm_seconds,
    )
    engines = engines or build_engines(settings, assistant, paced=paced)
    engines.attach_model_to(assistant.understanding)
    if engines.language_model_problem:
        emit(ErrorEvent(t_ms=0.0, code="slm-unavailable", message=engines.language_model_problem))
    pipeline = VoicePipeline(
        source=source,
        sink=sink,
        wake=engines.wake,
        vad=engines.vad,
        stt=engines.stt,
        tts=engines.tts,
        dialogue=assistant.dialogue,
        clock=clock,
        emit=emit,
        endpointer=Endpointer(settings.endpoint),
        settings=PipelineSettings(paced=paced),
        transcripts=assistant.understanding,
        notices=assistant.notices,
    )
    return VoiceSession(pipeline, assistant, engines)
