"""Using a trained model at start-up, only when it fits the installed skills.

The trained model for a base model is the manifest entry named after it (the packaged
model's name, or a user's GGUF file name). It is used when its file matches its sha256, the
base model's file is the one it was trained on, and its skills fingerprint is the installed
skills'; otherwise the reason is the start-up notice (and ``doctor``'s), and the configured
model is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.config import LanguageModelConfig
from assistant.errors import AssistantError
from assistant.manifest import sha256_of
from assistant.train.artifact import installed_entry, load_entries, skills_fingerprint

if TYPE_CHECKING:
    from assistant.nlu.specialized import SpecializedTier
    from assistant.nlu.understand import Understanding

__all__ = ["TrainedStatus", "open_trained", "trained_status"]



@dataclass(frozen=True)
class TrainedStatus:
    detail: str
    due: bool = False
    """A trained model is installed but no longer fits (or cannot be read): retrain."""


def trained_status(settings: LanguageModelConfig, understanding: Understanding
                   ) -> TrainedStatus:
    """For ``doctor``: whether a trained model is in use, due for a retrain, or absent."""
    try:
        entries = load_entries()
    except AssistantError as err:
        return TrainedStatus(err.message, due=True)
    entry = entries.get(settings.label)
    if entry is None:
        return TrainedStatus(f"no model trained for these skills from {settings.label}; "
                             "'assistant train' makes one")
    fingerprint = skills_fingerprint(understanding.catalog, understanding.template_sentences)
    if entry.skills_fingerprint != fingerprint:
        return TrainedStatus(f"the skills changed since the model was trained from "
                             f"{settings.label}: a retrain is due", due=True)
    accuracy = entry.evaluation.get("trained", {}).get("accuracy")
    score = f", held-out accuracy {accuracy:.1%}" if isinstance(accuracy, float) else ""
    return TrainedStatus(f"trained model for these skills from {settings.label} "
                         f"({entry.created}{score})")


def open_trained(settings: LanguageModelConfig, understanding: Understanding
                 ) -> tuple[SpecializedTier | None, str]:
    """The specialized tier, or None and why not (empty: no trained model installed);
    blocking, for start-up."""
    from assistant.llm.embedding import LlamaEmbedder
    from assistant.llm.setup import model_file
    from assistant.nlu.specialized import SpecializedSettings, SpecializedTier

    fingerprint = skills_fingerprint(understanding.catalog, understanding.template_sentences)
    try:
        if settings.label not in load_entries():
            return None, ""
        base = model_file(settings)
        trained, problem = installed_entry(settings.label, fingerprint, sha256_of(base))
        if trained is None:
            return None, problem
        embedder = LlamaEmbedder.open(base, name=settings.label, threads=settings.threads)
        width = embedder.dimensions + len(understanding.classifier.labels)
        if trained.head.coef.shape[1] != width:
            embedder.close()
            return None, (f"trained model {settings.label} reads {trained.head.coef.shape[1]} "
                          f"features where these skills give {width}; a retrain is due: run "
                          "'assistant train'")
    except AssistantError as err:
        return None, f"trained model for {settings.label} not used: {err.message}"
    tier = SpecializedTier(embedder, trained.head, f"{settings.label} (trained)",
                           SpecializedSettings(budget_s=settings.budget_ms / 1000.0),
                           fingerprint=fingerprint)
    return tier, ""
