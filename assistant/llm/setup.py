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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import LanguageModelConfig
from assistant.errors import AssistantError, ModelError
from assistant.llm.base import LanguageModel
from assistant.manifest import ModelManifest, user_model

if TYPE_CHECKING:
    from assistant.nlu.specialized import SpecializedTier
    from assistant.nlu.understand import Understanding

__all__ = [
    "LastTier",
    "attach_language_model",
    "model_file",
    "open_language_model",
    "open_last_tier",
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


@dataclass
class LastTier:
    """What understanding's last tier runs on, loaded once: the model ``assistant train``
    specialized for the installed skills when one is installed and fits them, else the
    configured language model; ``notice``: what to say once at start-up about it."""

    settings: LanguageModelConfig
    model: LanguageModel | None = None
    specialized: SpecializedTier | None = None
    notice: str = ""

    @property
    def loaded(self) -> bool:
        return self.model is not None or self.specialized is not None

    def attach(self, understanding: Understanding) -> None:
        if self.specialized is not None:
            understanding.specialized = self.specialized
        elif self.model is not None:
            understanding.attach_model(self.model, budget_s=self.settings.budget_ms / 1000.0)

    async def aclose(self) -> None:
        for engine in (self.model, self.specialized):
            if engine is not None:
                await engine.aclose()


def open_last_tier(settings: LanguageModelConfig, understanding: Understanding) -> LastTier:
    """The last tier for ``understanding``'s skills (see :class:`LastTier`); blocking, for
    start-up; never raises: a model that cannot be used is a notice."""
    from assistant.nlu.slm import prompt_prefix
    from assistant.train.install import open_trained

    specialized, problem = (None, "") if not settings.trained or not settings.enabled \
        else open_trained(settings, understanding)
    if specialized is not None:
        return LastTier(settings, specialized=specialized)
    model, notice = try_language_model(settings, prompt_prefix(understanding.catalog))
    return LastTier(settings, model=model, notice="; ".join(n for n in (problem, notice) if n))


def attach_language_model(understanding: Understanding,
                          settings: LanguageModelConfig) -> LastTier:
    """Load the last tier (:func:`open_last_tier`) and attach it to ``understanding``."""
    tier = open_last_tier(settings, understanding)
    tier.attach(understanding)
    return tier
