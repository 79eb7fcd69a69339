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
from assistant.llm.setup import DEFAULT_LANGUAGE_MODEL, LanguageModelSettings
from assistant.voice import VoiceSettings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Offline voice assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to standard error")
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="decide each line of standard input; run nothing")
    parse.add_argument("--skills", nargs="*", help="skills to load (default: all installed)")
    parse.add_argument("--audio", action="store_true",
                       help="lines are WAV paths: transcribe each, then decide")
    _voice_options(parse)

    run = commands.add_parser("run", help="the voice pipeline: microphone and speaker, or a file")
    run.add_argument("--input", type=Path, help="a WAV file instead of the microphone")
    run.add_argument("--output", type=Path, help="with --input: write the spoken replies here")
    run.add_argument("--json", action="store_true", help="write events as JSON lines")
    run.add_argument("--input-device", help="microphone name (part of it) or index")
    run.add_argument("--output-device", help="speaker name (part of it) or index")
    run.add_argument("--audit-log", type=Path, help="audit log path")
    run.add_argument("--speed", type=float, default=0.0, help="simulated vehicle speed, km/h")
    _voice_options(run)

    demo = commands.add_parser("demo", help="speak a short session and run it through the "
                               "whole voice pipeline (no microphone needed)")
    demo.add_argument("--dir", type=Path, default=Path("demo-output"),
                      help="where the spoken session, replies and audit log go")
    _voice_options(demo)

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
    _model_options(chat)

    models = commands.add_parser("models", help="list the models and verify their checksums")
    models.add_argument("--slm-model", type=Path, help="also verify this GGUF file")
    models.add_argument("--slm-sha256", default="", help="the sha256 --slm-model should have")
    return parser


def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("language model (last tier of understanding)")
    group.add_argument("--slm", default=DEFAULT_LANGUAGE_MODEL,
                       help=f"packaged model (smollm2-135m, gemma3-270m) or none "
                       f"(default {DEFAULT_LANGUAGE_MODEL})")
    group.add_argument("--slm-model", type=Path, help="a GGUF file instead (needs --slm-sha256)")
    group.add_argument("--slm-sha256", default="", help="the sha256 the GGUF file must have")
    group.add_argument("--slm-budget-ms", type=float, default=1000.0,
                       help="longest a model decision may take; past it: no tool")


def _model_settings(args: argparse.Namespace) -> LanguageModelSettings:
    return LanguageModelSettings(name=args.slm, path=args.slm_model, sha256=args.slm_sha256,
                                 budget_ms=args.slm_budget_ms)


def _voice_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("voice engines")
    group.add_argument("--wake-model", default="hey_jarvis",
                       help="packaged openWakeWord model (hey_jarvis, alexa, hey_mycroft, "
                       "okay_nabu) or a .tflite path")
    group.add_argument("--wake-threshold", type=float, default=0.5, help="0-1")
    group.add_argument("--stt", choices=["whisper", "vosk"], default="whisper")
    group.add_argument("--whisper-model", default="whisper-tiny.en",
                       help="packaged model name or a CTranslate2 Whisper directory")
    group.add_argument("--tts-voice", default="piper-en_US-joe-medium",
                       help="packaged voice name or a Piper .onnx path")
    group.add_argument("--vosk-model", type=Path, help="Vosk model directory (with --stt vosk)")
    group.add_argument("--vosk-any-words", action="store_true",
                       help="do not restrict Vosk to the skills' vocabulary")
    _model_options(parser)


def _voice_settings(args: argparse.Namespace) -> VoiceSettings:
    return VoiceSettings(wake_model=args.wake_model, wake_threshold=args.wake_threshold,
                         stt_engine=args.stt, whisper_model=args.whisper_model,
                         vosk_model_dir=args.vosk_model, tts_voice=args.tts_voice,
                         vosk_restrict_to_skills=not args.vosk_any_words,
                         language_model=_model_settings(args))


def _parse(args: argparse.Namespace) -> int:
    if args.audio:
        from assistant.cli.voice import parse_audio

        lines = (raw.decode("utf-8", errors="replace") for raw in sys.stdin.buffer)
        asyncio.run(parse_audio(lines, sys.stdout, settings=_voice_settings(args)))
        return 0
    from assistant.app import build_understanding
    from assistant.cli.parse import parse_lines
    from assistant.llm.setup import attach_language_model

    _, understanding = build_understanding(args.skills)
    model, notice = attach_language_model(understanding, _model_settings(args))
    if notice:
        print(f"assistant: {notice}", file=sys.stderr)

    async def parse_all() -> None:
        try:
            await parse_lines(understanding, sys.stdin.buffer, sys.stdout)
        finally:
            if model is not None:
                await model.aclose()

    asyncio.run(parse_all())
    return 0


def _run(args: argparse.Namespace) -> int:
    from assistant.cli.voice import run_file, run_live

    options = {"audit_path": args.audit_log, "configs": {"vehicle": {"speed_kmh": args.speed}}}
    if args.input is not None:
        asyncio.run(run_file(args.input, args.output, sys.stdout, as_json=args.json,
                             settings=_voice_settings(args), **options))
    else:
        asyncio.run(run_live(sys.stdout, as_json=args.json, settings=_voice_settings(args),
                             input_device=args.input_device, output_device=args.output_device,
                             **options))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from assistant.cli.voice import run_demo

    asyncio.run(run_demo(args.dir, sys.stdout, settings=_voice_settings(args)))
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
                         language_model=_model_settings(args),
                         audit_path=args.audit_log, enabled=args.skills, configs=configs,
                         confirm_seconds=args.confirm_seconds))
    return 0


def _models(args: argparse.Namespace) -> int:
    from assistant.cli.models import list_models

    return list_models(sys.stdout, user_gguf=args.slm_model, user_sha256=args.slm_sha256)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        handlers = {"parse": _parse, "chat": _chat, "run": _run, "demo": _demo,
                    "models": _models}
        return handlers[args.command](args)
    except AssistantError as err:
        print(f"assistant: {err.message} [{err.code}]", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
