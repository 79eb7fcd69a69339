"""Journal lines: one record is one greppable line, whatever its values hold."""

from __future__ import annotations

import io
import logging
import sys

from assistant.events import ActionEvent, ActionOutcome, ErrorEvent, ReplyEvent, TurnEvents
from assistant.logs import JournalFormatter, configure_logging, event_logger, fields


def test_plain_values_stay_bare_and_odd_ones_are_quoted() -> None:
    assert fields({"tool": "set_window", "ok": True, "n": 3}) == "tool=set_window ok=true n=3"
    assert fields({"text": 'a "quoted" = line\nbreak', "empty": ""}) == \
        'text="a \\"quoted\\" = line\\nbreak" empty=""'


def test_a_record_with_a_traceback_is_one_line_with_its_priority() -> None:
    formatter = JournalFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.makeLogRecord({"name": "assistant.x", "msg": "failed", "levelno":
                                        logging.ERROR, "levelname": "ERROR"})
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    assert line.startswith("<3>assistant.x: failed exception=")
    assert "\n" not in line and "ValueError: boom" in line


def test_events_become_records_a_grep_finds() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(journald=True, stream=stream)
    try:
        emit = event_logger()
        emit(ActionEvent(t_ms=1.0, tool="set_window", arguments={"position": 50}, ok=False,
                         message="That didn't work.", outcome=ActionOutcome.FAILED))
        emit(ErrorEvent(t_ms=2.0, code="stt-timeout", message="took too long"))
        emit(ReplyEvent(t_ms=3.0, text="Okay."))
    finally:
        root.handlers[:], root.level = handlers, level
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("<4>") and "event=action" in lines[0] and "ok=false" in lines[0]
    # a field named like a LogRecord attribute ("message") is renamed, not refused
    assert "action_message=" in lines[0]
    assert lines[1].startswith("<4>") and "code=stt-timeout" in lines[1]
    assert lines[2].startswith("<6>") and "event=reply" in lines[2]
    assert "text=Okay." in lines[2]


def test_a_turn_keeps_its_own_events_and_passes_every_event_on() -> None:
    seen: list[object] = []
    events = TurnEvents(seen.append)
    events(ReplyEvent(t_ms=0.0, text="before"))
    with events.turn() as turn:
        events(ReplyEvent(t_ms=1.0, text="during"))
        with events.turn() as inner:
            events(ReplyEvent(t_ms=2.0, text="inner"))
    assert [e.text for e in seen] == ["before", "during", "inner"]  # type: ignore[attr-defined]
    assert [e.text for e in turn] == ["during", "inner"]  # type: ignore[attr-defined]
    assert [e.text for e in inner] == ["inner"]  # type: ignore[attr-defined]
