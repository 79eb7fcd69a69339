"""The one place the assistant is put together, for chat, parse, run, serve and demo: the
skills and the text core (understanding, dispatcher, dialogue, audit), the engines with
their checked models, and the voice pipeline joining them."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.audio import AudioSink, AudioSource
from assistant.config import (
    AssistantConfig,
    LanguageModelConfig,
    SpeechToTextConfig,
    WakeConfig,
)
from assistant.dialogue import Dialogue
from assistant.dispatch.audit import AuditLog
from assistant.dispatch.dispatcher import Dispatcher
from assistant.errors import SpeechToTextError
from assistant.events import ErrorEvent, EventSink, ReplyEvent, TurnEvents
from assistant.llm.base import LanguageModel
from assistant.llm.setup import open_last_tier
from assistant.manifest import ModelManifest
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.specialized import SpecializedTier
from assistant.nlu.understand import Understanding
from assistant.pipeline import PipelineSettings, StreamClock, VoicePipeline
from assistant.plugins import (
    LoadedSkills,
    close_backends,
    discover_skills,
    load_skills,
    start_backends,
)
from assistant.skill_api import Skill
from assistant.stt import SpeechToText
from assistant.stt.vocabulary import command_prompt, vosk_phrases
from assistant.tts import TextToSpeech
from assistant.vad import Endpointer, MicroVadActivity, VoiceActivity
from assistant.wake import PhraseSupport, WakeWordDetector

__all__ = [
    "Assistant",
    "Engines",
    "Notices",
    "VoiceSession",
    "build_assistant",
    "build_engines",
    "build_understanding",
    "build_voice_pipeline",
]

_LOGGER = logging.getLogger(__name__)


def build_understanding(
    enabled: Collection[str] | None = None,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
    notify: Callable[[str], None] = lambda _text: None,
    classifier: IntentClassifier | None = None,
    *,
    connect: bool = False,
    language: str = "en",
    skills: Sequence[Skill] | None = None,
) -> tuple[LoadedSkills, Understanding]:
    """Load the skills with their templates in ``language`` and build the tiers (a trained
    classifier may be reused); see :func:`assistant.plugins.load_skills` for ``connect``.
    ``skills`` are loaded instead of the installed ones ``enabled`` names (a skill under
    development, in its tests)."""
    chosen = discover_skills(enabled) if skills is None else skills
    loaded = load_skills(chosen, configs, notify, connect=connect, language=language)
    return loaded, Understanding(loaded.catalog, loaded.sentences, classifier=classifier)


class Notices:
    """What the skills say unprompted (a timer rang), kept for the voice pipeline to speak
    between turns; each is also a ``reply`` event when it is said."""

    def __init__(self) -> None:
        self._waiting: deque[str] = deque(maxlen=16)

    def put(self, text: str) -> None:
        self._waiting.append(text)

    @property
    def pending(self) -> bool:
        return bool(self._waiting)

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

    async def start(self) -> None:
        """Start the skills' back ends that have something to start."""
        await start_backends(self.skills.runtimes)

    async def aclose(self) -> None:
        """Close the skills' back ends (bus connections), then the audit log."""
        try:
            await close_backends(self.skills.runtimes)
        finally:
            self.audit.close()


def build_assistant(
    emit: EventSink,
    config: AssistantConfig | None = None,
    *,
    skill_configs: Mapping[str, Mapping[str, Any]] | None = None,
    audit_path: Path | None = None,
    now_ms: Callable[[], float] | None = None,
    clock: Callable[[], float] = time.monotonic,
    classifier: IntentClassifier | None = None,
    audit: AuditLog | None = None,
    connect: bool = False,
    skills: Sequence[Skill] | None = None,
) -> Assistant:
    """Everything the text core needs, wired; the skills' notices become reply events.
    The skills to load and the confirmation window come from ``config``; ``skill_configs``
    are what the skills are given (``config.skill_configs()`` as the simulators resolved
    them; none: each skill's defaults). Only with ``connect`` do the skills open their buses
    (run, serve, demo, chat); otherwise they stand on in-memory simulations. The audit log
    is ``audit`` (the caller's), else ``audit_path``, else the configuration's. ``skills``:
    see :func:`build_understanding`."""
    config = config or AssistantConfig()
    started = clock()
    timestamp = now_ms or (lambda: (clock() - started) * 1000.0)

    notices = Notices()

    def notify(text: str) -> None:
        emit(ReplyEvent(t_ms=timestamp(), text=text))
        notices.put(text)

    loaded, understanding = build_understanding(config.skills.enabled, skill_configs, notify,
                                                classifier, connect=connect,
                                                language=config.skills.language, skills=skills)
    audit = audit or AuditLog(audit_path or config.audit_path())
    events = TurnEvents(emit)
    dispatcher = Dispatcher(loaded.catalog, audit, events, timestamp)
    dialogue = Dialogue(understanding, dispatcher, events, now_ms=timestamp, clock=clock,
                        confirm_seconds=config.skills.confirm_seconds)
    return Assistant(loaded, understanding, dispatcher, dialogue, audit, notices)


