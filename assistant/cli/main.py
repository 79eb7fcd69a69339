"""The ``assistant`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

from assistant.cli.skills_new import add_new_parser
from assistant.config import DEFAULT_LANGUAGE_MODEL, AssistantConfig
from assistant.errors import AssistantError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Offline voice assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to standard error")
    parser.add_argument("--config", type=Path, help="configuration file (default: "
                        "$ASSISTANT_CONFIG, else /etc/assistant/config.toml if it exists)")
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
    run.add_argument("--realtime", action="store_true",
                     help="with --input: feed the file at a microphone's pace, processing on "
                          "the wall clock (a stop said while the assistant thinks pre-empts)")
    run.add_argument("--input-device", help="microphone name (part of it) or index")
    run.add_argument("--output-device", help="speaker name (part of it) or index")
    run.add_argument("--audit-log", type=Path, help="audit log path")
    run.add_argument("--speed", type=float, help="simulated vehicle speed, km/h")
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
    chat.add_argument("--speed", type=float,
                      help="the simulated vehicle's speed in km/h (default: parked)")
    chat.add_argument("--plant", type=Path, help="plant definition YAML (default: demo plant)")
    chat.add_argument("--confirm-seconds", type=float,
                      help="seconds a confirmation waits for yes (default 8)")
    chat.add_argument("--skills", nargs="*", help="skills to load (default: all installed)")
    _model_options(chat)

    serve = commands.add_parser("serve", help="the service: microphone, speaker and buses as "
                                "configured; systemd readiness and watchdog")
    serve.add_argument("--input", type=Path, help="a WAV file instead of the microphone "
                       "(ends with the file; for testing the service)")

    wyoming = commands.add_parser("wyoming", help="offer asr, tts, wake, intent and handle as "
                                  "Wyoming services (Home Assistant, other hubs)")
    wyoming.add_argument("--uri", help="where to listen (default [wyoming] uri, "
                         "tcp://127.0.0.1:10300; another address only on purpose)")

    satellite = commands.add_parser("satellite", help="be a microphone and speaker for a hub "
                                    "(assistant serve, Home Assistant) over Wyoming")
    satellite.add_argument("--uri", default="tcp://127.0.0.1:10700",
                           help="where hubs connect (default tcp://127.0.0.1:10700; "
                           "tcp://0.0.0.0:10700 to be reachable)")
    satellite.add_argument("--area", default="", help="where it is (\"car\", \"shop floor\")")
    satellite.add_argument("--name", default="", help="its name (default: the host name)")
    satellite.add_argument("--no-wake", dest="wake", action="store_false",
                           help="stream all the time; the hub listens for the wake word")
    satellite.add_argument("--input", type=Path, help="a WAV file instead of the microphone, "
                           "at its pace (for testing)")

    config = commands.add_parser("config", help="check or show the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser("check", help="validate a configuration file")
    check.add_argument("file", type=Path, nargs="?", help="the file (default: as --config)")
    show = config_commands.add_parser("show", help="print the effective configuration")
    show.add_argument("--json", action="store_true", help="as JSON instead of TOML")

    commands.add_parser("doctor", help="check audio devices, models, CPU, disk, config and "
                        "buses, and say what to fix")

    _skills_parser(commands.add_parser("skills", help="write, list, check, try and test "
                                       "skills"))

    train = commands.add_parser("train", help="specialize the language model to the installed "
                                "skills; installed only if it is not worse on held-out sentences")
    train.add_argument("--skills", nargs="*", help="skills to train for (default: as configured)")
    train.add_argument("--out", type=Path, help="also write the data and the model here")
    train.add_argument("--quick", action="store_true", help="fewer examples per template")
    train.add_argument("--eval", type=Path, nargs="*", default=[],
                       help="held-out sentences (TSV: text, tool or -, arguments JSON; or "
                       "sentence-test YAML); default: the generated examples held back")
    train.add_argument("--no-install", dest="install", action="store_false",
                       help="train and compare, but do not install")
    _model_options(train)

    models = commands.add_parser("models", help="list the models and verify their checksums")
    models.add_argument("--slm-model", type=Path, help="also verify this GGUF file")
    models.add_argument("--slm-sha256", default="", help="the sha256 --slm-model should have")
    return parser


def _skills_parser(skills: argparse.ArgumentParser) -> None:
    commands = skills.add_subparsers(dest="skills_command", required=True)
    add_new_parser(commands)
    listing = commands.add_parser("list", help="each skill: package, version, tools, settings")
    listing.add_argument("--json", action="store_true", help="one JSON object per skill")
    check = commands.add_parser("check", help="lint the templates and find sentences two "
                                "tools share; exit 1 on errors")
    check.add_argument("name", nargs="?", help="only this skill (default: all installed)")
    check.add_argument("--json", action="store_true", help="one JSON object per finding")
    attempt = commands.add_parser("try", help="what each tier makes of one utterance; "
                                  "nothing is executed")
    attempt.add_argument("utterance")
    attempt.add_argument("--json", action="store_true", help="as one JSON object")
    attempt.add_argument("--skills", nargs="*", help="skills to load (default: all installed)")
    attempt.add_argument("--slm", help="also ask this language model (packaged name; "
                         "default: not loaded)")
    sentences = commands.add_parser("test", help="check sentence-test files against the "
                                    "installed skills; exit 1 on a failure")
    sentences.add_argument("paths", type=Path, nargs="*", metavar="PATH",
                           help="sentence-test files (default: tests/sentences.yaml)")
    _model_options(sentences)


def _skills(args: argparse.Namespace) -> int:
    from assistant.cli import skills

    if args.skills_command == "new":
        from assistant.cli.skills_new import run_new

        return run_new(args)
    if args.skills_command == "test":
        from assistant.cli.skills_test import run_sentence_tests

        # The language model is asked only when the command line names one.
        asked = args.slm not in (None, "none") or args.slm_model is not None
        model = _config(args).language_model if asked else None
        return asyncio.run(run_sentence_tests(args.paths, sys.stdout, sys.stderr,
                                              language_model=model))
    config = _config(args)
    if args.skills_command == "list":
        return skills.list_skills(config, sys.stdout, as_json=args.json)
    if args.skills_command == "check":
        return skills.check_skills(config, sys.stdout, args.name, as_json=args.json)
    return asyncio.run(skills.try_utterance(config, args.utterance, sys.stdout,
                                            as_json=args.json, slm=args.slm is not None))


def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("language model (last tier of understanding)")
    group.add_argument("--slm", help=f"packaged model (smollm2-135m, gemma3-270m) or none "
                       f"(default {DEFAULT_LANGUAGE_MODEL})")
    group.add_argument("--slm-model", type=Path, help="a GGUF file instead (needs --slm-sha256)")
    group.add_argument("--slm-sha256", help="the sha256 the GGUF file must have")
    group.add_argument("--slm-budget-ms", type=float,
                       help="longest a model decision may take; past it: no tool (default 1000)")


_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("wake_model", "wake", "model"),
    ("wake_threshold", "wake", "threshold"),
    ("stt", "speech_to_text", "engine"),
    ("whisper_model", "speech_to_text", "whisper_model"),
    ("vosk_model", "speech_to_text", "vosk_model_dir"),
    ("tts_voice", "text_to_speech", "voice"),
    ("slm", "language_model", "name"),
    ("slm_model", "language_model", "path"),
    ("slm_sha256", "language_model", "sha256"),
    ("slm_budget_ms", "language_model", "budget_ms"),
    ("skills", "skills", "enabled"),
    ("confirm_seconds", "skills", "confirm_seconds"),
    ("audit_log", "service", "audit_log"),
    ("input_device", "audio", "input_device"),
    ("output_device", "audio", "output_device"),
    ("speed", "skills", "vehicle.speed_kmh"),
    ("plant", "skills", "factory.plant_file"),
)
"""Each command-line option that sets a configuration key: (option, section, key); a
dotted key is a key of a table in the section (a skill's settings)."""


def _config(args: argparse.Namespace) -> AssistantConfig:
    """The configuration (file, then environment), with the command line's options on
    top; read once per command."""
    from assistant.config import load_config

    loaded: AssistantConfig | None = getattr(args, "loaded_config", None)
    if loaded is None:
        changes: dict[str, dict[str, Any]] = {}
        for option, section, key in _OPTIONS:
            value = getattr(args, option, None)
            if value is not None and value != []:  # a bare --skills: as configured
                table = changes.setdefault(section, {})
                *tables, last = key.split(".")
                for name in tables:
                    table = table.setdefault(name, {})
                # A skill's table holds what TOML could: text, not paths.
                table[last] = str(value) if tables and isinstance(value, Path) else value
        if getattr(args, "plant", None) is not None:  # this plant instead of the configured one
            changes["skills"]["factory"].update(machines=None, conveyors=None, lines=None)
        if getattr(args, "vosk_any_words", None):
            changes.setdefault("speech_to_text", {})["vosk_restrict_to_skills"] = False
        loaded = load_config(args.config).overridden(changes)
        args.loaded_config = loaded
    return loaded


def _voice_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("voice engines")
    group.add_argument("--wake-model",
                       help="packaged openWakeWord model (hey_jarvis, alexa, hey_mycroft, "
                       "okay_nabu) or a .tflite path")
    group.add_argument("--wake-threshold", type=float, help="0.05-0.99 (default 0.5)")
    group.add_argument("--stt", choices=["whisper", "vosk"])
    group.add_argument("--whisper-model",
                       help="packaged model name or a CTranslate2 Whisper directory")
    group.add_argument("--tts-voice", help="packaged voice name or a Piper .onnx path")
    group.add_argument("--vosk-model", type=Path, help="Vosk model directory (with --stt vosk)")
    group.add_argument("--vosk-any-words", action="store_true", default=None,
                       help="do not restrict Vosk to the skills' vocabulary")
    _model_options(parser)


def _parse(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.audio:
        from assistant.cli.run import parse_audio

        lines = (raw.decode("utf-8", errors="replace") for raw in sys.stdin.buffer)
        asyncio.run(parse_audio(lines, sys.stdout, config=config))
        return 0
    from assistant.cli.parse import parse_lines
    from assistant.llm.setup import attach_language_model
    from assistant.wiring import build_understanding

    # Nothing runs: the skills get their names and lists, not the buses.
    _, understanding = build_understanding(config.skills.enabled, config.skill_configs(),
                                           language=config.skills.language)
    last_tier = attach_language_model(understanding, config.language_model)
    if last_tier.notice:
        print(f"assistant: {last_tier.notice}", file=sys.stderr)

    async def parse_all() -> None:
        try:
            await parse_lines(understanding, sys.stdin.buffer, sys.stdout)
        finally:
            await last_tier.aclose()

    asyncio.run(parse_all())
    return 0


def _run(args: argparse.Namespace) -> int:
    from assistant.cli.run import run_file, run_live

    config = _config(args)
    if args.input is not None:
        asyncio.run(with_buses(config, lambda resolved: run_file(
            args.input, args.output, sys.stdout, as_json=args.json, config=config,
            realtime=args.realtime, skill_configs=resolved)))
    else:
        asyncio.run(with_buses(config, lambda resolved: run_live(
            sys.stdout, as_json=args.json, config=config, skill_configs=resolved)))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from assistant.cli.run import run_demo

    config = _config(args)
    asyncio.run(with_buses(config, lambda resolved: run_demo(
        args.dir, sys.stdout, config=config, skill_configs=resolved), announce=True))
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
    config = _config(args)
    asyncio.run(with_buses(config, lambda resolved: run_chat(
        lines, sys.stdout, as_json=args.json, echo=args.demo, config=config,
        skill_configs=resolved)))
    return 0


async def with_buses(config: AssistantConfig,
                     session: Callable[[dict[str, Any]], Awaitable[Any]], *,
                     announce: bool = False) -> None:
    """Run ``session`` with the simulators the configuration asks for; it is given the
    skills' configurations as the simulators resolved them."""
    from assistant.plugins import installed_skill_names
    from assistant.simulators import simulated_buses

    async with simulated_buses(config.skill_configs(),
                                   config.skills.enabled or installed_skill_names()) as simulators:
        if announce:
            for running in simulators.running:
                print(f"Started the {running}.")
        await session(simulators.configs)


def _serve(args: argparse.Namespace) -> int:
    from assistant.cli.serve import serve
    from assistant.logs import configure_logging

    config = _config(args)
    configure_logging(journald=config.service.log_format == "journald", verbose=args.verbose)
    def reread() -> AssistantConfig:  # the file and environment as they are now
        return _config(argparse.Namespace(**{**vars(args), "loaded_config": None}))

    return asyncio.run(serve(config, input_path=args.input, reread=reread))


def _wyoming(args: argparse.Namespace) -> int:
    from assistant.cli.wyoming import serve_wyoming
    from assistant.logs import configure_logging

    config = _config(args)
    configure_logging(journald=config.service.log_format == "journald", verbose=args.verbose)
    return _until_terminated(serve_wyoming(config, uri=args.uri))


def _satellite(args: argparse.Namespace) -> int:
    from assistant.cli.satellite import run_satellite
    from assistant.logs import configure_logging

    config = _config(args)
    configure_logging(journald=config.service.log_format == "journald", verbose=args.verbose)
    return _until_terminated(run_satellite(config, uri=args.uri, area=args.area,
                                           name=args.name, wake=args.wake,
                                           input_path=args.input))


def _until_terminated(work: Coroutine[Any, Any, int]) -> int:
    """Run ``work`` until it ends or SIGTERM/SIGINT cancels it."""

    async def run() -> int:
        task = asyncio.get_running_loop().create_task(work, name="service")
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
        try:
            return await task
        except asyncio.CancelledError:
            return 0

    return asyncio.run(run())


def _config_command(args: argparse.Namespace) -> int:
    from assistant.cli.config import check_config, show_config

    if args.config_command == "check":
        return check_config(args.file or args.config, sys.stdout)
    return show_config(args.config, sys.stdout, as_json=args.json)


def _doctor(args: argparse.Namespace) -> int:
    from assistant.cli.doctor import run_doctor

    return run_doctor(args.config, sys.stdout)


def _train(args: argparse.Namespace) -> int:
    from assistant.cli.train import run_train

    return asyncio.run(run_train(_config(args), out=args.out, quick=args.quick,
                                 eval_paths=args.eval, install=args.install))


def _models(args: argparse.Namespace) -> int:
    from assistant.cli.models import list_models

    return list_models(sys.stdout, user_gguf=args.slm_model, user_sha256=args.slm_sha256)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        handlers = {"parse": _parse, "chat": _chat, "run": _run, "demo": _demo,
                    "models": _models, "serve": _serve, "config": _config_command,
                    "doctor": _doctor, "skills": _skills, "train": _train,
                    "wyoming": _wyoming, "satellite": _satellite}
        return handlers[args.command](args)
    except AssistantError as err:
        logging.getLogger("assistant").debug("failed", exc_info=True)
        print(f"assistant: {err.message} [{err.code}]", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
