from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import SkillLoadError
from assistant.testing import SessionFactory
from skills.factory.plant import load_plant


async def test_names_and_aliases_come_from_configuration(
    tmp_path: Path, assistant_session: SessionFactory
) -> None:
    plant = tmp_path / "plant.yaml"
    plant.write_text("machines:\n  oven_a:\n    names: [\"big oven\", \"oven a\"]\n"
                     "conveyors: {}\nlines: {}\n", encoding="utf-8")
    async with assistant_session(["factory"],
                                 settings={"factory": {"plant_file": str(plant)}}) as session:
        understanding = session.assistant.understanding
    decision = understanding.decide("stop the big oven")
    assert (decision.tool, decision.arguments) == ("stop_machine", {"machine": "oven_a"})
    assert understanding.decide("stop the lathe").tool is None


def test_an_invalid_plant_says_what_is_wrong(tmp_path: Path) -> None:
    plant = tmp_path / "plant.yaml"
    plant.write_text("machines: 7\n", encoding="utf-8")
    with pytest.raises(SkillLoadError, match=r"plant .* is invalid"):
        load_plant(plant)
