"""Building the voice pipeline on the real engines, and running it on a file or live."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.app import Assistant, build_assistant
from assistant.audio import AudioSink, AudioSource
from assistant.dialogue import CONFIRM_SECONDS
from assistant.events import ErrorEvent, EventSink
from assistant.llm.base import LanguageModel
from assistant.llm.setup import LanguageModelSettings, try_language_model
from assistant.models import ModelManifest
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.expand import canonical_sentence
from assistant.nlu.slm import prompt_prefix
from assistant.nlu.understand import Understanding
from assistant.pipeline import PipelineSettings, StreamClock, VoicePipeline
from assistant.stt import SpeechToText
from assistant.tts import TextToSpeech
from assistant.vad import Endpointer, EndpointSettings, MicroVadActivity, VoiceActivity
from assistant.wake import PhraseSupport, WakeWordDetector

__all__ = ["Engines", "VoiceSession", "VoiceSettings", "build_engines", "build_voice_pipeline"]

_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
    "point",
    "minus",
    "and",
    "a",
    "half",
    "quarter",
    "quarters",
]


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


def command_prompt(assistant: Assistant) -> str:
    """One plain sentence per tool, from its first template (how commands here sound),
    then the configured names ("Machines: press one, lathe, ..."), last because a long
    prompt is cut from the front."""
    seen: set[str] = set()
    sentences = []
    for template in assistant.skills.sentences:
        if template.example or template.tool in seen:
            continue
        seen.add(template.tool)
        text = canonical_sentence(template, assistant.understanding.catalog.specs[template.tool])
        sentences.append(text[:1].upper() + text[1:] + ".")
    for list_name, values in assistant.understanding.catalog.lists.items():
        names = [aliases[0] if aliases else ident.replace("_", " ")
                 for ident, aliases in values.items()]
        sentences.append(f"{list_name.capitalize()}: {', '.join(names)}.")
    return " ".join(sentences)


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
        vocabulary = sorted(assistant.understanding.matcher.vocabulary)
        phrases = [*vocabulary, *_NUMBER_WORDS] if settings.vosk_restrict_to_skills else None
        stt = VoskSpeechToText(settings.vosk_model_dir, phrases=phrases)
    else:
        from assistant.stt.whisper import WhisperSpeechToText

        whisper = WhisperSpeechToText(
            settings.whisper_model,
            fallback=None if settings.whisper_fallback == "none" else settings.whisper_fallback,
            prompt=command_prompt(assistant),
            window_s=settings.whisper_window_s,
            accept=assistant.understanding.fully_understands,
            agree=assistant.understanding.confirms,
            doubtful=assistant.understanding.doubt_matters,
            at_once=assistant.understanding.acts_at_once,
            spotting=paced,
            nearest=sentences.nearest if settings.whisper_nearest else None,
            renamings=assistant.understanding.renamings,
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
