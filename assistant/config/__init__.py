"""The appliance's one configuration file: TOML, read through pydantic-settings.

Where it comes from, first found wins: ``--config FILE``, ``$ASSISTANT_CONFIG``,
``/etc/assistant/config.toml``; with none of them, the built-in defaults (the demo plant and
simulated buses). Any key can be overridden from the environment as
``ASSISTANT_<SECTION>__<KEY>`` (``ASSISTANT_WAKE__THRESHOLD=0.6``), which beats the file,
and the command line's options beat both. A skill's settings are the table
``[skills.<name>]``, checked against the model the skill declares. The result is one frozen
tree; each engine is built from its own section. Nothing here imports the rest of the
assistant.
"""

from assistant.config.sections import (
    DEFAULT_LANGUAGE_MODEL,
    NO_LANGUAGE_MODEL,
    AudioConfig,
    LanguageModelConfig,
    SatelliteConfig,
    Section,
    ServiceConfig,
    SkillsConfig,
    SpeechToTextConfig,
    TextToSpeechConfig,
    VoiceActivityConfig,
    WakeConfig,
    WyomingConfig,
)
from assistant.config.settings import (
    DEFAULT_CONFIG_PATH,
    DEPRECATED_SKILL_SECTIONS,
    AssistantConfig,
    Problem,
    config_path,
    default_audit_path,
    load_config,
    merged,
    read_config,
    unknown_environment,
    validation_problems,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_LANGUAGE_MODEL",
    "DEPRECATED_SKILL_SECTIONS",
    "NO_LANGUAGE_MODEL",
    "AssistantConfig",
    "AudioConfig",
    "LanguageModelConfig",
    "Problem",
    "SatelliteConfig",
    "Section",
    "ServiceConfig",
    "SkillsConfig",
    "SpeechToTextConfig",
    "TextToSpeechConfig",
    "VoiceActivityConfig",
    "WakeConfig",
    "WyomingConfig",
    "config_path",
    "default_audit_path",
    "load_config",
    "merged",
    "read_config",
    "unknown_environment",
    "validation_problems",
]
