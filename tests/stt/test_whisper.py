"""The Whisper adapter on the packaged models: the cascade, confidences, the guards against
made-up text, and the time budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from assistant.stt import FakeJudge
from assistant.stt.whisper import WhisperSpeechToText, voiced_seconds
from tests.conftest import AWAIT_LIMIT
from tests.speech import espeak, noise, piper


@pytest.fixture(scope="module")
def spoken() -> bytes:
    return piper("Lock the doors.").astype("<i2").tobytes()


@pytest.fixture(scope="module")
def cascade() -> Iterator[WhisperSpeechToText]:
    stt = WhisperSpeechToText(fallback="whisper-base", judge=FakeJudge(lambda text: False))
    yield stt
    asyncio.run(stt.aclose())


def _spy(monkeypatch: pytest.MonkeyPatch, stt: WhisperSpeechToText) -> list[str]:
    used: list[str] = []
    real = stt._decode

    def spy(audio: bytes, recognizer: Any = None) -> Any:
        used.append((recognizer or stt._first).name)
        return real(audio, recognizer)

    monkeypatch.setattr(stt, "_decode", spy)
    return used


def test_text_the_first_model_gives_that_is_not_understood_goes_to_the_second(
        monkeypatch: pytest.MonkeyPatch, cascade: WhisperSpeechToText, spoken: bytes) -> None:
    used = _spy(monkeypatch, cascade)
    heard = asyncio.run(asyncio.wait_for(cascade.transcribe(spoken), AWAIT_LIMIT))
    assert used == ["whisper-tiny.en", "whisper-base"]
    assert "doors" in heard.text.lower()
    assert heard.engine == "whisper-tiny.en"  # neither understood: the first model's text


def test_a_transcription_at_a_pause_stays_quick(
        monkeypatch: pytest.MonkeyPatch, cascade: WhisperSpeechToText, spoken: bytes) -> None:
    used = _spy(monkeypatch, cascade)
    asyncio.run(asyncio.wait_for(cascade.transcribe(spoken, partial=True), AWAIT_LIMIT))
    assert used == ["whisper-tiny.en"]


def test_understood_text_stops_at_the_first_model(spoken: bytes) -> None:
    stt = WhisperSpeechToText(fallback="whisper-base",
                              judge=FakeJudge(lambda text: "door" in text.lower()))
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert heard.engine == "whisper-tiny.en"
    assert heard.confidence < 0 and not heard.uncertain
    asyncio.run(stt.aclose())


def test_a_new_prompt_biases_decoding_toward_its_sentences() -> None:
    """A skill installed and reloaded brings words the recognizer has never been prompted
    with; the same loaded model hears them once prompted again."""
    spoken = piper("Open the Zeltrix valve.").astype("<i2").tobytes()
    stt = WhisperSpeechToText(spotting=False)
    try:
        before = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
        stt.reprompt("Open the Zeltrix valve. Close the Zeltrix valve.")
        after = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    finally:
        asyncio.run(stt.aclose())
    assert "zeltrix" not in before.text.lower()
    assert "zeltrix valve" in after.text.lower()


@pytest.mark.parametrize("same", [True, False])
def test_words_the_first_model_is_unsure_of_are_certain_when_the_second_hears_the_same(
        spoken: bytes, same: bool) -> None:
    """Every reading is "low confidence" here (threshold 0): only the second model's own
    reading of the same call makes it certain."""
    def agree(text: str, other: str) -> bool:
        return same and "door" in text.lower() and "door" in other.lower()

    stt = WhisperSpeechToText(fallback="whisper-base", low_confidence=0.0,
                              judge=FakeJudge(lambda text: "door" in text.lower(), agree=agree))
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert "doors" in heard.text.lower()
    assert bool(heard.uncertain) is not same
    assert heard.engine == ("whisper-tiny.en+whisper-base" if same else "whisper-tiny.en")
    asyncio.run(stt.aclose())


def test_a_second_opinion_is_not_sought_where_doubt_holds_nothing_back(
        monkeypatch: pytest.MonkeyPatch, spoken: bytes) -> None:
    """A stop (or a query, or free words) is not worth the second model's time."""
    stt = WhisperSpeechToText(fallback="whisper-base", low_confidence=0.0,
                              judge=FakeJudge(lambda text: "door" in text.lower(),
                                              agree=lambda text, other: True,
                                              doubtful=lambda text: False))
    used = _spy(monkeypatch, stt)
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert used == ["whisper-tiny.en"] and heard.uncertain
    asyncio.run(stt.aclose())


