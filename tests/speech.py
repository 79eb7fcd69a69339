"""Speech made at test time: the packaged Piper voice and espeak-ng voices, noise from sox."""

from __future__ import annotations

import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.audio.convert import to_assistant_rate
from assistant.audio.wavfile import read_wav, write_wav
from assistant.manifest import ModelManifest

Samples = npt.NDArray[np.int16]
RATE = 16000


@lru_cache(maxsize=1)
def _piper() -> Any:
    from piper import PiperVoice

    folder = ModelManifest.load().get("piper-en_US-joe-medium").verified()
    return PiperVoice.load(folder / "en_US-joe-medium.onnx",
                           config_path=folder / "en_US-joe-medium.onnx.json")


def piper(text: str, *, length_scale: float = 1.0, vary: bool = False) -> Samples:
    """The packaged voice. Piper samples its prosody at random; tests want the same speech
    every run (``vary=False``), the benchmark wants it as varied as people (``vary=True``)."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale)
    if not vary:
        config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    chunks = list(_piper().synthesize(text, syn_config=config))
    audio = np.concatenate([c.audio_int16_array for c in chunks])
    return to_assistant_rate(audio, chunks[0].sample_rate, 1)


def espeak(text: str, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> Samples:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                        "-w", str(path), text], check=True, capture_output=True, timeout=60)
        return read_wav(path)


def silence(seconds: float) -> Samples:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


def noise(seconds: float, color: str = "pinknoise", seed: int = 1) -> Samples:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "noise.wav"
        subprocess.run(["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path),
                        "synth", f"{seconds:.3f}", color, "vol", "0.5"],
                       check=True, capture_output=True, timeout=60, env={"SOX_OPTS": ""})
        audio = read_wav(path)
    rng = np.random.default_rng(seed)
    return np.roll(audio, int(rng.integers(0, max(1, len(audio)))))


def _rms(samples: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) if len(samples) else 0.0


def speech_rms(samples: Samples) -> float:
    """RMS over the loud part (frames above a tenth of the peak frame level)."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160).astype(np.float64)
    levels = np.sqrt(np.mean(frames ** 2, axis=1))
    loud = levels[levels > levels.max() / 10] if levels.size else levels
    return float(np.sqrt(np.mean(loud ** 2))) if loud.size else 0.0


def with_noise(clean: Samples, snr_db: float | None, seed: int = 1,
               color: str = "pinknoise") -> Samples:
    """Mix noise at a signal-to-noise ratio relative to the speech's loud parts."""
    if snr_db is None:
        return clean
    background = noise(len(clean) / RATE + 0.1, color, seed)[: len(clean)].astype(np.float64)
    target = speech_rms(clean) / (10 ** (snr_db / 20))
    background *= target / max(_rms(background.astype(np.int16)), 1e-9)
    mixed = clean.astype(np.float64) + background
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def session(parts: list[Samples | float]) -> Samples:
    """Speech pieces and pauses (seconds) back to back, with a second of silence first."""
    pieces = [silence(1.0)]
    pieces += [silence(p) if isinstance(p, float | int) else p for p in parts]
    return np.concatenate(pieces)


def save(samples: Samples, path: Path) -> Path:
    write_wav(path, samples)
    return path


NOISES = ("car", "factory", "babble")


def background(kind: str, samples: int, seed: int, babble: list[Samples]) -> Any:
    """Noise of a kind, as float64: a car cabin's low rumble, a factory's hum with impacts,
    or babble (other people talking)."""
    rng = np.random.default_rng(seed)
    seconds = samples / RATE + 0.1
    t = np.arange(samples) / RATE
    if kind == "car":
        rumble = noise(seconds, "brownnoise", seed)[:samples].astype(np.float64)
        # road texture: the rumble swells and fades slowly
        return rumble * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t))
    if kind == "factory":
        mains = rng.choice([50.0, 60.0])
        hum = sum(np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 6)) / h for h in (1, 2, 3, 5))
        hiss = noise(seconds, "pinknoise", seed)[:samples].astype(np.float64)
        out = hum * 3000 + hiss * 0.3
        for start in range(int(rng.uniform(0.1, 0.8) * RATE), samples,
                           int(rng.uniform(0.6, 1.4) * RATE)):
            length = min(samples - start, int(0.08 * RATE))
            decay = np.exp(-np.arange(length) / (0.015 * RATE))
            out[start:start + length] += rng.normal(0, 12000, length) * decay
        return out
    mixed = np.zeros(samples)
    for _talker in range(4):
        clip = babble[int(rng.integers(len(babble)))].astype(np.float64)
        reps = np.tile(clip, samples // max(len(clip), 1) + 2)
        offset = int(rng.integers(len(clip)))
        mixed += reps[offset:offset + samples] * rng.uniform(0.6, 1.0)
    return mixed


def mix(clean: Samples, condition: str, seed: int, babble: list[Samples]) -> Samples:
    """``condition``: "clean", or a kind of noise and its SNR ("car 10 dB")."""
    if condition == "clean":
        return clean
    kind, snr, _ = condition.split()
    noisy = background(kind, len(clean), seed, babble)
    target = speech_rms(clean) / (10 ** (float(snr) / 20))
    noisy *= target / max(float(np.sqrt(np.mean(noisy ** 2))), 1e-9)
    return np.clip(clean.astype(np.float64) + noisy, -32768, 32767).astype(np.int16)
