"""``assistant doctor``: every area checked, and what failed comes with its fix."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from assistant.cli.doctor import run_doctor


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_doctor_checks_every_area_and_says_what_to_fix(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[language_model]\nname = "none"\n'
                      f'[factory.modbus]\nport = {_free_port()}\nsimulate_plc = false\n'
                      f'timeout_s = 0.3\n[service]\naudit_log = "{tmp_path}/audit.jsonl"\n',
                      encoding="utf-8")
    out = io.StringIO()
    status = run_doctor(config, out)
    report = out.getvalue()
    assert status == 1
    areas = {line.split()[1] for line in report.splitlines() if line[:4] in {"ok  ", "FAIL"}}
    assert {"config", "audio", "models", "cpu", "disk", "modbus", "can"} <= areas
    modbus = report[report.index("FAIL modbus"):]
    assert "cannot connect to the plant controller" in modbus
    assert "fix: check skills.factory.modbus host and port" in modbus
    assert "ok   can      simulated" in report
    assert "ok   models   hey_jarvis: checksums match" in report
    assert report.rstrip().endswith("to fix")


@pytest.mark.usefixtures("installed_horn")
def test_a_skills_own_check_is_a_line_of_the_report(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[language_model]\nname = "none"\n[skills]\nenabled = ["horn"]\n'
                      '[factory]\nbackend = "in_process"\n[vehicle]\nbackend = "in_process"\n'
                      f'[service]\naudit_log = "{tmp_path}/audit.jsonl"\n', encoding="utf-8")
    out = io.StringIO()
    assert run_doctor(config, out) == 1
    report = out.getvalue()
    assert "FAIL horn     no horn answers\n" in report
    assert "fix: wire the horn to the bus" in report
