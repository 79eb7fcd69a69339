from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.errors import ModelError
from assistant.manifest import ModelEntry, ModelManifest, sha256_of, user_model


def test_every_packaged_model_verifies() -> None:
    manifest = ModelManifest.load()
    for entry in manifest.entries.values():
        assert entry.verified().is_dir()


def test_a_corrupted_file_is_refused_naming_file_and_expected(tmp_path: Path) -> None:
    original = ModelManifest.load().get("hey_jarvis")
    folder = tmp_path / "copy"
    shutil.copytree(original.folder(), folder)
    target = folder / "hey_jarvis.tflite"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    copy = user_model("hey_jarvis", "wake", folder, original.files)
    with pytest.raises(ModelError) as caught:
        copy.verified()
    assert caught.value.code == "model-checksum-mismatch"
    assert str(target) in caught.value.message
    assert original.files["hey_jarvis.tflite"] in caught.value.message


def test_a_missing_package_says_what_to_install() -> None:
    entry = ModelEntry(name="x", kind="stt", license="", files={}, module="no_such_model_pkg",
                       package="no-such-model-pkg")
    with pytest.raises(ModelError, match="pip install no-such-model-pkg"):
        entry.folder()


def test_an_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ModelError, match="hey_jarvis"):
        ModelManifest.load().get("hey_siri")


def test_sha256_is_the_files_digest(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_a_model_split_across_packages_is_joined_once_and_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path))
    entry = ModelManifest.load().get("whisper-base")
    folder = entry.verified()
    assert folder == tmp_path / "whisper-base"
    joined = folder / "model.bin"
    assert sha256_of(joined) == entry.files["model.bin"]
    assert not list(folder.glob("*.partial"))
    stamp = joined.stat().st_mtime_ns
    assert entry.verified() == folder and joined.stat().st_mtime_ns == stamp


def test_a_missing_part_names_the_package_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path))
    real = ModelManifest.load().get("whisper-base")
    broken = ModelEntry(name=real.name, kind=real.kind, license=real.license, files=real.files,
                        module=real.module, path=real.path, package=real.package,
                        join={"model.bin": ("no_such_model_part_package:model.bin.part1",)})
    with pytest.raises(ModelError) as raised:
        broken.verified()
    assert "pip install no-such-model-part-package" in raised.value.message
    assert not (tmp_path / "whisper-base" / "model.bin").exists()
