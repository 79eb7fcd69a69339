"""Random sessions through the real dialogue, dispatcher and understanding, on simulated
back ends that fail, with the safety rules checked after every step (hypothesis'
RuleBasedStateMachine; ``benchmarks/safety.py`` runs the same rig for 100,000 steps)."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
from collections.abc import Awaitable
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from assistant.testing import DiskFault, Kind, SafetyRig, Violation
from tests.conftest import AWAIT_LIMIT
from tests.safety.conftest import shared

PAUSES = st.sampled_from([0.2, 1.0, 3.0, 7.9, 8.1, 30.0])
MACHINES = st.sampled_from(["press_1", "press_2", "lathe", "welder", "packer", "mixer"])


class SafetySession(RuleBasedStateMachine):
    """Commands, stops, answers at the wrong time, salad and noise, with latches, speeds,
    bus faults, audit failures and clock jumps in between."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="safety-"))
        self.rig: SafetyRig | None = None

    def _run(self, work: Awaitable[list[Violation]]) -> None:
        violations = self.loop.run_until_complete(asyncio.wait_for(work, AWAIT_LIMIT))
        assert not violations, "\n".join(map(str, violations))

    @initialize(seed=st.integers(0, 2**32 - 1))
    def start(self, seed: int) -> None:
        classifier, pools, _ = shared()
        self.rig = SafetyRig(self.folder, random.Random(seed), classifier=classifier,
                             pools=pools)

    @precondition(lambda self: self.rig is not None)
    @rule(kind=st.sampled_from(list(Kind)), pause=PAUSES)
    def say(self, kind: Kind, pause: float) -> None:
        assert self.rig is not None
        self._run(self.rig.say(self.rig.utterance(kind), after_s=pause))

    @precondition(lambda self: self.rig is not None and self.rig.assistant.dialogue.awaiting)
    @rule(kind=st.sampled_from([Kind.STOP, Kind.STOP, Kind.ANSWER, Kind.COMMAND, Kind.SALAD]),
          pause=PAUSES)
    def while_something_is_pending(self, kind: Kind, pause: float) -> None:
        """The moments that matter most: a question or a confirmation is pending."""
        assert self.rig is not None
        self._run(self.rig.say(self.rig.utterance(kind), after_s=pause))

    @precondition(lambda self: self.rig is not None)
    @rule(first=st.sampled_from([Kind.ASK, Kind.CONFIRMABLE]),
          then=st.sampled_from([Kind.STOP, Kind.STOP, Kind.ANSWER, Kind.SALAD]), pause=PAUSES)
    def a_question_then(self, first: Kind, then: Kind, pause: float) -> None:
        """A request that is asked about or read back, then what comes next."""
        assert self.rig is not None
        self._run(self.rig.say(self.rig.utterance(first)))
        self._run(self.rig.say(self.rig.utterance(then), after_s=pause))

    @precondition(lambda self: self.rig is not None)
    @rule(seconds=st.sampled_from([1.0, 8.5, 60.0]))
    def time_passes(self, seconds: float) -> None:
        assert self.rig is not None
        self._run(self.rig.wait(seconds))

    @precondition(lambda self: self.rig is not None)
    @rule()
    def nobody_answers(self) -> None:
        assert self.rig is not None
        self._run(self.rig.silence())

    @precondition(lambda self: self.rig is not None)
    @rule(kmh=st.sampled_from([0.0, 0.0, 12.0, 50.0]))
    def car_speed(self, kmh: float) -> None:
        assert self.rig is not None
        self.rig.set_speed(kmh)

    @precondition(lambda self: self.rig is not None)
    @rule(machine=MACHINES)
    def alarm_at_the_plant(self, machine: str) -> None:
        assert self.rig is not None
        self.rig.raise_alarm(machine)

    @precondition(lambda self: self.rig is not None)
    @rule()
    def reset_at_the_plant(self) -> None:
        assert self.rig is not None
        self.rig.reset_at_plant()

    @precondition(lambda self: self.rig is not None)
    @rule(fault=st.sampled_from(["none", "none", "down", "no_ack"]))
    def plant_bus(self, fault: str) -> None:
        assert self.rig is not None
        self.rig.break_bus(fault)

    @precondition(lambda self: self.rig is not None)
    @rule(fault=st.sampled_from([DiskFault.NONE, DiskFault.NONE, DiskFault.FULL,
                                 DiskFault.TORN]))
    def audit_disk(self, fault: DiskFault) -> None:
        assert self.rig is not None
        self.rig.break_disk(fault)

    def teardown(self) -> None:
        if self.rig is not None:
            self.loop.run_until_complete(self.rig.aclose())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)


SafetySession.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_safety_rules_hold_in_random_sessions = SafetySession.TestCase
