"""``assistant serve`` as systemd starts it: the real engines, the buses with their
simulators, readiness and watchdog datagrams on a notify socket, journal lines on standard
output, and the audit log in $STATE_DIRECTORY."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from tests.speech import piper, save, silence

SERVE_LIMIT = 240


def test_serve_notifies_pets_and_logs_for_the_journal(tmp_path: Path) -> None:
    speech = tmp_path / "session.wav"
    save(np.concatenate([silence(0.5), piper("Hey Jarvis."), silence(0.4),
                         piper("Set conveyor two to forty percent."), silence(2.0),
                         piper("Hey Jarvis."), silence(0.4), piper("Lock the doors."),
                         silence(2.0)]), speech)
    config = tmp_path / "config.toml"
    config.write_text("[language_model]\nname = \"none\"\n[service]\nlog_format = "
                      "\"journald\"\nwatchdog_stall_s = 30\n", encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir()
    notify_path = tmp_path / "notify.sock"
    states: list[str] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.settimeout(0.2)
        listening = threading.Event()
        listening.set()

        def listen() -> None:  # as systemd does: read every datagram as it comes
            while True:
                try:
                    states.append(notify.recv(4096).decode())
                except TimeoutError:
                    # A datagram is queued here as it is sent: once the service has exited,
                    # an empty socket means every one of them is read.
                    if not listening.is_set():
                        return

        reader = threading.Thread(target=listen, name="notify-socket-reader")
        reader.start()
        env = {**os.environ, "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "200000",
               "STATE_DIRECTORY": str(state)}
        env.pop("ASSISTANT_AUDIT_LOG", None)
        try:
            result = subprocess.run(
                [sys.executable, "-m", "assistant.cli.main", "--config", str(config), "serve",
                 "--input", str(speech)], check=False, env=env, capture_output=True, text=True,
                timeout=SERVE_LIMIT)
        finally:
            listening.clear()
            reader.join(timeout=5)
    assert result.returncode == 0, result.stderr
    assert states.index("READY=1") < states.index("STOPPING=1")
    assert states[0].startswith("STATUS=starting")
    assert "WATCHDOG=1" in states[states.index("READY=1"):states.index("STOPPING=1")]

    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("<") and ">" in line for line in lines)
    actions = [line for line in lines if "event=action" in line]
    assert any("tool=set_conveyor_speed" in a and "ok=true" in a for a in actions), lines
    assert any("tool=lock_doors" in a and "ok=true" in a for a in actions), lines
    assert any("simulator started" in line and "PLC simulator" in line for line in lines)
    audit = [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]
    assert {"set_conveyor_speed", "lock_doors"} <= {r.get("tool") for r in audit}
