"""Bad input from the command line never ends in a traceback, and never stops a list early
(issue 12: a file name over 255 bytes, TOML nested too deeply)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LONG_NAME = "/tmp/" + "a" * 300 + ".wav"


def _assistant(*args: str, stdin: str = "", tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli.main", *args], input=stdin,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "ASSISTANT_AUDIT_LOG": str(tmp_path / "a.jsonl")})


def test_parse_audio_reports_an_impossible_file_name_and_goes_on(tmp_path: Path) -> None:
    done = _assistant("parse", "--audio", "--slm", "none",
                      stdin=f"{LONG_NAME}\n{tmp_path / 'missing.wav'}\n", tmp_path=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["tool"] is None and "File name too long" in first["error"]
    assert len(first["error"]) < 300
    assert "does not exist" in second["error"]


def test_run_input_says_what_is_wrong_with_an_impossible_file_name(tmp_path: Path) -> None:
    done = _assistant("run", "--input", LONG_NAME, "--json", "--slm", "none",
                      tmp_path=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "[audio-file-unreadable]" in done.stderr and "File name too long" in done.stderr


def test_config_check_reports_deeply_nested_toml(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    done = _assistant("config", "check", str(config), tmp_path=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "nested too deeply" in done.stdout
