from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.audit import AuditLog
from assistant.errors import AuditError


def test_records_are_json_lines_with_time_and_kind(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("decided", tool="lock_doors", arguments={})
    log.close()
    [record] = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert record["kind"] == "decided"
    assert record["tool"] == "lock_doors"
    assert "ts" in record


def test_log_rotates_by_size_and_keeps_every_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=400, backups=20)
    for index in range(30):
        log.append("result", index=index, message="x" * 40)
    log.close()
    files = sorted(tmp_path.glob("audit.jsonl*"))
    assert len(files) > 2
    assert all(f.stat().st_size <= 400 for f in files)
    lines = [line for f in files for line in f.read_text().splitlines()]
    indexes = sorted(json.loads(line)["index"] for line in lines)
    assert indexes == list(range(30))


def test_unwritable_log_raises_a_coded_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    log = AuditLog(tmp_path / "file" / "audit.jsonl")
    with pytest.raises(AuditError) as caught:
        log.append("decided", tool="lock_doors")
    assert caught.value.code == "audit-write-failed"
    assert "permissions" in caught.value.message


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_records_survive_a_kill_right_after_the_reply(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--audit-log", str(audit)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write("open the driver window halfway\n")
        process.stdin.flush()
        reply = process.stdout.readline()
        assert reply.startswith("assistant: Driver window")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    kinds = [json.loads(line)["kind"] for line in audit.read_text().splitlines()]
    assert kinds == ["decided", "executing", "result"]
