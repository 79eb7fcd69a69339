from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _chat(script: str, tmp_path: Path, *extra: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--json",
         "--audit-log", str(tmp_path / "audit.jsonl"), *extra],
        input=script, capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_contract_scripted_session(tmp_path: Path) -> None:
    events = _chat("unlock the doors\nyes\nemergency stop\nstart press one\n", tmp_path)
    kinds = [e["event"] for e in events if e["event"] in ("confirm", "action", "refused")]
    assert kinds == ["confirm", "action", "action", "refused"]
    actions = [e for e in events if e["event"] == "action"]
    assert [a["tool"] for a in actions] == ["unlock_doors", "emergency_stop"]
    assert all(a["ok"] for a in actions)
    refused = next(e for e in events if e["event"] == "refused")
    assert refused["tool"] == "start_machine"
    assert "latched" in str(refused["reason"])
    times = [float(str(e["t_ms"])) for e in events]
    assert times == sorted(times)
    assert "wake" not in {e["event"] for e in events}


def test_unanswered_confirmation_is_cancelled_when_input_ends(tmp_path: Path) -> None:
    events = _chat("unlock the doors\n", tmp_path)
    assert events[-2]["event"] == "cancelled"
    assert "Cancelled" in str(events[-1]["text"])


def test_confirmation_times_out_in_real_time(tmp_path: Path) -> None:
    script = "start press one\n"
    done = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--json", "--confirm-seconds",
         "2", "--audit-log", str(tmp_path / "audit.jsonl")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert done.stdin is not None and done.stdout is not None
    done.stdin.write(script)
    done.stdin.flush()
    seen = []
    while not seen or seen[-1]["event"] != "cancelled":
        seen.append(json.loads(done.stdout.readline()))
    done.stdin.write("yes\n")
    done.stdin.close()
    rest = [json.loads(line) for line in done.stdout.read().splitlines()]
    done.wait(timeout=60)
    assert seen[-1]["reason"] == "no answer in time"
    assert "action" not in {e["event"] for e in rest}


def test_an_option_out_of_range_names_the_key_and_the_range(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--confirm-seconds", "0.5",
         "--audit-log", str(tmp_path / "audit.jsonl")],
        check=False, input="", capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "skills.confirm_seconds" in done.stderr and "2" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_demo_session_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--demo",
         "--audit-log", str(tmp_path / "audit.jsonl")],
        capture_output=True, text=True, timeout=120, check=True)
    assert "assistant: Doors unlocked." in done.stdout
    assert "stop-all is latched" in done.stdout


def test_bad_bytes_do_not_end_the_conversation(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--json",
         "--audit-log", str(tmp_path / "audit.jsonl")],
        input=b"\xff\xfe broken \xc3\x28\n\x00\x1b[2J\nlock the doors\n",
        capture_output=True, timeout=120, check=True)
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    actions = [e for e in events if e["event"] == "action"]
    assert [a["tool"] for a in actions] == ["lock_doors"]
