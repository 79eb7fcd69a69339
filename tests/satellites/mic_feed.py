"""The real wyoming-satellite's microphone in tests (its --mic-command): a WAV's raw audio
at real-time pace, then silence, as a microphone would give it. Standard library only: it
runs in wyoming-satellite's own venv."""

import sys
import time
import wave

CHUNK = 1024


def main() -> None:
    with wave.open(sys.argv[1], "rb") as wav:
        audio = wav.readframes(wav.getnframes())
    out = sys.stdout.buffer
    started, sent = time.monotonic(), 0
    while True:
        piece = audio[sent * 2:(sent + CHUNK) * 2] or bytes(CHUNK * 2)
        out.write(piece.ljust(CHUNK * 2, b"\0"))
        out.flush()
        sent += CHUNK
        time.sleep(max(0.0, started + sent / 16000 - time.monotonic()))


if __name__ == "__main__":
    main()
