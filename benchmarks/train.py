"""The specialized last tier against the packaged model as it is (issue 16).

    python benchmarks/train.py                          # smollm2-135m and gemma3-270m
    python benchmarks/train.py --models smollm2-135m
    python benchmarks/train.py --sealed                 # also the sealed paraphrase set: once

For each base model, a child process trains the head the way ``assistant train`` does (the
full recipe), timing each step, and writes it to a temporary GGUF. Then each configuration
runs in a child of its own, so its peak RSS is its own: the first two tiers alone ("none"),
with the packaged model as it is, and with the trained head read back from its file. The
sets are the held-out sets of benchmarks/nlu.py and the fifth paraphrase set, written by a
helper from the contract's tool table only; its sealed half is scored only with --sealed.
The report goes to benchmarks/reports/train.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from nlu import HELD_OUT, SETS  # noqa: E402

SETS = {**SETS, "paraphrase5": HERE / "data" / "nlu_paraphrase5.tsv",
        "paraphrase5_sealed": HERE / "data" / "nlu_paraphrase5_sealed.tsv"}
NEW = ("paraphrase5",)


def _understanding() -> Any:
    from assistant.wiring import build_understanding

    return build_understanding()[1]


def train_child(base: str, out: Path) -> dict[str, Any]:
    """Train the head for every installed skill on ``base``; write it to ``out``."""
    from assistant.config import LanguageModelConfig
    from assistant.llm.embedding import FRAME, LlamaEmbedder
    from assistant.llm.setup import model_file
    from assistant.manifest import sha256_of
    from assistant.nlu.specialized import head_features
    from assistant.train.artifact import TrainedHead, skills_fingerprint, write_head
    from assistant.train.data import build_training_data
    from assistant.train.head import IntentHead
    from assistant.train.recipe import TrainRecipe, _features

    understanding = _understanding()
    path = model_file(LanguageModelConfig(name=base))
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    data = build_training_data(understanding.template_sentences, understanding.catalog,
                               samples_per_sentence=TrainRecipe().samples_per_sentence)
    seconds["data"] = time.perf_counter() - started
    embedder = LlamaEmbedder.open(path, name=base)
    started = time.perf_counter()
    texts = sorted({e.text for e in (*data.train, *data.dev)})
    vectors = _features(embedder, texts, sys.stderr)
    seconds["features"] = time.perf_counter() - started
    started = time.perf_counter()
    features = {text: head_features(vector, understanding.classifier, text)
                for text, vector in vectors.items()}
    head = IntentHead.train(np.stack([features[e.text] for e in data.train]),
                            [e.label for e in data.train])
    seconds["head"] = time.perf_counter() - started
    dev = sum(head.guess(features[e.text]).label == e.label for e in data.dev) / len(data.dev)
    write_head(TrainedHead(head, base, sha256_of(path),
                           skills_fingerprint(understanding.catalog,
                                              understanding.template_sentences),
                           data.digest(), FRAME), out)
    return {"seconds": seconds, "examples": len(data.train), "distinct": len(texts),
            "dev_accuracy": dev, "labels": len(data.labels),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


async def evaluate_child(config: str, base: str, head_path: Path | None,
                         names: list[str]) -> dict[str, Any]:
    from assistant.config import LanguageModelConfig
    from assistant.llm.embedding import LlamaEmbedder
    from assistant.llm.setup import model_file, open_language_model
    from assistant.nlu.slm import prompt_prefix
    from assistant.nlu.specialized import SpecializedTier
    from assistant.train.artifact import read_head
    from assistant.train.evaluate import load_cases, score

    understanding = _understanding()
    settings = LanguageModelConfig(name=base)
    closing: Any = None
    started = time.perf_counter()
    if config == "packaged":
        closing = await asyncio.to_thread(open_language_model, settings,
                                          prompt_prefix(understanding.catalog))
        understanding.attach_model(closing, budget_s=settings.budget_ms / 1000.0)
    elif config == "trained":
        assert head_path is not None
        trained = read_head(head_path)
        embedder = await asyncio.to_thread(LlamaEmbedder.open, model_file(settings), name=base)
        closing = understanding.specialized = SpecializedTier(embedder, trained.head, base)
    load_s = time.perf_counter() - started
    results: dict[str, Any] = {}
    try:
        for name in names:
            cases = load_cases([SETS[name]])
            for case in cases[:10]:  # warm caches the way a running assistant has them
                await understanding.understand(case.text)
            result = await score(understanding, cases)
            results[name] = {**result.summary(), "outcomes": result.outcomes,
                             "tier_ms": result.tier_ms, "decision_ms": result.decision_ms,
                             "wrong": result.wrong}
    finally:
        if closing is not None:
            await closing.aclose()
    return {"config": config, "base": base, "load_s": load_s, "sets": results,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _child(*arguments: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *arguments, "--json-out", "-"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{arguments}: {done.stderr.strip()[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(label: str, run: dict[str, Any], none: dict[str, Any], held: list[str],
         new: list[str]) -> str:
    sets = run["sets"]
    right = sum(sets[n]["correct"] for n in held)
    total = sum(sets[n]["total"] for n in held)
    cells = [f"{right}/{total} = {right / total:.1%}"]
    for name in new:
        missed = fixed = broken = 0
        for before, after in zip(none["sets"][name]["outcomes"], sets[name]["outcomes"],
                                 strict=True):
            missed += not before
            fixed += (not before) and after
            broken += before and not after
        got, of = sets[name]["correct"], sets[name]["total"]
        cells.append(f"{got}/{of} = {got / of:.1%}; fixed {fixed} of {missed} ({broken})")
    ood = sum(sets[n]["ood_calls"] for n in (*held, *new))
    tier_ood = sum(sets[n]["tier_ood_calls"] for n in (*held, *new))
    tier_ms = [ms for n in (*held, *new) for ms in sets[n]["tier_ms"]]
    decision = [ms for n in (*held, *new) for ms in sets[n]["decision_ms"]]
    asked = f"{statistics.median(tier_ms):.0f} / {_pct(tier_ms, 0.95):.0f}" if tier_ms else "-"
    return (f"| {label} | {' | '.join(cells)} | {ood} ({tier_ood}) | {len(tier_ms)} | {asked} "
            f"| {statistics.median(decision):.1f} / {_pct(decision, 0.95):.0f} "
            f"| {run['rss_mb']:.0f} | {run['load_s']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=["smollm2-135m", "gemma3-270m"])
    parser.add_argument("--sealed", action="store_true", help="score the sealed set (once)")
    parser.add_argument("--train-child", help=argparse.SUPPRESS)
    parser.add_argument("--evaluate-child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--head", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sets", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_child:
        print(json.dumps(train_child(args.train_child, args.head)))
        return
    if args.evaluate_child:
        print(json.dumps(asyncio.run(evaluate_child(args.evaluate_child, args.base, args.head,
                                                    args.sets)), default=str))
        return
    held = list(HELD_OUT)
    new = [*NEW, *(["paraphrase5_sealed"] if args.sealed else [])]
    names = [*held, *new]
    lines = ["# The specialized last tier (`assistant train`)", "",
             f"`python benchmarks/train.py {' '.join(sys.argv[1:])}`. Held-out = "
             f"{', '.join(held)}; new paraphrases = {', '.join(new)} (written from the "
             "contract's tool table only). Last tier ms: the model's time on the utterances "
             "it was asked about; decision ms: every utterance.", "",
             "| configuration | held-out accuracy | "
             + "".join(f"{n}: accuracy; tiers 1-2 misses fixed (new errors) | " for n in new)
             + "out-of-domain calls (by the last tier) | last tier asked | last tier p50 / p95 "
             "ms | decision p50 / p95 ms | peak RSS MB | load s |",
             "|---|---|" + "---|" * len(new) + "---|---|---|---|---|---|"]
    none = _child("--evaluate-child", "none", "--base", args.models[0], "--sets", *names)
    lines.append(_row("tiers 1-2 only", none, none, held, new))
    training = []
    with tempfile.TemporaryDirectory() as folder:
        for base in args.models:
            head = Path(folder) / f"{base}.gguf"
            started = time.perf_counter()
            trained = _child("--train-child", base, "--head", str(head))
            trained["wall_s"] = time.perf_counter() - started
            training.append((base, trained))
            for config in ("packaged", "trained"):
                run = _child("--evaluate-child", config, "--base", base, "--head", str(head),
                             "--sets", *names)
                label = f"{base} as it is" if config == "packaged" else f"{base} trained"
                lines.append(_row(label, run, none, held, new))
                print(lines[-1], flush=True)
                if config == "trained":
                    wrong = [w for n in new for w in run["sets"][n]["wrong"]]
                    trained["wrong_new"] = wrong
    lines += ["", "## Training (full recipe)", "",
              "| base | examples (distinct) | labels | data s | features s | head s | total s "
              "| generated held-back accuracy | peak RSS MB |",
              "|---|---|---|---|---|---|---|---|---|"]
    for base, t in training:
        s = t["seconds"]
        lines.append(f"| {base} | {t['examples']} ({t['distinct']}) | {t['labels']} | "
                     f"{s['data']:.1f} | {s['features']:.0f} | {s['head']:.1f} | "
                     f"{t['wall_s']:.0f} | {t['dev_accuracy']:.1%} | {t['rss_mb']:.0f} |")
    for base, t in training:
        lines += ["", f"## {base} trained: wrong on the new paraphrases", "",
                  *(f"- {w}" for w in t.get("wrong_new", []))]
    report = "\n".join(lines) + "\n"
    print(report)
    (HERE / "reports" / "train.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