def test_the_quick_guess_at_a_pause_is_not_decoded_again_in_full(
        monkeypatch: pytest.MonkeyPatch, spoken: bytes) -> None:
    stt = WhisperSpeechToText(judge=FakeJudge(lambda text: "door" in text.lower()))
    decodes: list[bool] = []
    real = stt._first.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        decodes.append(kwargs.get("prompted", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(stt._first, "decode", counted)
    quick = asyncio.run(asyncio.wait_for(stt.transcribe(spoken, partial=True), AWAIT_LIMIT))
    full = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert quick.text == full.text and decodes == [True]
    asyncio.run(stt.aclose())


@pytest.mark.parametrize(("text", "echo"), [
    ("Unlock all of the doors.", True),
    ("Unlock all of the doors. Unlock all of the doors.", True),
    ("unlock all of the doors, stop the lathe", False),
    ("Unlock all of the doors. The fan is loud.", False),
    ("Unlock the doors.", False),
    ("Unlock all of the door.", True),
    ("Unlock all the doors. Unlock all of the cars.", True),
    ("Turn on the press one, lathe, welder.", True),
    ("Turn on the press one and the welder.", False),
    ("Set the fan speed to level 5.", False),
    ("Set the fan speed to level 3.", True),
])
def test_an_echo_is_prompt_sentences_and_nothing_else(text: str, echo: bool) -> None:
    """Word for word or nearly, or a list's names in a row."""
    stt = WhisperSpeechToText(prompt="Unlock all of the doors. Stop the lathe. "
                              "Set the fan speed to level 3. "
                              "Machines: press one, lathe, welder, packer.")
    assert stt._echoes_prompt(text) is echo
    asyncio.run(stt.aclose())


def test_too_little_audio_is_no_text() -> None:
    stt = WhisperSpeechToText()
    assert asyncio.run(stt.transcribe(np.zeros(800, "<i2").tobytes())).text == ""
    asyncio.run(stt.aclose())


@pytest.mark.parametrize("filler", ["um", "uh", "hmm", "erm"])
def test_a_filler_is_not_heard_as_a_prompt_sentence(filler: str) -> None:
    stt = WhisperSpeechToText(prompt="Lock the doors. Stop the lathe. What time is it.")
    audio = np.concatenate([np.zeros(8000, np.int16), espeak(filler, "en-us"),
                            np.zeros(8000, np.int16)])
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(audio.astype("<i2").tobytes()),
                                         AWAIT_LIMIT))
    assert len(heard.text.split()) <= 2, heard
    asyncio.run(stt.aclose())


def test_near_silence_is_no_text() -> None:
    stt = WhisperSpeechToText(prompt="Lock the doors. Stop the lathe. What time is it.")
    quiet = (noise(3.0, "pinknoise", seed=3) // 200).astype("<i2")
    assert asyncio.run(asyncio.wait_for(stt.transcribe(quiet.tobytes()), AWAIT_LIMIT)).text == ""
    asyncio.run(stt.aclose())


def test_repeats_that_were_said_are_kept() -> None:
    stt = WhisperSpeechToText()
    audio = espeak("stop, stop, stop", "en-us").astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(audio), AWAIT_LIMIT))
    assert heard.text.lower().count("stop") >= 3
    asyncio.run(stt.aclose())


