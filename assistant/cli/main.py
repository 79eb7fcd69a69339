"""The ``assistant`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from assistant.errors import AssistantError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Offline voice assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to standard error")
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="decide each line of standard input; run nothing")
    parse.add_argument("--skills", nargs="*", help="skills to load (default: all installed)")

    chat = commands.add_parser("chat", help="a typed conversation with the real dispatcher")
    chat.add_argument("--json", action="store_true", help="write events as JSON lines")
    chat.add_argument("--demo", action="store_true",
                      help="play a short scripted session instead of reading standard input")
    chat.add_argument("--audit-log", type=Path, help="audit log path "
                      "(default: $ASSISTANT_AUDIT_LOG or ~/.local/state/assistant/audit.jsonl)")
    chat.add_argument("--speed", type=float, default=0.0,
                      help="the simulated vehicle's speed in km/h (default: parked)")
    chat.add_argument("--plant", type=Path, help="plant definition YAML (default: demo plant)")
    chat.add_argument("--confirm-seconds", type=float, default=8.0,
                      help="seconds a confirmation waits for yes")
    chat.add_argument("--skills", nargs="*", help="skills to load (default: all installed)")
    return parser


def _parse(args: argparse.Namespace) -> int:
    from assistant.app import build_understanding
    from assistant.cli.parse import parse_lines

    _, understanding = build_understanding(args.skills)
    parse_lines(understanding, sys.stdin.buffer, sys.stdout)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from assistant.cli.chat import run_chat

    lines: Iterable[str]
    if args.demo:
        script = files("assistant.cli").joinpath("demo_session.txt").read_text(encoding="utf-8")
        lines = script.splitlines()
    else:
        # Bytes decoded line by line: one bad line must not end the conversation.
        lines = (raw.decode("utf-8", errors="replace") for raw in sys.stdin.buffer)
    configs: dict[str, dict[str, object]] = {"vehicle": {"speed_kmh": args.speed}}
    if args.plant:
        configs["factory"] = {"plant_file": str(args.plant)}
    asyncio.run(run_chat(lines, sys.stdout, as_json=args.json, echo=args.demo,
                         audit_path=args.audit_log, enabled=args.skills, configs=configs,
                         confirm_seconds=args.confirm_seconds))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _parse(args) if args.command == "parse" else _chat(args)
    except AssistantError as err:
        print(f"assistant: {err.message} [{err.code}]", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
