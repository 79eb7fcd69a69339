"""The sections of the configuration file, one per engine or domain. Each engine is built
from its own section; every section is frozen once read."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DEFAULT_LANGUAGE_MODEL",
    "NO_LANGUAGE_MODEL",
    "AudioConfig",
    "LanguageModelConfig",
    "SatelliteConfig",
    "Section",
    "ServiceConfig",
    "SkillsConfig",
    "SpeechToTextConfig",
    "TextToSpeechConfig",
    "VoiceActivityConfig",
    "WakeConfig",
    "WyomingConfig",
]

DEFAULT_LANGUAGE_MODEL = "smollm2-135m"
NO_LANGUAGE_MODEL = "none"


class Section(BaseModel):
    """A table of the file: unknown keys are mistakes, not silently ignored. No text value
    is longer than a line of configuration can sensibly be."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=4096)


DeviceName = Annotated[str, Field(max_length=256)]


class AudioConfig(Section):
    input_device: DeviceName = ""
    """Microphone: part of its name, or its index; empty for the system default."""
    output_device: DeviceName = ""
    """Speaker: part of its name, or its index; empty for the system default."""


class WakeConfig(Section):
    engine: Literal["openwakeword", "porcupine"] = "openwakeword"
    model: str = "hey_jarvis"
    """A packaged openWakeWord model (hey_jarvis, alexa, hey_mycroft, okay_nabu) or a .tflite
    path."""
    threshold: float = Field(0.5, ge=0.05, le=0.99)
    faint_threshold: float = Field(0.1, ge=0.01, le=0.99)
    """A score from here up to ``threshold`` wakes only if the speech recognizer also hears
    the wake phrase (``phrase``); set it to ``threshold`` to turn that off."""
    phrase: str = ""
    """The words the wake model listens for; empty: from the packaged model's name."""
    threshold_while_speaking: float = Field(0.9, ge=0.05, le=0.99)
    """While the assistant speaks its own voice is in the microphone: a surer score wakes."""
    refractory_ms: float = Field(2000.0, ge=0.0, le=10000.0)
    """After a wake, the same word is not heard again for this long."""
    verify_log_probability: float = Field(-5.0, ge=-20.0, le=0.0)
    """Mean token log-probability of the wake phrase that confirms a faint wake word."""
    porcupine_access_key: str = ""
    porcupine_keyword: str = "jarvis"

    @model_validator(mode="after")
    def _surer_while_speaking(self) -> WakeConfig:
        if self.threshold > self.threshold_while_speaking:
            raise ValueError(f"threshold ({self.threshold}) is above threshold_while_speaking "
                             f"({self.threshold_while_speaking}): the wake word would be "
                             "easier to hear over the assistant's own voice; lower threshold "
                             "or raise threshold_while_speaking")
        return self


class SpeechToTextConfig(Section):
    engine: Literal["whisper", "vosk"] = "whisper"
    whisper_model: str = "whisper-tiny.en"
    whisper_fallback: str = "whisper-base"
    """Tried when the first model's text is not understood; "none" for no second model."""
    whisper_window_s: float = Field(10.0, ge=10.0, le=30.0)
    """Seconds of audio Whisper's encoder looks at. With the command prompt, 10 s is as
    accurate as 30 s on held-out voices and a third of the time."""
    whisper_nearest: bool = False
    """Correct text nobody understands to the nearest skill sentence the audio supports
    (read back, never acted on silently). Off: it costs 1.3-2 s and helps little."""
    vosk_model_dir: Path | None = None
    vosk_restrict_to_skills: bool = True


class TextToSpeechConfig(Section):
    voice: str = "piper-en_US-joe-medium"


class VoiceActivityConfig(Section):
    """Where a command begins and ends."""

    threshold: float = Field(0.5, ge=0.05, le=0.99)
    """Frame probability counted as speech."""
    end_silence_ms: float = Field(300.0, ge=50.0, le=5000.0)
    """Frames the voice activity detector calls silence that end a command."""
    end_quiet_ms: float = Field(250.0, ge=50.0, le=5000.0)
    """Quiet frames (by energy) that end a command."""
    pause_quiet_ms: float | None = Field(100.0, ge=20.0, le=5000.0)
    """Quiet frames after which the audio so far is offered as a possibly finished command
    (the turn ends there if it is a whole one); set it to end_quiet_ms or more to wait for
    the end silence instead."""
    quiet_share: float = Field(0.35, gt=0.0, lt=1.0)
    """Where "quiet" lies between the noise floor (0) and the command's loudness (1)."""
    floor_dbfs: float = Field(-60.0, ge=-120.0, le=0.0)
    """Frames below this level (dB full scale) are never speech."""
    min_speech_ms: float = Field(120.0, ge=0.0, le=2000.0)
    """Voiced time before a sound counts as the start of a command."""
    max_speech_ms: float = Field(8000.0, ge=1000.0, le=30000.0)
    """Longest command; longer is cut and used as it is."""
    no_speech_timeout_ms: float = Field(5000.0, ge=500.0, le=60000.0)
    """Time to wait for a command to begin after the wake word."""
    pre_roll_ms: float = Field(800.0, ge=0.0, le=3000.0)
    """Audio kept from before the detector saw speech (it notices it late)."""
    onset_margin_ms: float = Field(200.0, ge=0.0, le=1000.0)
    """Audio kept before the energy onset when the lead-in is trimmed."""

    @model_validator(mode="after")
    def _speech_can_start_before_it_is_cut(self) -> VoiceActivityConfig:
        if self.min_speech_ms >= self.max_speech_ms:
            raise ValueError(f"min_speech_ms ({self.min_speech_ms}) is not below "
                             f"max_speech_ms ({self.max_speech_ms}): every command would be "
                             "cut as it starts")
        return self