def test_more_words_than_the_voice_holds_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    stt = WhisperSpeechToText()
    short = espeak("um", "en-us").astype("<i2")
    long_text = [("Set the temperature to twenty one degrees on the passenger side.", -0.2)]
    real = stt._first.decode

    def made_up(*args: Any, **kwargs: Any) -> Any:
        decoded = real(*args, **kwargs)
        decoded.hypotheses = list(long_text)
        return decoded

    monkeypatch.setattr(stt._first, "decode", made_up)
    padded = np.concatenate([short, np.zeros(16000, np.int16)]).astype("<i2").tobytes()
    assert asyncio.run(stt.transcribe(padded)).text == ""
    asyncio.run(stt.aclose())


def test_voiced_seconds_counts_the_voice_not_the_silence() -> None:
    said = espeak("lock the doors", "en-us").astype(np.float32) / 32768
    padded = np.concatenate([np.zeros(32000, np.float32), said, np.zeros(32000, np.float32)])
    assert abs(voiced_seconds(padded) - voiced_seconds(said)) < 0.15
    assert voiced_seconds(np.zeros(32000, np.float32)) == 0.0


def test_the_audio_supports_what_was_said_over_its_neighbours() -> None:
    stt = WhisperSpeechToText()
    decoded = stt._decode(piper("Stop the lathe.").astype("<i2").tobytes())
    assert decoded is not None
    said, *others = decoded.recognizer.log_probabilities(
        decoded, ["Stop the lathe.", "Stop the welder.", "Start the lathe.", "Stop the plant."])
    assert said > max(others) + 2
    asyncio.run(stt.aclose())


@pytest.mark.parametrize(("gap", "taken"), [(2.0, True), (7.9, True), (8.5, False)])
def test_a_near_sentence_is_taken_only_within_the_margin_and_marked_uncertain(
        monkeypatch: pytest.MonkeyPatch, spoken: bytes, gap: float, taken: bool) -> None:
    stt = WhisperSpeechToText(judge=FakeJudge(lambda text: text == "Lock the doors now."),
                              nearest=lambda text: ["lock the doors now"], nearest_margin=8.0)
    monkeypatch.setattr(stt._first, "log_probabilities",
                        lambda decoded, texts: [-1.0, -1.0 - gap][:len(texts)])
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(spoken), AWAIT_LIMIT))
    assert (heard.text == "Lock the doors now.") is taken
    assert bool(heard.uncertain) is taken
    asyncio.run(stt.aclose())


def test_a_near_sentence_never_just_leaves_out_words_that_were_heard(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A sum of log-probabilities can be higher for fewer words: "Stop." would win over
    # "Stop this machine." (not understood without a station) and stop nothing in particular.
    stt = WhisperSpeechToText(judge=FakeJudge(lambda text: text in ("Stop.", "Stop the mixer.")),
                              nearest=lambda text: ["stop", "stop the mixer"],
                              nearest_margin=8.0)
    monkeypatch.setattr(stt._first, "log_probabilities",
                        lambda decoded, texts: [{"Stop.": -0.5}.get(t, -3.0) for t in texts])
    audio = piper("Stop this machine.").astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(audio), AWAIT_LIMIT))
    assert heard.text == "Stop the mixer."  # a word put right is still taken
    asyncio.run(stt.aclose())


@pytest.mark.parametrize("echo", ["Unlock all of the doors.",
                                  "Unlock all of the doors. Unlock all of the doors.",
                                  "Unlock all of the door.", "Unlock all the doors."])
