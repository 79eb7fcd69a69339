"""Understanding benchmark: accuracy per tool and per route, false calls, decision time.

    python benchmarks/nlu.py                 # dev and held-out sets, report in benchmarks/reports
    python benchmarks/nlu.py --set heldout   # one set

A decision is correct when the tool and every argument equal the expected ones (free text
compared case-insensitively). On out-of-domain utterances, a "call" is any decision with a
tool; "actionable" leaves out those the dispatcher would refuse (an ``error``, e.g. an
unknown machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.nlu.understand import Decision, Understanding
from assistant.skills import discover_skills, load_skills

HERE = Path(__file__).parent
SETS = {
    "dev": HERE / "data" / "nlu_dev.tsv",
    "heldout": HERE / "data" / "nlu_heldout.tsv",
    "heldout2": HERE / "data" / "nlu_heldout2.tsv",
}


@dataclass(frozen=True)
class Case:
    text: str
    tool: str | None
    arguments: dict[str, Any]


def load_cases(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            text, tool, arguments = line.split("\t")
            cases.append(Case(text, None if tool == "-" else tool, json.loads(arguments)))
        except ValueError as err:
            raise SystemExit(f"{path}:{number}: expected text<TAB>tool<TAB>json: {err}") from err
    return cases


def _same(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    if expected.keys() != got.keys():
        return False
    for key, value in expected.items():
        other = got[key]
        if isinstance(value, str) and isinstance(other, str):
            if value.lower() != other.lower():
                return False
        elif value != other:
            return False
    return True


def correct(case: Case, decision: Decision) -> bool:
    if case.tool is None:
        return decision.tool is None
    return decision.tool == case.tool and _same(case.arguments, decision.arguments)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(name: str, cases: list[Case], understanding: Understanding) -> dict[str, Any]:
    for case in cases[:20]:  # warm caches the way a running assistant has them
        understanding.decide(case.text)
    per_tool: dict[str, list[bool]] = defaultdict(list)
    per_route: dict[str, list[bool]] = defaultdict(list)
    times: list[float] = []
    failures = []
    ood_calls = ood_actionable = 0
    for case in cases:
        decision = understanding.decide(case.text)
        times.append(decision.ms)
        ok = correct(case, decision)
        per_tool[case.tool or "(no tool)"].append(ok)
        per_route[str(decision.route)].append(ok)
        if case.tool is None and decision.tool is not None:
            ood_calls += 1
            ood_actionable += decision.error is None
        if not ok:
            failures.append({"text": case.text, "expected": case.tool,
                             "expected_arguments": case.arguments, **decision.to_json()})
    in_domain = [c for c in cases if c.tool]
    return {
        "set": name,
        "utterances": len(cases),
        "in_domain": len(in_domain),
        "out_of_domain": len(cases) - len(in_domain),
        "accuracy": sum(sum(v) for v in per_tool.values()) / len(cases),
        "ood_calls": ood_calls,
        "ood_actionable_calls": ood_actionable,
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "per_tool": {k: (sum(v), len(v)) for k, v in sorted(per_tool.items())},
        "per_route": {k: (sum(v), len(v)) for k, v in sorted(per_route.items())},
        "routes": dict(Counter(str(understanding.decide(c.text).route) for c in cases)),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--report", type=Path, default=HERE / "reports" / "nlu.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    loaded = load_skills(discover_skills())
    understanding = Understanding(loaded.catalog, loaded.sentences)
    start_up = time.perf_counter() - started
    names = list(SETS) if args.set == "all" else [args.set]
    results = [evaluate(name, load_cases(SETS[name]), understanding) for name in names]
    header = (f"# Understanding benchmark\n\n`python benchmarks/nlu.py --set {args.set}`; "
              f"start-up (load skills, compile {len(understanding.matcher)} templates, train "
              f"classifier): {start_up:.2f} s\n")
    report = header + "\n" + "\n".join(render(r) for r in results)
    print(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report, encoding="utf-8")
    print(f"report written to {args.report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