@dataclass
class Engines:
    wake: WakeWordDetector
    stt: SpeechToText
    tts: TextToSpeech
    vad: VoiceActivity
    language_model: LanguageModel | None = None
    language_model_problem: str = ""
    """Why the configured language model is not used (said once at start-up)."""
    language_model_config: LanguageModelConfig = field(default_factory=LanguageModelConfig)
    specialized: SpecializedTier | None = None
    """The model ``assistant train`` made for the skills, instead of ``language_model``."""
    new_wake: Callable[[], WakeWordDetector] | None = None
    """Another detector like ``wake`` for another stream (a satellite, a Wyoming client):
    a detector keeps the state of the stream it hears."""

    def attach_model_to(self, understanding: Understanding) -> None:
        """Make the last tier (loaded once for all sessions) ``understanding``'s: the
        trained one while the skills are those it was trained for."""
        if self.specialized is not None:
            if self.specialized.fits(understanding):
                understanding.specialized = self.specialized
            else:
                _LOGGER.warning("the skills changed since the language model was trained: "
                                "it is not used; run 'assistant train' and restart")
        elif self.language_model is not None:
            understanding.attach_model(
                self.language_model, budget_s=self.language_model_config.budget_ms / 1000.0)

    async def aclose(self) -> None:
        for engine in (self.wake, self.stt, self.tts, self.vad, self.language_model,
                       self.specialized):
            if engine is not None:
                await engine.aclose()


def build_engines(config: AssistantConfig, assistant: Assistant, *,
                  paced: bool = False, parallel: int = 1) -> Engines:
    """Load every engine once, each from its own section of ``config``, with its model
    checked against the manifest. ``paced`` (a microphone, or a file at its pace): the stop
    spotter listens while a turn is worked on, with a second tiny.en worker of its own
    (~18 MB). ``parallel``: transcriptions at once (a hub: one per core)."""
    manifest = ModelManifest.load()
    stt, verify = _speech_to_text(config.speech_to_text, assistant, manifest, paced=paced,
                                  parallel=parallel)
    from assistant.tts.piper import PiperTextToSpeech

    tts = PiperTextToSpeech(config.text_to_speech.voice, manifest=manifest)
    last = open_last_tier(config.language_model, assistant.understanding)

    def new_wake() -> WakeWordDetector:
        return _wake_word(config.wake, verify, manifest)

    return Engines(wake=new_wake(), new_wake=new_wake, stt=stt, tts=tts,
                   vad=MicroVadActivity(), language_model=last.model,
                   language_model_problem=last.notice,
                   language_model_config=config.language_model, specialized=last.specialized)


def _speech_to_text(section: SpeechToTextConfig, assistant: Assistant,
                    manifest: ModelManifest, *, paced: bool,
                    parallel: int = 1) -> tuple[SpeechToText, PhraseSupport | None]:
    """The recognizer, and (Whisper) what confirms a faint wake word."""
    understanding = assistant.understanding
    if section.engine == "vosk":
        from assistant.stt.vosk import VoskSpeechToText

        if section.vosk_model_dir is None:
            raise SpeechToTextError("stt-model-missing", "the Vosk engine needs a model "
                                    "directory (speech_to_text.vosk_model_dir, or --vosk-model "
                                    "DIR), e.g. vosk-model-small-en-us-0.15")
        phrases = (vosk_phrases(understanding.matcher.vocabulary)
                   if section.vosk_restrict_to_skills else None)
        return VoskSpeechToText(section.vosk_model_dir, phrases=phrases), None
    from assistant.stt.whisper import WhisperSpeechToText

    sentences = understanding.sentences  # built now, not at the first pause
    whisper = WhisperSpeechToText(
        section.whisper_model,
        fallback=None if section.whisper_fallback == "none" else section.whisper_fallback,
        prompt=command_prompt(assistant.skills.sentences, understanding.catalog),
        window_s=section.whisper_window_s,
        judge=understanding,
        spotting=paced,
        nearest=sentences.nearest if section.whisper_nearest else None,
        manifest=manifest,
        parallel=parallel,
    )
    return whisper, whisper.phrase_support


def _wake_word(section: WakeConfig, verify: PhraseSupport | None,
               manifest: ModelManifest) -> WakeWordDetector:
    if section.engine == "porcupine":
        from assistant.wake.porcupine import PorcupineDetector

        return PorcupineDetector(section.porcupine_access_key, section.porcupine_keyword,
                                 refractory_ms=section.refractory_ms)
    from assistant.wake.openwakeword import OpenWakeWordDetector

    return OpenWakeWordDetector(
        section.model,
        threshold=section.threshold,
        strict_threshold=section.threshold_while_speaking,
        refractory_ms=section.refractory_ms,
        candidate_threshold=section.faint_threshold,
        verify=verify,
        phrase=section.phrase,
        verify_log_probability=section.verify_log_probability,
        manifest=manifest,
    )


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
    config: AssistantConfig | None = None,
    skill_configs: Mapping[str, Mapping[str, Any]] | None = None,
    audit_path: Path | None = None,
    paced: bool = False,
    engines: Engines | None = None,
    classifier: IntentClassifier | None = None,
    connect: bool = False,
) -> VoiceSession:
    """The text core on the stream clock, the engines (``engines`` if given, loaded once
    for several sessions), and the pipeline joining them; see :func:`build_assistant` for
    ``skill_configs`` and ``audit_path``."""
    config = config or AssistantConfig()
    clock = StreamClock()
    assistant = build_assistant(emit, config, skill_configs=skill_configs,
                                audit_path=audit_path, now_ms=clock.ms, clock=clock.seconds,
                                classifier=classifier, connect=connect)
    engines = engines or build_engines(config, assistant, paced=paced)
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
        endpointer=Endpointer(config.voice_activity),
        settings=PipelineSettings(paced=paced),
        transcripts=assistant.understanding,
        notices=assistant.notices,
    )
    return VoiceSession(pipeline, assistant, engines)
