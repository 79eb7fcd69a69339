"""Word salad from the skills' own vocabulary through ``parse`` and ``chat``: it never
stops anything and is almost never a call. A bounded run here; ``benchmarks/safety.py``
runs the long one."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from assistant.skill_api import Safety
from assistant.testing import Kind, SafetyRig, SaladTally, WordSalad
from assistant.testing.rig import chaotic_model
from assistant.wiring import build_understanding
from tests.conftest import AWAIT_LIMIT
from tests.safety.conftest import shared

SALADS = 3000
MOST_CALLS = 0.005
"""At most this share of salad may become a call (issue 12)."""


def test_salad_through_parse_never_stops_and_is_rarely_a_call() -> None:
    """The parse path, with a language model that proposes anything it is offered."""
    classifier, _, _ = shared()
    understanding = build_understanding(classifier=classifier)[1]
    rng = random.Random(12)
    understanding.attach_model(chaotic_model(rng))
    salad, tally = WordSalad(understanding, rng), SaladTally()

    async def parse_all() -> None:
        for _ in range(SALADS):
            decision = await asyncio.wait_for(understanding.understand(salad.draw()),
                                              AWAIT_LIMIT)
            immediate = decision.tool is not None and understanding.catalog.safety(
                decision.tool, decision.arguments) == Safety.IMMEDIATE
            tally.add(decision, immediate=immediate)

    asyncio.run(parse_all())
    assert tally.immediate == 0, tally.examples
    assert tally.call_rate <= MOST_CALLS, tally.examples


def test_salad_through_chat_never_acts_on_a_stop(tmp_path: Path) -> None:
    classifier, pools, _ = shared()

    async def chat() -> int:
        rig = SafetyRig(tmp_path, random.Random(34), classifier=classifier, pools=pools)
        try:
            for _ in range(600):
                violations = await asyncio.wait_for(rig.say(rig.utterance(Kind.SALAD)),
                                                    AWAIT_LIMIT)
                assert not violations, "\n".join(map(str, violations))
                await rig.silence()  # a question salad raised is not answered by more salad
            return sum(1 for e in rig.events if e.TYPE.value == "action")
        finally:
            await rig.aclose()

    actions = asyncio.run(chat())
    assert actions <= 600 * MOST_CALLS


def test_salad_through_the_parse_command_with_the_default_model(tmp_path: Path) -> None:
    """The shipped command and model: every line answered, no stop among the answers."""
    _, _, understanding = shared()
    salad = WordSalad(understanding, random.Random(56))
    lines = [salad.draw() for _ in range(150)]
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "parse"], input="\n".join(lines) + "\n",
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "ASSISTANT_AUDIT_LOG": str(tmp_path / "audit.jsonl")})
    assert result.returncode == 0, result.stderr
    decisions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["text"] for d in decisions] == lines
    stops = [d for d in decisions if d["tool"] in ("stop_machine", "emergency_stop")]
    assert stops == []
    assert "Traceback" not in result.stderr and "never retrieved" not in result.stderr
