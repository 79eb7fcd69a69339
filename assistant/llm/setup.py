"""Which language model, where its file is, and opening it verified.

The model is a manifest name (a packaged model) or a user's GGUF path with the sha256 the
user expects; a file that does not match is refused. Opening loads it once, evaluates the
prompt prefix into its cache and warms it up; a model that is missing or refused leaves
the assistant on its deterministic tiers, said once at start-up by the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import LanguageModelConfig
from assistant.errors import AssistantError, ModelError
from assistant.llm.base import LanguageModel
from assistant.manifest import ModelManifest, user_model

if TYPE_CHECKING:
    from assistant.nlu.understand import Understanding

__all__ = [
    "attach_language_model",
    "model_file",
    "open_language_model",
    "try_language_model",
]

_LOGGER = logging.getLogger(__name__)

def model_file(settings: LanguageModelConfig, manifest: ModelManifest | None = None) -> Path:
    """The verified GGUF file; a :class:`ModelError` says what is wrong and what to do."""
    if settings.path is not None:
        if not settings.sha256:
            raise ModelError("model-checksum-missing", f"language model {settings.path}: give "
                             "the sha256 you expect (--slm-sha256; 'sha256sum FILE' prints it)")
        entry = user_model(settings.path.name, "llm", settings.path.parent,
                           {settings.path.name: settings.sha256})
    else:
        entry = (manifest or ModelManifest.load()).get(settings.name)
        if entry.kind != "llm":
            known = ", ".join(e.name for e in (manifest or ModelManifest.load()).of_kind("llm"))
            raise ModelError("model-wrong-kind", f"{settings.name!r} is a {entry.kind} model, "
                             f"not a language model; use one of {known}, or none")
    folder = entry.verified()
    return folder / next(iter(entry.files))


def open_language_model(settings: LanguageModelConfig, prefix: str, *,
                        clock: Callable[[], float] = time.monotonic) -> LanguageModel:
    """Verify, load and warm the configured model; blocking, for start-up (raises
    :class:`AssistantError`). ``clock``: the seconds its deadlines are on."""
    from assistant.llm.llama import LlamaCppModel

    path = model_file(settings)
    model = LlamaCppModel.open(path, prefix, name=settings.label, threads=settings.threads,
                               warmup_s=settings.warmup_s, clock=clock)
    _LOGGER.info("language model %s loaded from %s", settings.label, path)
    return model


def try_language_model(settings: LanguageModelConfig, prefix: str, *,
                       clock: Callable[[], float] = time.monotonic,
                       ) -> tuple[LanguageModel | None, str]:
    """The model, or None and the notice to say once at start-up (empty when no model
    was asked for)."""
    if not settings.enabled:
        return None, ""
    try:
        return open_language_model(settings, prefix, clock=clock), ""
    except AssistantError as err:
        return None, (f"language model {settings.label} not used: {err.message}. "
                      "Understanding runs on the templates and the classifier only.")


def attach_language_model(understanding: Understanding,
                          settings: LanguageModelConfig) -> tuple[LanguageModel | None, str]:
    """Load the configured model as ``understanding``'s last tier; else the notice to say
    once at start-up (empty when no model was asked for)."""
    from assistant.nlu.slm import prompt_prefix

    model, notice = try_language_model(settings, prompt_prefix(understanding.catalog))
    if model is not None:
        understanding.attach_model(model, budget_s=settings.budget_ms / 1000.0)
    return model, notice
