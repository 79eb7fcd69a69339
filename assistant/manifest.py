"""Finding model files and refusing any whose sha256 does not match the manifest.

Packaged models live inside installed Python packages (``models/manifest.toml`` says which
package and folder); a user's model is a path plus the sha256 the user expects. Nothing is
ever downloaded. Verified files are remembered by (path, size, mtime) for the process.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ModelError
from models import MANIFEST

__all__ = ["ModelEntry", "ModelManifest", "model_cache", "sha256_of", "user_model"]

_CHUNK = 1 << 20
_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256, computed once per (path, size, mtime) in this process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    cached = _verified.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    _verified[key] = digest.hexdigest()
    return _verified[key]


@dataclass(frozen=True)
class ModelEntry:
    """One model: its files (name -> sha256) in a folder of a package, or a user path."""

    name: str
    kind: str
    license: str
    files: Mapping[str, str]
    module: str = ""
    path: str = ""
    package: str = ""
    assemble: bool = False
    """The package ships the file in parts; its ``assemble(output_path=...)`` joins them
    once into the model cache."""
    join: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Files split across packages: name -> parts, each ``module:relative/path``, joined
    in order once into the model cache; the model's other files are copied beside them."""
    directory: Path | None = field(default=None, compare=False)

    def folder(self) -> Path:
        """Where the files are; an error naming the package to install if it is missing."""
        if self.directory is not None:
            return self.directory
        spec = importlib.util.find_spec(self.module)
        if spec is None or spec.origin is None:
            raise ModelError("model-missing", f"model {self.name!r} comes from the Python "
                             f"package {self.package!r}, which is not installed; "
                             f"run 'pip install {self.package}'")
        if self.assemble:
            return self._assembled()
        if self.join:
            return self._joined(Path(spec.origin).parent / self.path)
        return Path(spec.origin).parent / self.path

    def _joined(self, source: Path) -> Path:
        def join(file_name: str, target: Path) -> None:
            partial = target.with_name(target.name + ".partial")
            try:
                with partial.open("wb") as out:
                    for part in self.join.get(file_name) or (f"{self.module}:{self.path}/"
                                                            f"{file_name}",):
                        with _part_path(part, self.name).open("rb") as handle:
                            shutil.copyfileobj(handle, out, _CHUNK)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)

        return self._cached(join, (OSError,), f"join it from {source} and its other parts",
                            "set ASSISTANT_MODEL_CACHE to a writable folder with room for it")

    def _assembled(self) -> Path:
        def assemble(_file_name: str, target: Path) -> None:
            importlib.import_module(self.module).assemble(output_path=target)

        return self._cached(assemble, (OSError, ValueError, ImportError, AttributeError),
                            f"assemble it from the {self.package!r} parts",
                            "reinstall the package or set ASSISTANT_MODEL_CACHE to a "
                            "writable folder")

    def _cached(self, make: Callable[[str, Path], None],
                failures: tuple[type[Exception], ...], how: str, remedy: str) -> Path:
        """The model's folder in the cache, each missing file made once by ``make``."""
        folder = model_cache() / self.name
        for file_name in self.files:
            target = folder / file_name
            if target.is_file():
                continue
            try:
                folder.mkdir(parents=True, exist_ok=True)
                make(file_name, target)
            except failures as err:
                target.unlink(missing_ok=True)
                raise ModelError("model-assembly-failed", f"model {self.name!r}: could not "
                                 f"make {target}: {how} failed: {err}; {remedy}") from err
        return folder

    def verified(self) -> Path:
        """The folder, after every file matched its sha256; else a refusal naming the file."""
        folder = self.folder()
        for file_name, expected in self.files.items():
            path = folder / file_name
            if not path.is_file():
                raise ModelError("model-missing", f"model {self.name!r}: file {path} is missing")
            actual = sha256_of(path)
            if actual != expected.lower():
                raise ModelError("model-checksum-mismatch",
                                 f"model {self.name!r}: {path} has sha256 {actual}, expected "
                                 f"{expected.lower()}; the file is corrupt or not the one "
                                 "the manifest names, so it is refused")
        return folder


class ModelManifest:
    """The manifest's entries by name."""

    def __init__(self, entries: Mapping[str, ModelEntry]) -> None:
        self.entries = dict(entries)

    @classmethod
    def load(cls, path: Path = MANIFEST) -> ModelManifest:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ModelError("model-manifest-invalid", f"cannot read {path}: {err}") from err
        entries = {}
        for raw in document.get("model", []):
            entry = ModelEntry(name=raw["name"], kind=raw["kind"], license=raw.get("license", ""),
                               files=dict(raw["files"]), module=raw.get("module", ""),
                               path=raw.get("path", ""), package=raw.get("package", ""),
                               assemble=bool(raw.get("assemble", False)),
                               join={name: tuple(parts)
                                     for name, parts in raw.get("join", {}).items()})
            entries[entry.name] = entry
        return cls(entries)

    def get(self, name: str) -> ModelEntry:
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(sorted(self.entries))
            raise ModelError("model-unknown", f"unknown model {name!r}; the manifest has "
                             f"{known}") from None

    def of_kind(self, kind: str) -> list[ModelEntry]:
        return [e for e in self.entries.values() if e.kind == kind]


def _part_path(part: str, model: str) -> Path:
    """``module:relative/path`` of an installed package, or an error naming it."""
    module, _, relative = part.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        package = module.replace("_", "-")
        raise ModelError("model-missing", f"model {model!r} has a part in the Python package "
                         f"{package!r}, which is not installed; run 'pip install {package}'")
    return Path(spec.origin).parent / relative


def model_cache() -> Path:
    """Where assembled models go: ``$ASSISTANT_MODEL_CACHE``, else the user's cache."""
    configured = os.environ.get("ASSISTANT_MODEL_CACHE")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "assistant" / "models"


def user_model(name: str, kind: str, path: Path, sha256: Mapping[str, str]) -> ModelEntry:
    """A model the user points at: a folder and the sha256 of the files that matter."""
    return ModelEntry(name=name, kind=kind, license="user supplied", files=dict(sha256),
                      directory=path)
