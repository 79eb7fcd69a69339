"""``assistant models``: every model in the manifest, where it comes from, and whether its
files are there and match their sha256."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from assistant.config import DEFAULT_LANGUAGE_MODEL
from assistant.errors import ModelError
from assistant.manifest import ModelEntry, ModelManifest, user_model

__all__ = ["list_models"]

DEFAULTS = frozenset({"hey_jarvis", "whisper-tiny.en", "whisper-base", "piper-en_US-joe-medium",
                      DEFAULT_LANGUAGE_MODEL})


def _status(entry: ModelEntry) -> tuple[bool, str]:
    try:
        folder = entry.verified()
    except ModelError as err:
        return False, f"REFUSED [{err.code}] {err.message}"
    return True, f"ok ({len(entry.files)} file(s) verified in {folder})"


def list_models(out: TextIO, *, user_gguf: Path | None = None, user_sha256: str = "") -> int:
    """Print and verify every model; 0 when all verify, 1 otherwise."""
    manifest = ModelManifest.load()
    entries = sorted(manifest.entries.values(), key=lambda e: (e.kind, e.name))
    if user_gguf is not None:
        if not user_sha256:
            out.write(f"{user_gguf}: give --slm-sha256 (the value 'sha256sum FILE' prints and "
                      "you trust)\n")
            return 1
        entries.append(user_model(user_gguf.name, "llm", user_gguf.parent,
                                  {user_gguf.name: user_sha256}))
    failures = 0
    for entry in entries:
        ok, status = _status(entry)
        failures += not ok
        default = " (default)" if entry.name in DEFAULTS else ""
        source = f"package {entry.package}" if entry.package else f"file in {entry.directory}"
        out.write(f"{entry.kind:5} {entry.name}{default}\n"
                  f"      from {source}; licence: {entry.license}\n"
                  f"      {status}\n")
    out.write(f"{len(entries) - failures} of {len(entries)} models verified\n")
    return 1 if failures else 0
