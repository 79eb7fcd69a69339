"""Understanding benchmark: accuracy per tool and per route, false calls, decision time.

    python benchmarks/nlu.py                 # every set, without a language model and with
                                             # each packaged one; report in benchmarks/reports
    python benchmarks/nlu.py --set heldout --models none
    python benchmarks/nlu.py --model-path big.gguf --model-sha256 HEX   # a user's model too

Each model runs in its own process, so its peak RSS is its own. The model's decision time
counts only utterances it was asked about (the first two tiers left them undecided and the
gate let them through). "Paraphrase misses" are the paraphrase set's utterances the first
two tiers get wrong: what the model is for.

A decision is correct when the tool and every argument equal the expected ones (free text
compared case-insensitively). On out-of-domain utterances, a "call" is any decision with a
tool; "actionable" leaves out those the dispatcher would refuse (an ``error``, e.g. an
unknown machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from assistant.config import LanguageModelConfig
from assistant.errors import AssistantError
from assistant.llm.setup import open_language_model
from assistant.nlu.slm import prompt_prefix
from assistant.nlu.understand import Decision, Route, Understanding
from assistant.plugins import discover_skills, load_skills
from assistant.train.evaluate import Case
from assistant.train.evaluate import load_cases as load_set

HERE = Path(__file__).parent
SETS = {
    "dev": HERE / "data" / "nlu_dev.tsv",
    "heldout": HERE / "data" / "nlu_heldout.tsv",
    "heldout2": HERE / "data" / "nlu_heldout2.tsv",
    "paraphrase": HERE / "data" / "nlu_paraphrase.tsv",
    "paraphrase2": HERE / "data" / "nlu_paraphrase2.tsv",
    "paraphrase3": HERE / "data" / "nlu_paraphrase3.tsv",
    "paraphrase4": HERE / "data" / "nlu_paraphrase4.tsv",
    "paraphrase5": HERE / "data" / "nlu_paraphrase5.tsv",
    "slm_dev": HERE / "data" / "nlu_slm_dev.tsv",
}
HELD_OUT = ("heldout", "heldout2", "paraphrase", "paraphrase2", "paraphrase3", "paraphrase4")
PARAPHRASES = ("paraphrase", "paraphrase2", "paraphrase3", "paraphrase4")
PACKAGED_MODELS = ("smollm2-135m", "gemma3-270m")


def load_cases(path: Path) -> list[Case]:
    try:
        return load_set([path])
    except AssistantError as err:
        raise SystemExit(err.message) from err


def correct(case: Case, decision: Decision) -> bool:
    return case.correct(decision)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def evaluate(name: str, cases: list[Case], understanding: Understanding
                   ) -> dict[str, Any]:
    for case in cases[:20]:  # warm caches the way a running assistant has them
        understanding.decide(case.text)
    tier = understanding.model_tier
    per_tool: dict[str, list[bool]] = defaultdict(list)
    per_route: dict[str, list[bool]] = defaultdict(list)
    times: list[float] = []
    model_times: list[float] = []
    failures = []
    ood_calls = ood_actionable = ood_model = 0
    routes: Counter[str] = Counter()
    for case in cases:
        decision = await understanding.understand(case.text)
        times.append(decision.ms)
        if tier is not None and tier.last_call_ms is not None:
            model_times.append(tier.last_call_ms)
        ok = correct(case, decision)
        per_tool[case.tool or "(no tool)"].append(ok)
        per_route[str(decision.route)].append(ok)
        routes[str(decision.route)] += 1
        if case.tool is None and decision.tool is not None:
            ood_calls += 1
            ood_actionable += decision.error is None
            ood_model += decision.route == Route.SLM
        if not ok:
            failures.append({"text": case.text, "expected": case.tool,
                             "expected_arguments": case.arguments, **decision.to_json()})
    in_domain = [c for c in cases if c.tool]
    return {
        "set": name,
        "utterances": len(cases),
        "in_domain": len(in_domain),
        "out_of_domain": len(cases) - len(in_domain),
        "correct": sum(sum(v) for v in per_tool.values()),
        "accuracy": sum(sum(v) for v in per_tool.values()) / len(cases),
        "ood_calls": ood_calls,
        "ood_actionable_calls": ood_actionable,
        "ood_model_calls": ood_model,
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "model_calls": len(model_times),
        "model_p50_ms": statistics.median(model_times) if model_times else None,
        "model_p95_ms": percentile(model_times, 0.95) if model_times else None,
        "model_times": model_times,
        "per_tool": {k: (sum(v), len(v)) for k, v in sorted(per_tool.items())},
        "per_route": {k: (sum(v), len(v)) for k, v in sorted(per_route.items())},
        "routes": dict(routes),
        "failures": failures,
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"## {result['set']}: {result['utterances']} utterances "
        f"({result['in_domain']} in domain, {result['out_of_domain']} out of domain)",
        "",
        f"- accuracy: {result['accuracy']:.1%}",
        f"- out-of-domain utterances turned into a call: {result['ood_calls']} "
        f"(actionable, i.e. not refused: {result['ood_actionable_calls']})",
        f"- decision time: median {result['median_ms']:.3f} ms, p95 {result['p95_ms']:.3f} ms, "
        f"max {result['max_ms']:.3f} ms",
        "",
        "| route | correct | decided |",
        "|---|---|---|",
        *(f"| {k} | {ok} | {n} |" for k, (ok, n) in result["per_route"].items()),
        "",
        "| tool | correct | of |",
        "|---|---|---|",
        *(f"| {k} | {ok} | {n} |" for k, (ok, n) in result["per_tool"].items()),
        "",
    ]
    if result["failures"]:
        lines += ["Wrong decisions:", ""]
        lines += [f"- `{f['text']}`: expected {f['expected']} {json.dumps(f['expected_arguments'])}"
                  f", got {f['tool']} {json.dumps(f['arguments'])} via {f['route']}"
                  + (f" (error: {f['error']})" if f.get("error") else "")
                  for f in result["failures"]]
        lines.append("")
    return "\n".join(lines)


async def run_config(config: str, names: list[str], model_path: Path | None,
                     model_sha256: str, tier: dict[str, float]) -> dict[str, Any]:
    """One configuration in this process: "none", a packaged model, or "path"."""
    started = time.perf_counter()
    loaded = load_skills(discover_skills())
    understanding = Understanding(loaded.catalog, loaded.sentences)
    start_up = time.perf_counter() - started
    model = None
    load_s = 0.0
    if config != "none":
        settings = (LanguageModelConfig(path=model_path, sha256=model_sha256)
                    if config == "path" else LanguageModelConfig(name=config))
        started = time.perf_counter()
        model = await asyncio.to_thread(open_language_model, settings,
                                        prompt_prefix(loaded.catalog))
        understanding.attach_model(model, budget_s=settings.budget_ms / 1000.0, **tier)
        load_s = time.perf_counter() - started
    try:
        results = [await evaluate(name, load_cases(SETS[name]), understanding)
                   for name in names]
    finally:
        if model is not None:
            await model.aclose()
    return {"config": config if config != "path" else str(model_path),
            "start_up_s": start_up, "model_load_s": load_s, "templates": len(understanding.matcher),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "results": results}


def _in_child(config: str, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--config", config, "--set", *names, "--json-out", "-",
               *(f"--{k}={v}" for k, v in _tier_settings(args).items())]
    if args.model_path is not None:
        command += ["--model-path", str(args.model_path), "--model-sha256", args.model_sha256]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{config}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _tier_settings(args: argparse.Namespace) -> dict[str, float]:
    return {k: v for k, v in (("lead", args.lead), ("margin", args.margin)) if v is not None}


def summarize(run: dict[str, Any], baseline: dict[str, Any] | None) -> dict[str, Any]:
    results = {r["set"]: r for r in run["results"]}
    held = [results[n] for n in HELD_OUT if n in results]
    model_times = [t for r in run["results"] for t in r["model_times"]]
    summary = {
        "config": run["config"],
        "held_out": (sum(r["correct"] for r in held), sum(r["utterances"] for r in held)),
        "ood_calls": sum(r["ood_calls"] for r in run["results"]),
        "ood_actionable": sum(r["ood_actionable_calls"] for r in run["results"]),
        "ood_model": sum(r["ood_model_calls"] for r in run["results"]),
        "model_calls": len(model_times),
        "model_p50": statistics.median(model_times) if model_times else None,
        "model_p95": percentile(model_times, 0.95) if model_times else None,
        "rss_mb": run["rss_mb"],
        "load_s": run["model_load_s"],
        "slm_route": (sum(r["per_route"].get("slm", (0, 0))[0] for r in run["results"]),
                      sum(r["per_route"].get("slm", (0, 0))[1] for r in run["results"])),
        "misses": None,
    }
    if baseline is not None:
        base = {f["text"] for r in baseline["results"] if r["set"] in PARAPHRASES
                for f in r["failures"]}
        now = {f["text"] for r in run["results"] if r["set"] in PARAPHRASES
               for f in r["failures"]}
        summary["misses"] = (len(base - now), len(base), len(now - base))
    return summary


def render_summary(summaries: list[dict[str, Any]]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    lines = ["| configuration | held-out accuracy | paraphrase misses fixed (new errors) | "
             "slm route correct / decided | out-of-domain calls (by the model) | "
             "model calls | model p50 / p95 ms | peak RSS MB | model load s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        right, total = s["held_out"]
        misses = "-" if s["misses"] is None else \
            f"{s['misses'][0]} of {s['misses'][1]} ({s['misses'][2]})"
        lines.append(f"| {s['config']} | {right}/{total} = {right / total:.1%} | {misses} | "
                     f"{s['slm_route'][0]} / {s['slm_route'][1]} | {s['ood_calls']} "
                     f"({s['ood_model']}) | {s['model_calls']} | {ms(s['model_p50'])} / "
                     f"{ms(s['model_p95'])} | {s['rss_mb']:.0f} | {s['load_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="*", choices=[*SETS, "all"], default=["all"])
    parser.add_argument("--models", nargs="*", default=["none", *PACKAGED_MODELS],
                        help="configurations: none and/or packaged model names")
    parser.add_argument("--model-path", type=Path, help="also run a user's GGUF model")
    parser.add_argument("--model-sha256", default="", help="its expected sha256")
    parser.add_argument("--report", type=Path, default=HERE / "reports" / "nlu.md")
    parser.add_argument("--lead", type=float, help="model tier gate (default: the tier's)")
    parser.add_argument("--margin", type=float, help="model tier margin (default: the tier's)")
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = list(SETS) if "all" in args.set else args.set
    if args.config is not None:  # one configuration, in a child process
        print(json.dumps(asyncio.run(run_config(args.config, names, args.model_path,
                                                args.model_sha256, _tier_settings(args)))))
        return 0
    configs = list(args.models) + (["path"] if args.model_path is not None else [])
    runs = []
    for config in configs:
        print(f"running {config} ...", file=sys.stderr)
        runs.append(_in_child(config, names, args))
    baseline = next((r for r in runs if r["config"] == "none"), None)
    summaries = [summarize(run, baseline if run is not baseline else None) for run in runs]
    command = " ".join(["python benchmarks/nlu.py", *(sys.argv[1:] if argv is None else argv)])
    first = runs[0]
    report = [
        "# Understanding benchmark", "",
        f"`{command}`; start-up (load skills, compile {first['templates']} templates, train "
        f"classifier): {first['start_up_s']:.2f} s. Held-out = {', '.join(HELD_OUT)}.", "",
        render_summary(summaries),
    ]
    for run in runs:
        report += [f"# {run['config']}", ""]
        report += [render(r) for r in run["results"]]
    text = "\n".join(report)
    print(text)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(f"report written to {args.report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
