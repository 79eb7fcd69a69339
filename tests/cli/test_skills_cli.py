"""``assistant skills list / check / try``, run in-process through the real entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.plugins import ENTRY_POINT_GROUP

Install = Callable[[str], None]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Publish a variant of the shop-lights test skill as an installed package would."""
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)

    def installed(variant: str) -> None:
        metadata = tmp_path / "site" / "shop_lights-2.3.dist-info"
        metadata.mkdir(parents=True)
        (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: shop-lights\n"
                                           "Version: 2.3\n", encoding="utf-8")
        (metadata / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\nshop_lights = tests.third_party.shop_lights:{variant}\n",
            encoding="utf-8")
        monkeypatch.syspath_prepend(tmp_path / "site")

    return installed


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_list_names_package_version_tools_and_settings(
        install: Install, capsys: pytest.CaptureFixture[str]) -> None:
    install("skill")
    code, out = run(capsys, "skills", "list", "--json")
    skills = {entry["name"]: entry for entry in map(json.loads, out.splitlines())}
    assert code == 0
    shop = skills["shop_lights"]
    assert (shop["package"], shop["version"]) == ("shop-lights", "2.3")
    assert shop["tools"] == [{"name": "set_shop_lights", "safety": "plain",
                              "description": "Switch the shop's lights"}]
    assert {"name": "port", "type": "int", "default": 4840,
            "description": "its TCP port"} in shop["settings"]
    assert {t["name"]: t["safety"] for t in skills["vehicle"]["tools"]}["unlock_doors"] \
        == "confirm"


def test_list_as_text_shows_each_skill(install: Install,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    install("skill")
    code, out = run(capsys, "skills", "list")
    assert code == 0
    assert "shop_lights  (shop-lights 2.3)" in out
    assert "host: str = '127.0.0.1'  the lighting controller's address" in out


def test_check_fails_on_an_overlap_with_the_headlights_and_shows_where(
        install: Install, capsys: pytest.CaptureFixture[str]) -> None:
    install("skill")
    code, out = run(capsys, "skills", "check", "shop_lights")
    assert code == 1
    line = next(line for line in out.splitlines() if "error:" in line)
    assert "'turn on the lights': " in line
    assert "shop_lights.set_shop_lights (" in line and "shop_lights/templates.yaml:4)" in line
    assert "vehicle.set_headlights (" in line and "vehicle/templates.yaml:" in line
    assert "priority:" in line and "requires: [shop" in line  # the fix is suggested
    assert out.splitlines()[-1].startswith("shop_lights: ")


@pytest.mark.parametrize("variant", ["prioritized", "worded"])
def test_check_passes_when_priority_or_a_required_word_resolves_it(
        variant: str, install: Install, capsys: pytest.CaptureFixture[str]) -> None:
    install(variant)
    code, out = run(capsys, "skills", "check", "shop_lights", "--json")
    findings = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert not [f for f in findings if f["severity"] == "error"]
    kind = "priority" if variant == "prioritized" else "requires"
    assert any(f["severity"] == "note" and f"resolved by {kind}" in f["message"]
               for f in findings)


def test_check_of_an_unknown_skill_says_which_are_installed(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["skills", "check", "no_such"])
    assert code == 2
    assert "installed: core, factory, vehicle" in capsys.readouterr().err


def test_try_shows_each_tier_and_the_safety_class(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "skills", "try", "Please unlock the doors", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["normalized"]["digits"] == "unlock the doors"
    best = report["grammar"]["candidates"][0]
    assert (best["tool"], best["skill"]) == ("unlock_doors", "vehicle")
    assert best["source"].split("/")[-1].startswith("templates.yaml:")
    assert best["template"]
    assert report["classifier"]["consulted"] is False
    assert report["language_model"] == {"would_ask": False, "candidates": [],
                                        "loaded": False, "trained": False}
    assert report["decision"]["tool"] == "unlock_doors"
    assert report["decision"]["route"] == "grammar"
    assert report["decision"]["safety"] == "confirm"


def test_try_shows_the_classifier_margins_when_no_template_matches(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "skills", "try", "it is like an oven in this car", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["grammar"]["candidates"] == []
    assert report["classifier"]["consulted"] is True
    labels = report["classifier"]["labels"]
    assert labels and labels[0]["margin"] >= labels[-1]["margin"]
    assert isinstance(report["language_model"]["would_ask"], bool)


def test_try_shows_two_skills_matching_equally(install: Install,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    install("skill")
    code, out = run(capsys, "skills", "try", "turn on the lights")
    assert code == 0
    assert "vehicle.set_headlights {'mode': 'low'}" in out
    assert "shop_lights.set_shop_lights {'lit': True}" in out
    assert "the assistant asks which one is meant" in out
    assert "decision:    no tool" in out