class LanguageModelConfig(Section):
    """The last tier of understanding."""

    name: str = DEFAULT_LANGUAGE_MODEL
    """A packaged model (smollm2-135m, gemma3-270m), or "none"."""
    path: Path | None = None
    """A GGUF file of your own instead; needs sha256."""
    sha256: str = Field("", pattern=r"^([0-9a-fA-F]{64})?$")
    budget_ms: float = Field(1000.0, ge=50.0, le=10000.0)
    """Longest a decision may take; past it the answer is no tool."""
    threads: int = Field(2, ge=1, le=64)
    warmup_s: float = Field(60.0, gt=0.0, le=600.0)
    """Longest the warm-up at start-up may take; past it the model is not used."""
    trained: bool = True
    """Use the model 'assistant train' made from this one for the installed skills, when
    one is installed and the skills have not changed since."""

    @property
    def enabled(self) -> bool:
        return self.path is not None or self.name != NO_LANGUAGE_MODEL

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else self.name


class SkillsConfig(Section):
    """``[skills]``: which skills, and how; each skill's own settings are the table
    ``[skills.<name>]`` (``ASSISTANT_SKILLS__<NAME>__<KEY>``), validated against the settings
    model the skill declares when the skills are loaded and by ``assistant config check``."""

    model_config = ConfigDict(extra="allow", frozen=True, str_max_length=4096)

    enabled: list[str] | None = None
    """Skills to load by name; absent: every installed skill."""
    confirm_seconds: float = Field(8.0, ge=2.0, le=30.0)
    language: str = Field("en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    """The language of the sentence templates the skills are understood with."""

    @model_validator(mode="after")
    def _tables_only(self) -> SkillsConfig:
        for name, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(f"skills.{name} must be a table of the {name} skill's "
                                 f"settings ([skills.{name}]), not {type(value).__name__}")
            if not name.isidentifier():
                raise ValueError(f"skills.{name}: not a skill name (letters, digits, _)")
        return self

    def settings_for(self, name: str) -> dict[str, Any]:
        """The skill's own table as written (a copy), empty when there is none."""
        value = (self.model_extra or {}).get(name)
        return copy.deepcopy(value) if isinstance(value, dict) else {}

    def skill_tables(self) -> dict[str, dict[str, Any]]:
        """Every ``[skills.<name>]`` table, by skill name."""
        return {name: self.settings_for(name) for name in self.model_extra or {}}

    @field_validator("enabled")
    @classmethod
    def _some_skill(cls, enabled: list[str] | None) -> list[str] | None:
        if enabled is not None and not enabled:
            raise ValueError("no skill would be loaded; name at least one, or leave the key "
                             "out to load every installed skill")
        return enabled


class ServiceConfig(Section):
    audit_log: Path | None = None
    """Default: $STATE_DIRECTORY/audit.jsonl under systemd, else ~/.local/state."""
    log_format: Literal["journald", "text"] = "journald"
    watchdog_stall_s: float = Field(15.0, ge=0.5, le=120.0)
    """The watchdog is no longer petted once the audio loop has not moved for this long
    (longer than the slowest turn: transcription, understanding and a reply; shorter than
    the unit's WatchdogSec)."""


_URI = Annotated[str, Field(pattern=r"^(tcp://[^\s/:]+:\d{1,5}|unix://\S+)$",
                            description="tcp://HOST:PORT or unix://PATH")]


WyomingService = Literal["asr", "tts", "wake", "intent", "handle"]
WYOMING_SERVICES: tuple[WyomingService, ...] = ("asr", "tts", "wake", "intent", "handle")


class WyomingConfig(Section):
    """``assistant wyoming``: the Wyoming services this box offers (Home Assistant, other
    hubs)."""

    uri: _URI = "tcp://127.0.0.1:10300"
    """Where to listen: localhost unless another address is given on purpose."""
    services: list[WyomingService] = Field(
        default_factory=lambda: list(WYOMING_SERVICES), min_length=1)
    """What is offered; anything else a client asks for is refused with an error event."""


class SatelliteConfig(Section):
    """``[satellites.<name>]``: a microphone and speaker elsewhere that the hub connects to."""

    uri: _URI
    """The satellite's Wyoming server (wyoming-satellite's default port is 10700)."""
    area: str = Field("", max_length=100)
    """Where it is ("car", "shop floor"): recorded with every call in the audit log."""
    zone: str = Field("", max_length=100)
    """Which part of the area ("rear", "passenger", "lathe"): what the skills' zone
    arguments default to for requests spoken there."""
