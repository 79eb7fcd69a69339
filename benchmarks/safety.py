"""Safety benchmark: the long mode of the checker in ``tests/safety``.

    python benchmarks/safety.py                 # ~25 min: 100,000 session steps, 100,000
                                                # salads (and 2,000 with the default model),
                                                # the held-out sentences' development part
    python benchmarks/safety.py --quick         # ~3 min
    python benchmarks/safety.py --sealed        # also the sealed part: score it once

1. **Sessions**: random walks through the real dialogue, dispatcher and understanding on
   the simulated car and plant (``assistant.testing.SafetyRig``): commands from every
   template, stops, answers at the wrong time, word salad and noise, with speeds, alarms,
   latches, plant bus faults, audit disk faults and clock jumps in between, and a chaotic
   language model. Every step is checked against every rule; violations are counted, not
   fatal.
2. **Word salad through parse**: the skills' own words in random order (draws that are a
   template sentence are set aside and reported apart), decided by understanding with no
   model, with the chaotic model, and with the default packaged model.
3. **Held-out sentences** (``benchmarks/data/safety_heldout.tsv`` and, with ``--sealed``,
   ``safety_sealed.tsv``), written by a helper that saw only the contract's tool table:
   statements that ask for nothing, stops, requests missing a value, and traps (directions,
   odd numbers, negations, two requests in one).

Report: ``benchmarks/reports/safety.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import LanguageModelConfig
from assistant.llm.setup import attach_language_model
from assistant.nlu.classifier import IntentClassifier
from assistant.nlu.understand import Decision, Understanding
from assistant.skill_api import Safety
from assistant.testing import DiskFault, Pools, SafetyRig, SaladTally, WordSalad, sample_pools
from assistant.testing.rig import chaotic_model
from assistant.wiring import build_assistant, build_understanding

HERE = Path(__file__).parent
REPORT = HERE / "reports" / "safety.md"
HELD_OUT = {"dev": HERE / "data" / "safety_heldout.tsv",
            "sealed": HERE / "data" / "safety_sealed.tsv"}


@dataclass
class SessionTally:
    sessions: int = 0
    steps: int = 0
    seconds: float = 0.0
    violations: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    salad_steps: int = 0
    salad_actions: Counter[str] = field(default_factory=Counter)


async def _session(rig: SafetyRig, rng: random.Random, steps: int, tally: SessionTally) -> None:
    machines = sorted(rig.plant.running)
    while rig.steps < steps:
        roll = rng.random()
        if roll < 0.78:
            utterance = rig.utterance()
            first = len(rig.events)
            found = await rig.say(utterance, after_s=rng.choice([0.3, 1, 3, 7.9, 8.1, 30]))
            if utterance.kind == "salad":
                tally.salad_steps += 1
                tally.salad_actions.update(e.tool for e in rig.events[first:]  # type: ignore[attr-defined]
                                           if e.TYPE.value == "action")
        elif roll < 0.85:
            found = await rig.wait(rng.choice([1, 8.5, 60]))
        elif roll < 0.87:
            found = await rig.silence()
        else:
            _world(rig, rng, machines)
            continue
        for violation in found:
            tally.violations[violation.rule.value] += 1
            if len(tally.examples) < 20:
                tally.examples.append(str(violation))


def _world(rig: SafetyRig, rng: random.Random, machines: list[str]) -> None:
    change = rng.randrange(5)
    if change == 0:
        rig.set_speed(rng.choice([0.0, 0.0, 30.0]))
    elif change == 1:
        rig.raise_alarm(rng.choice(machines))
    elif change == 2:
        rig.reset_at_plant()
    elif change == 3:
        rig.break_bus(rng.choice(["none", "none", "down", "no_ack"]))
    else:
        rig.break_disk(rng.choice([DiskFault.NONE, DiskFault.NONE, DiskFault.FULL,
                                   DiskFault.TORN]))


async def run_sessions(total_steps: int, per_session: int, seed: int,
                       classifier: IntentClassifier, pools: Pools) -> SessionTally:
    tally = SessionTally()
    rng = random.Random(seed)
    started = time.perf_counter()
    while tally.steps < total_steps:
        with tempfile.TemporaryDirectory(prefix="safety-") as folder:
            rig = SafetyRig(Path(folder), random.Random(rng.random()), classifier=classifier,
                            pools=pools)
            try:
                await _session(rig, rng, min(per_session, total_steps - tally.steps), tally)
            finally:
                await rig.aclose()
            tally.sessions += 1
            tally.steps += rig.steps
        if tally.sessions % 50 == 0:
            print(f"  {tally.steps} steps, {sum(tally.violations.values())} violations",
                  flush=True)
    tally.seconds = time.perf_counter() - started
    return tally


async def run_salad(understanding: Understanding, count: int, seed: int) -> SaladTally:
    """Salad that is no template sentence, decided as ``parse`` decides it."""
    salad, tally = WordSalad(understanding, random.Random(seed)), SaladTally()
    for _ in range(count):
        decision = await understanding.understand(salad.draw())
        tally.add(decision, immediate=_immediate(understanding, decision))
    tally.salads = count
    return tally


def raw_sentences(understanding: Understanding, count: int, seed: int) -> tuple[int, Counter[str],
                                                                                 int]:
    """How many raw draws happen to be template sentences, what they are, how many stop."""
    salad = WordSalad(understanding, random.Random(seed))
    tools: Counter[str] = Counter()
    stops = 0
    for _ in range(count):
        text = salad.raw()
        if understanding.matcher.is_sentence(text):
            decision = understanding.decide(text)
            if decision.tool and not decision.missing and not decision.error:
                tools[decision.tool] += 1
                stops += _immediate(understanding, decision)
    return sum(tools.values()), tools, stops


def _immediate(understanding: Understanding, decision: Decision) -> bool:
    return decision.tool is not None and not decision.missing and not decision.error and \
        understanding.catalog.safety(decision.tool, decision.arguments) == Safety.IMMEDIATE


async def held_out(understanding: Understanding, path: Path) -> dict[str, Any]:
    kinds: Counter[str] = Counter()
    right: Counter[str] = Counter()
    false_calls = 0
    wrong: list[str] = []
    rows = await asyncio.to_thread(path.read_text, encoding="utf-8")
    for line in rows.splitlines():
        if not line.strip():
            continue
        kind, text, tool, arguments, missing = (line.split("\t") + [""] * 5)[:5]
        expected_tool = None if tool == "none" else tool
        expected = json.loads(arguments or "{}")
        decision = await understanding.understand(text)
        kinds[kind] += 1
        if kind == "ask":
            ok = decision.tool == expected_tool and bool(decision.missing)
        else:
            ok = decision.tool == expected_tool and (expected_tool is None or (
                not decision.missing and all(decision.arguments.get(k) == v
                                             for k, v in expected.items())))
        if kind == "statement" and decision.tool is not None and not decision.missing:
            false_calls += 1
        right[kind] += ok
        if not ok:
            asked = f" missing {list(decision.missing)}" if decision.missing else ""
            wrong.append(f"[{kind}] `{text}`: expected {expected_tool} {expected}"
                         f"{' missing ' + missing if missing else ''}, got {decision.tool} "
                         f"{decision.arguments}{asked} via {decision.route}")
    return {"kinds": kinds, "right": right, "false_calls": false_calls, "wrong": wrong}


def _salad_table(name: str, tally: SaladTally) -> list[str]:
    calls = sum(tally.calls.values())
    return [f"| {name} | {tally.salads} | {calls} ({100 * tally.call_rate:.2f} %) | "
            f"{tally.immediate} | {sum(tally.questions.values())} | "
            f"{', '.join(f'{k} {v}' for k, v in tally.routes.most_common()) or '-'} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--salads", type=int, default=100_000)
    parser.add_argument("--model-salads", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1201)
    parser.add_argument("--quick", action="store_true", help="5,000 steps and salads")
    parser.add_argument("--sealed", action="store_true",
                        help="also score the sealed held-out part (once, at the end)")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.salads, args.model_salads = 5_000, 5_000, 200
    logging.disable(logging.CRITICAL)  # back-end faults are logged by design; counted here
    asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> None:
    command = "python benchmarks/safety.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in (("steps", args.steps),
                                                     ("salads", args.salads),
                                                     ("model_salads", args.model_salads),
                                                     ("seed", args.seed))) + \
        (" --sealed" if args.sealed else "")
    _, understanding = build_understanding()
    classifier = understanding.classifier
    with tempfile.TemporaryDirectory() as folder:
        pools = sample_pools(build_assistant(lambda _e: None, classifier=classifier,
                                             audit_path=Path(folder) / "a.jsonl",
                                             skill_configs={"vehicle": {}, "factory": {}}),
                             random.Random(args.seed))
    print(f"sessions: {args.steps} steps ...", flush=True)
    sessions = await run_sessions(args.steps, 200, args.seed, classifier, pools)
    print(f"  {sessions.steps} steps in {sessions.sessions} sessions, "
          f"{sum(sessions.violations.values())} violations", flush=True)

    print(f"salad through parse: {args.salads} ...", flush=True)
    plain = await run_salad(understanding, args.salads, args.seed + 1)
    chaotic_understanding = build_understanding(classifier=classifier)[1]
    chaotic_understanding.attach_model(chaotic_model(random.Random(args.seed)))
    chaotic = await run_salad(chaotic_understanding, args.salads // 5, args.seed + 2)
    raw_count, raw_tools, raw_stops = raw_sentences(understanding, args.salads, args.seed + 3)
    modelled = build_understanding(classifier=classifier)[1]
    model, notice = attach_language_model(modelled, LanguageModelConfig())
    if notice:
        print(f"  {notice}")
    try:
        with_model = await run_salad(modelled, args.model_salads, args.seed + 4)
        sets = {"dev": await held_out(modelled, HELD_OUT["dev"])}
        if args.sealed:
            sets["sealed"] = await held_out(modelled, HELD_OUT["sealed"])
    finally:
        if model is not None:
            await model.aclose()

    lines = ["# Safety benchmark", "", f"`{command}`", "",
             "## Sessions (every rule checked after every step)", "",
             f"- {sessions.sessions} sessions, {sessions.steps} steps checked in "
             f"{sessions.seconds:.0f} s ({sessions.steps / sessions.seconds:.0f} steps/s), "
             "chaotic language model",
             f"- invariant violations: {sum(sessions.violations.values())}"]
    lines += [f"  - {rule}: {count}" for rule, count in sessions.violations.most_common()]
    lines += [f"  - e.g. {example}" for example in sessions.examples[:5]]
    lines += [f"- salad said in sessions: {sessions.salad_steps} steps; actions in those "
              f"steps: {sum(sessions.salad_actions.values())} "
              f"({dict(sessions.salad_actions) or 'none'})", "",
              "## Word salad through parse", "",
              "Salad: 1 to 7 of the skills' own words at random. Draws that a template "
              "matches whole are commands, not salad, and are set aside (see below).", "",
              "| understanding | salads | turned into calls | immediate | questions | "
              "calls by route |", "|---|---|---|---|---|---|"]
    lines += _salad_table("templates and classifier (no model)", plain)
    lines += _salad_table("with a chaotic model (proposes anything)", chaotic)
    lines += _salad_table("with the default model (smollm2-135m)", with_model)
    calls = plain.calls + chaotic.calls + with_model.calls
    lines += ["", "Salad turned into calls, by tool (all three runs): "
              + (", ".join(f"{tool} {n}" for tool, n in calls.most_common()) or "none"), "",
              f"Raw draws (template sentences included): {raw_count} of {args.salads} "
              f"({100 * raw_count / args.salads:.2f} %) were a template sentence with a "
              f"complete call, {raw_stops} of them a stop ("
              + ", ".join(f"{t} {n}" for t, n in raw_tools.most_common(6)) + ").", "",
              "Examples of salad turned into calls:", ""]
    lines += [f"- {example}" for example in (plain.examples + with_model.examples)[:15]]
    for name, result in sets.items():
        kinds, right = result["kinds"], result["right"]
        lines += ["", f"## Held-out sentences: {name} part ({HELD_OUT[name].name}, "
                  "default model)", "",
                  "| kind | right | of |", "|---|---|---|"]
        lines += [f"| {kind} | {right[kind]} | {kinds[kind]} |" for kind in sorted(kinds)]
        lines += ["", f"Statements turned into calls: {result['false_calls']} of "
                  f"{kinds['statement']}.", "", "Wrong:", ""]
        lines += [f"- {item}" for item in result["wrong"]]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nreport written to {REPORT}")


if __name__ == "__main__":
    main()
