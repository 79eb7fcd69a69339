"""Errors of the assistant, one root with a code, one subclass per stage.

    AssistantError                 code: str, message says what to do
    ├── SkillLoadError             skills: discovery, duplicate tools, bad declarations
    │   └── TemplateError          skills: a sentence template or YAML file is malformed
    ├── UnderstandingError         nlu: the understanding tiers could not be built
    ├── BackendError               dispatch: the controlled system did not answer
    │   └── UnconfirmedError       dispatch: a command was sent, never confirmed
    ├── AuditError                 audit: the audit log could not be written
    ├── ModelError                 models: a model file is missing or fails its checksum
    ├── LanguageModelError         slm: the language model failed or ran out of time
    ├── AudioError                 audio: a device or file cannot be opened or read
    ├── WakeWordError              wake: the wake word engine failed
    ├── SpeechToTextError          stt: transcription failed or timed out
    ├── TextToSpeechError          tts: synthesis failed
    └── ConfigError                config: the configuration file is unreadable or invalid

"No match" is never an exception: understanding returns ``None`` or a no-tool decision.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AssistantError",
    "AudioError",
    "AuditError",
    "BackendError",
    "ConfigError",
    "LanguageModelError",
    "ModelError",
    "SkillLoadError",
    "SpeechToTextError",
    "TemplateError",
    "TextToSpeechError",
    "UnconfirmedError",
    "UnderstandingError",
    "WakeWordError",
]


class AssistantError(Exception):
    """Root of every error the assistant reports; ``code`` is stable for logs and events."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class SkillLoadError(AssistantError):
    """A skill could not be loaded."""


class TemplateError(SkillLoadError):
    """A sentence template is malformed; names the file and line."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__("skill-template-invalid", f"{path}:{line}: {message}")
        self.path = Path(path)
        self.line = line


class UnderstandingError(AssistantError):
    """The understanding tiers could not be built."""


class BackendError(AssistantError):
    """The controlled system (vehicle, plant) failed to carry out a command."""


class UnconfirmedError(BackendError):
    """A command reached the controlled system, which never confirmed it: it may or may not
    have happened, and nobody may say either."""


class AuditError(AssistantError):
    """The audit log could not be written; nothing may be actuated."""


class ModelError(AssistantError):
    """A model file is missing, unreadable or fails its checksum."""


class LanguageModelError(AssistantError):
    """The language model could not be loaded or did not answer in time."""


class AudioError(AssistantError):
    """An audio device or file cannot be opened or read."""


class WakeWordError(AssistantError):
    """The wake word engine failed."""


class SpeechToTextError(AssistantError):
    """Transcription failed or timed out."""


class TextToSpeechError(AssistantError):
    """Speech synthesis failed."""


class ConfigError(AssistantError):
    """The configuration file is unreadable or invalid."""
