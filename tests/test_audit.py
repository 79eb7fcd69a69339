from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.dispatch.audit import AuditLog, read_records
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


def _partial_then_full() -> Callable[[int, bytes], int]:
    """``os.write`` on a disk that fills mid-record: part of the first record, then
    ENOSPC until space is freed."""
    state = {"calls": 0}

    def write(fd: int, data: bytes) -> int:
        state["calls"] += 1
        if state["calls"] == 1:
            return os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


def test_a_record_torn_by_a_full_disk_leaves_no_fragment(tmp_path: Path) -> None:
    """Issue 12: the next record was glued onto the fragment and could not be read."""
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append("decided", tool="lock_doors")
    full = AuditLog(path, write=_partial_then_full())
    with pytest.raises(AuditError):
        full.append("decided", tool="unlock_doors", arguments={})
    full.close()
    AuditLog(path).append("decided", tool="emergency_stop")
    log = read_records(path)
    assert log.skipped == 0
    assert [r["tool"] for r in log.records] == ["lock_doors", "emergency_stop"]


def test_a_fragment_left_by_a_crash_stays_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"ts": "2026-12-01T08:00:00", "kind": "decided", "tool": "lock_doors"}\n'
                     b'{"ts": "2026-12-01T08:00:01", "kind": "execu')
    AuditLog(path).append("result", tool="lock_doors", ok=True)
    log = read_records(path)
    assert log.skipped == 1
    assert [r["kind"] for r in log.records] == ["decided", "result"]


def test_reading_survives_a_torn_tail_and_foreign_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"ts": "x", "kind": "decided"}\n\xff\xfe\n[1, 2]\n{"ts": "y", "ki')
    log = read_records(path)
    assert ([r["kind"] for r in log.records], log.skipped) == (["decided"], 3)
    assert read_records(tmp_path / "absent.jsonl").records == []


_FILLS_MID_RECORD = """
import resource, signal, sys
from pathlib import Path
from assistant.dispatch.audit import AuditLog, read_records
from assistant.errors import AuditError
path = Path(sys.argv[1])
log = AuditLog(path)
log.append("decided", tool="lock_doors")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
size = path.stat().st_size
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 20, resource.RLIM_INFINITY))
try:
    log.append("decided", tool="unlock_doors", arguments={}, route="grammar")
    sys.exit("the write past the limit succeeded")
except AuditError:
    pass
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
log.append("decided", tool="emergency_stop")
result = read_records(path)
print(result.skipped, [r["tool"] for r in result.records])
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ")
def test_a_file_size_limit_hit_mid_record_leaves_whole_records(tmp_path: Path) -> None:
    """The kernel writes part of the record (the file may grow 20 bytes more), then fails."""
    result = subprocess.run([sys.executable, "-c", _FILLS_MID_RECORD, str(tmp_path / "a.jsonl")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 ['lock_doors', 'emergency_stop']"
