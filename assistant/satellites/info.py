"""What ``describe`` answers: the assistant's programs and models, as Wyoming ``info``."""

from __future__ import annotations

from collections.abc import Collection

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from assistant import __version__
from assistant.config import AssistantConfig
from assistant.wake import wake_phrase

__all__ = ["SERVICES", "service_info"]

SERVICES = ("asr", "tts", "wake", "intent", "handle")
_PROJECT = Attribution(name="offline voice assistant (this project)", url="")
_WHISPER = Attribution(name="OpenAI Whisper (faster-whisper)",
                       url="https://github.com/SYSTRAN/faster-whisper")
_PIPER = Attribution(name="Piper (rhasspy)", url="https://github.com/rhasspy/piper")
_OPEN_WAKE_WORD = Attribution(name="openWakeWord (dscripka)",
                              url="https://github.com/dscripka/openWakeWord")


def service_info(config: AssistantConfig, services: Collection[str], tools: Collection[str]
                 ) -> Info:
    """The programs of ``services`` only: a client is never offered what is refused."""
    language = config.skills.language
    stt = config.speech_to_text
    model = stt.whisper_model if stt.engine == "whisper" else str(stt.vosk_model_dir)
    info = Info()
    if "asr" in services:
        info.asr = [AsrProgram(
            name=f"assistant-{stt.engine}", description="speech to text, biased to the skills",
            attribution=_WHISPER, installed=True, version=__version__,
            models=[AsrModel(name=model, description=model, attribution=_WHISPER,
                             installed=True, languages=[language], version=None)])]
    if "tts" in services:
        voice = config.text_to_speech.voice
        info.tts = [TtsProgram(
            name="assistant-piper", description="speech synthesis", attribution=_PIPER,
            installed=True, version=__version__,
            voices=[TtsVoice(name=voice, description=voice, attribution=_PIPER,
                             installed=True, languages=["en_US"], version=None)])]
    if "wake" in services:
        wake = config.wake.model
        info.wake = [WakeProgram(
            name="assistant-openwakeword", description="wake word detection",
            attribution=_OPEN_WAKE_WORD, installed=True, version=__version__,
            models=[WakeModel(name=wake, description=wake, phrase=wake_phrase(wake),
                              attribution=_OPEN_WAKE_WORD, installed=True,
                              languages=["en"], version=None)])]
    if "intent" in services:
        info.intent = [IntentProgram(
            name="assistant-intent", description="the skills' tools: " + ", ".join(
                sorted(tools)), attribution=_PROJECT, installed=True, version=__version__,
            models=[IntentModel(name="skills", description="templates, classifier, model",
                                attribution=_PROJECT, installed=True, languages=[language],
                                version=__version__)])]
    if "handle" in services:
        info.handle = [HandleProgram(
            name="assistant-handle", description="understand, dispatch safely and answer",
            attribution=_PROJECT, installed=True, version=__version__,
            models=[HandleModel(name="skills", description="the installed skills",
                                attribution=_PROJECT, installed=True, languages=[language],
                                version=__version__)])]
    return info
