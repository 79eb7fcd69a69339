"""``assistant doctor``: every area checked, and what failed comes with its fix."""

from __future__ import annotations

import io
import socket
from pathlib import Path

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
    assert "fix: check factory.modbus host and port" in modbus
    assert "ok   can      simulated" in report
    assert "ok   models   hey_jarvis: checksums match" in report
    assert report.rstrip().endswith("to fix")