def test_a_prompt_sentence_put_on_other_talk_is_not_taken(
        monkeypatch: pytest.MonkeyPatch, echo: str) -> None:
    def accept(text: str) -> bool:
        return "door" in text.lower()

    stt = WhisperSpeechToText(prompt="Unlock all of the doors. Stop the lathe.",
                              judge=FakeJudge(accept))
    real = stt._first.decode

    def echoed(*args: Any, **kwargs: Any) -> Any:
        decoded = real(*args, **kwargs)
        if kwargs.get("prompted", True):
            decoded.hypotheses = [(echo, -0.3)]
        return decoded

    monkeypatch.setattr(stt._first, "decode", echoed)
    # long enough that the twice-said echo is within the words its voice can hold
    said = "the fan at the back goes up to level two now, and thanks a lot for that"
    audio = espeak(said, "en-gb").astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(audio), AWAIT_LIMIT))
    assert not accept(heard.text), heard
    asyncio.run(stt.aclose())


def test_a_stop_heard_as_a_prompt_sentence_is_never_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Even if the model without the prompt hears something else (noise on a real stop),
    and without waiting for it: a wrong stop costs less than a missed one."""
    stt = WhisperSpeechToText(prompt="Unlock all of the doors. Stop the lathe.",
                              judge=FakeJudge(lambda text: "lathe" in text.lower(),
                                              at_once=lambda text: text.lower().startswith(
                                                  "stop")))
    real = stt._first.decode
    unprompted: list[bool] = []

    def echoed(*args: Any, **kwargs: Any) -> Any:
        decoded = real(*args, **kwargs)
        if kwargs.get("prompted", True):
            decoded.hypotheses = [("Stop the lathe.", -0.3)]
        else:
            unprompted.append(True)
        return decoded

    monkeypatch.setattr(stt._first, "decode", echoed)
    audio = espeak("the fan at the back goes up now", "en-gb").astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(audio, partial=True), AWAIT_LIMIT))
    assert heard.text == "Stop the lathe." and not unprompted
    asyncio.run(stt.aclose())


def test_a_prompt_sentence_really_said_is_taken() -> None:
    stt = WhisperSpeechToText(prompt="Unlock all of the doors. Stop the lathe.",
                              judge=FakeJudge(lambda text: "lathe" in text.lower()))
    audio = piper("Stop the lathe.").astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(stt.transcribe(audio), AWAIT_LIMIT))
    assert heard.text.lower().rstrip(".") == "stop the lathe"
    asyncio.run(stt.aclose())


@pytest.fixture(scope="module")
def renaming() -> Iterator[WhisperSpeechToText]:
    from assistant.stt.vocabulary import command_prompt
    from assistant.wiring import build_assistant

    assistant = build_assistant(lambda _e: None)
    understanding = assistant.understanding
    stt = WhisperSpeechToText(prompt=command_prompt(
        assistant.skills.sentences, assistant.understanding.catalog),
                              judge=FakeJudge(understanding.fully_understands,
                                              renamings=understanding.renamings))
    yield stt
    asyncio.run(stt.aclose())
    asyncio.run(assistant.aclose())


def test_a_misheard_name_is_put_right_and_marked_uncertain(
        renaming: WhisperSpeechToText) -> None:
    # tiny.en hears espeak-ng's "lathe" as "lane"; the audio supports "lathe" far better
    # than any other machine
    audio = espeak("power down the lathe", "en-us+f3", 165, 60).astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(renaming.transcribe(audio), AWAIT_LIMIT))
    assert heard.text == "Power down the lathe."
    assert heard.uncertain


@pytest.mark.parametrize(("text", "voice"), [("shut down the computer", "en-gb-scotland"),
                                             ("switch the kettle off", "en-gb-x-rp"),
                                             ("start the washing machine", "en-gb+f2")])
def test_a_thing_no_skill_has_is_not_renamed_to_a_machine(
        renaming: WhisperSpeechToText, text: str, voice: str) -> None:
    audio = espeak(text, voice).astype("<i2").tobytes()
    heard = asyncio.run(asyncio.wait_for(renaming.transcribe(audio), AWAIT_LIMIT))
    assert "corrected" not in heard.uncertain, heard
    assert not any(machine in heard.text.lower() for machine in
                   ("lathe", "welder", "mixer", "packer", "press"))
