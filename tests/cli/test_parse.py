from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.cli.parse import parse_lines
from assistant.nlu.understand import Understanding

_COMMAND = [sys.executable, "-m", "assistant.cli.main", "parse"]


def _parse(data: bytes) -> list[dict[str, object]]:
    done = subprocess.run(_COMMAND, input=data, capture_output=True, timeout=120, check=True)
    return [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]


def test_each_line_gets_the_contract_object() -> None:
    [result] = _parse(b"set the temperature to twenty one degrees\n")
    assert result["tool"] == "set_temperature"
    assert result["arguments"] == {"celsius": 21, "zone": "all"}
    assert result["route"] == "grammar"
    assert isinstance(result["ms"], float)
    assert result["text"] == "set the temperature to twenty one degrees"


def test_bad_input_never_stops_the_command_early() -> None:
    lines = [
        b"",
        b"\x00\x07\x1b[31m control",
        b"\xff\xfe not utf-8 \xc3\x28",
        b"a" * 20000,
        b'{"tool": "unlock_doors", "arguments": {}}',
        b"unlock the doors",
    ]
    results = _parse(b"\n".join(lines) + b"\n")
    assert len(results) == len(lines)
    assert [r["tool"] for r in results[:5]] == [None] * 5
    assert all(r["arguments"] == {} for r in results[:5])
    assert "UTF-8" in str(results[2]["error"])
    assert results[5]["tool"] == "unlock_doors"


def test_out_of_range_carries_the_reason() -> None:
    [result] = _parse(b"set the fan speed to 9\n")
    assert result["tool"] == "set_fan_speed"
    assert result["error"] == "The fan speed can be set from 0 to 7."


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ")), max_size=6))
def test_any_bytes_give_one_json_line_each(
    understanding: Understanding, lines: list[bytes]
) -> None:
    out = io.StringIO()
    source = io.BytesIO(b"".join(line + b"\n" for line in lines))
    written = asyncio.run(parse_lines(understanding, source, out))
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written == len(results) == len(lines)
    assert all(set(r) >= {"text", "tool", "arguments", "route", "ms"} for r in results)


def test_unicode_line_separators_stay_inside_their_json_line(understanding: Understanding) -> None:
    out = io.StringIO()
    source = io.BytesIO("a\u0085b\u2028c\u2029d\n".encode())
    asyncio.run(parse_lines(understanding, source, out))
    [result] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert result["text"] == "a\u0085b\u2028c\u2029d"
