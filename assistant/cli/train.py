"""``assistant train``: specialize the last tier of understanding to the installed skills."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from assistant.config import AssistantConfig
from assistant.errors import AssistantError

__all__ = ["run_train"]


async def run_train(config: AssistantConfig, *, out: Path | None, quick: bool,
                    eval_paths: Sequence[Path], install: bool,
                    stdout: TextIO = sys.stdout, log: TextIO = sys.stderr) -> int:
    """Train, compare and (if not worse) install; 0 installed, 1 refused or not asked to."""
    import asyncio

    from assistant.llm.embedding import LlamaEmbedder
    from assistant.llm.setup import model_file, try_language_model
    from assistant.manifest import sha256_of
    from assistant.nlu.slm import prompt_prefix
    from assistant.nlu.understand import Understanding
    from assistant.train.evaluate import load_cases
    from assistant.train.recipe import TrainRecipe, train
    from assistant.wiring import build_understanding

    settings = config.language_model
    if not settings.enabled:
        raise AssistantError("train-no-model", "no language model is configured to train "
                             "from (language_model.name is none); give --slm smollm2-135m")
    loaded, understanding = build_understanding(config.skills.enabled, config.skill_configs(),
                                                language=config.skills.language)
    cases = load_cases(eval_paths)
    base = model_file(settings)
    log.write(f"base model {settings.label}: {base}\n")
    baseline = Understanding(loaded.catalog, loaded.sentences,
                             classifier=understanding.classifier)
    model, notice = await asyncio.to_thread(try_language_model, settings,
                                            prompt_prefix(loaded.catalog))
    if notice:
        log.write(f"assistant: {notice}\n")
    if model is not None:
        baseline.attach_model(model, budget_s=settings.budget_ms / 1000.0)
    embedder = await asyncio.to_thread(LlamaEmbedder.open, base, name=settings.label,
                                       threads=settings.threads)
    try:
        outcome = await train(understanding, settings, embedder, sha256_of(base),
                              cases, baseline=baseline,
                              recipe=TrainRecipe(quick=quick), out=out, install=install,
                              log=log)
    finally:
        await embedder.aclose()
        if model is not None:
            await model.aclose()
    before, after = outcome.baseline.summary(), outcome.trained.summary()
    rows = [("", f"{settings.label} as it is", "trained"),
            ("held-out accuracy", f"{before['correct']}/{before['total']} = "
             f"{before['accuracy']:.1%}", f"{after['correct']}/{after['total']} = "
             f"{after['accuracy']:.1%}"),
            ("decided by the last tier (right)", f"{before['tier_decided']} "
             f"({before['tier_correct']})", f"{after['tier_decided']} ({after['tier_correct']})"),
            ("out-of-domain calls (by the last tier)",
             f"{before['ood_calls']} ({before['tier_ood_calls']})",
             f"{after['ood_calls']} ({after['tier_ood_calls']})"),
            ("last tier p50 / p95 ms", _ms(before), _ms(after))]
    width = max(len(row[0]) for row in rows)
    for name, left, right in rows:
        stdout.write(f"{name:<{width}}  {left:<24}  {right}\n")
    spent = ", ".join(f"{k} {v:.0f} s" for k, v in outcome.seconds.items())
    stdout.write(f"time: {spent}\n{outcome.reason}\n")
    if out is not None:
        stdout.write(f"data and model written to {out}\n")
    return 0 if outcome.installed else 1


def _ms(summary: dict[str, object]) -> str:
    p50, p95 = summary["tier_p50_ms"], summary["tier_p95_ms"]
    if not isinstance(p50, float) or not isinstance(p95, float):
        return "-"
    return f"{p50:.0f} / {p95:.0f}"

