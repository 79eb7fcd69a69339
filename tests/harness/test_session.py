"""The harness a skill author tests with: a session of one skill (installed or not), alone
or with the built-ins, on its simulator, with the test's clock and audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import SkillLoadError
from assistant.skill_api import NoArguments, Skill, SkillContext, SkillRuntime, ToolResult, tool
from assistant.testing import FakeClock, SessionFactory
from tests.third_party import SIMULATED_PORT, SimulatedHorn
from tests.third_party import skill as horn


async def test_a_skill_not_installed_is_tested_alone_on_its_simulator(
    assistant_session: SessionFactory, audit_log: Path
) -> None:
    async with assistant_session([horn], settings={"horn": {"simulate_horn": True}}) as s:
        turn = await s.say("beep the horn")
        assert (turn.reply, turn.calls) == ("Honk.", [("honk", {})])
        assert [event["tool"] for event in turn.of("action")] == ["honk"]
        assert sorted(s.assistant.skills.runtimes) == ["horn"]
        simulated = s.simulated("horn")
        assert isinstance(simulated, SimulatedHorn) and simulated.port == SIMULATED_PORT
        assert s.audit_path == audit_log
        assert [r["tool"] for r in s.audit_records() if r["kind"] == "result"] == ["honk"]
    assert not simulated.powered  # the simulator stopped with the session


async def test_with_the_builtins_the_skill_is_one_among_them(
    assistant_session: SessionFactory, fake_clock: FakeClock
) -> None:
    async with assistant_session([horn], builtins=True) as s:
        assert {"horn", "core", "vehicle", "factory"} <= set(s.assistant.skills.runtimes)
        assert (await s.say("beep the horn")).calls == [("honk", {})]
        turn = await s.say("set the fan speed to 3")
        assert turn.calls == [("set_fan_speed", {"level": 3})]
        assert s.clock is fake_clock
        await s.say("unlock the doors")
        fake_clock.advance(30)  # the confirmation runs out on the test's clock
        assert (await s.say("yes")).calls == []
        assert s.kinds().count("action") == 2


async def test_installed_skills_are_found_by_name(
    assistant_session: SessionFactory, installed_horn: None
) -> None:
    async with assistant_session(["horn", "core"]) as s:
        assert sorted(s.assistant.skills.runtimes) == ["core", "horn"]
        assert (await s.say("honk")).reply == "Honk."
        with pytest.raises(SkillLoadError, match="no simulator runs for skill 'horn'"):
            s.simulated("horn")


async def test_settings_for_a_skill_not_loaded_are_refused(
    assistant_session: SessionFactory,
) -> None:
    with pytest.raises(SkillLoadError, match="settings given for skills not in the session: "
                                             "vehicle"):
        async with assistant_session([horn], settings={"vehicle": {"speed_kmh": 3}}):
            pass


async def test_an_unknown_skill_name_lists_the_installed_ones(
    assistant_session: SessionFactory,
) -> None:
    with pytest.raises(SkillLoadError, match=r"skills not installed: teleport; installed: "):
        async with assistant_session(["teleport"]):
            pass


class _Bell:
    """A back end with a connection to close."""

    def __init__(self) -> None:
        self.open = True

    async def aclose(self) -> None:
        self.open = False

    close = aclose  # the name the assistant called before the Backend protocol


def _bell_skill(templates: Path) -> Skill:
    def create(_: SkillContext) -> SkillRuntime:
        bell = _Bell()

        async def ring(_: NoArguments) -> ToolResult:
            return ToolResult(bell.open, "Ding.")

        return SkillRuntime(tools=(tool("ring_bell", NoArguments, ring, description="x"),),
                            backend=bell)

    return Skill(name="bell", templates=templates, create=create)


async def test_the_back_ends_are_closed_at_the_end(assistant_session: SessionFactory,
                                                   tmp_path: Path) -> None:
    templates = tmp_path / "templates.yaml"
    templates.write_text('tools:\n  ring_bell:\n    - sentences: ["ring the bell"]\n',
                         encoding="utf-8")
    async with assistant_session([_bell_skill(templates), "core"]) as s:
        bell = s.backend("bell")
        assert (await s.say("ring the bell")).calls == [("ring_bell", {})]
        assert bell.open
    assert not bell.open
