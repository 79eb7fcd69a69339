"""The systemd unit as install.sh renders it: systemd-analyze verifies it, and its exposure
score is at most 2.0; it notifies, is watched, restarts within limits and reaches sound."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed (.ci/setup test does)")


@pytest.fixture(scope="module")
def unit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rendered unit, its ExecStart pointing at this environment's assistant."""
    prefix = tmp_path_factory.mktemp("prefix")
    (prefix / "venv" / "bin").mkdir(parents=True)
    (prefix / "venv" / "bin" / "assistant").symlink_to(Path(sys.executable).with_name(
        "assistant"))
    rendered = subprocess.run(["bash", str(ROOT / "systemd" / "install.sh"), "--print-unit"],
                              env={**os.environ, "ASSISTANT_PREFIX": str(prefix)},
                              capture_output=True, text=True, check=True, timeout=30).stdout
    path = prefix / "assistant.service"
    path.write_text(rendered, encoding="utf-8")
    return path


def _settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_analyze_verify_is_clean(unit: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], check=False,
                            capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_exposure_score_is_at_most_two(unit: Path) -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                             str(unit)], check=False, capture_output=True, text=True,
                            timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= 2.0


def test_the_service_notifies_is_watched_and_restarts_within_limits(unit: Path) -> None:
    settings = _settings(unit)
    assert settings["Type"] == ["notify"]
    assert settings["ExecStart"][0].endswith(" serve")
    watchdog_s = int(settings["WatchdogSec"][0].removesuffix("s"))
    # The loop must be declared stalled (and petting stop) before systemd's deadline.
    assert ServiceConfig().watchdog_stall_s < watchdog_s
    assert settings["Restart"] == ["on-failure"]
    assert settings["StartLimitBurst"] and settings["StartLimitIntervalSec"]
    assert settings["StateDirectory"] == ["assistant"]


def test_reload_sends_sighup_to_the_service(unit: Path) -> None:
    assert _settings(unit)["ExecReload"] == ["/bin/kill -HUP $MAINPID"]


def test_sound_devices_are_reachable_without_private_devices(unit: Path) -> None:
    settings = _settings(unit)
    assert "PrivateDevices" not in settings
    assert settings["DevicePolicy"] == ["closed"]
    assert "char-alsa rw" in settings["DeviceAllow"]
    assert settings["SupplementaryGroups"] == ["audio"]
    assert settings["CapabilityBoundingSet"] == [""]
    assert settings["NoNewPrivileges"] == ["yes"]
