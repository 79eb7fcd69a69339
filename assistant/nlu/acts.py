"""Dialogue words: yes, no, cancel, stop talking, say that again. They are never tools."""

from __future__ import annotations

from enum import StrEnum

from assistant.nlu.normalize import Normalized

__all__ = ["PHRASES", "DialogueAct", "dialogue_act"]


class DialogueAct(StrEnum):
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"
    REPEAT = "repeat"
    STOP_TALKING = "stop_talking"


PHRASES: dict[DialogueAct, tuple[str, ...]] = {
    DialogueAct.YES: (
        "yes", "yeah", "yep", "yup", "sure", "yes please", "do it", "go ahead", "confirm",
        "confirmed", "affirmative", "correct", "that's right", "right", "i'm sure", "yes i'm sure",
        "yes do it", "absolutely", "of course", "please do", "ok do it", "okay do it", "yes sir",
    ),
    DialogueAct.NO: (
        "no", "nope", "nah", "no thanks", "no thank you", "don't", "do not", "negative",
        "no don't", "don't do it", "not now", "i'm not sure", "wrong",
    ),
    DialogueAct.CANCEL: (
        "cancel", "cancel that", "never mind", "nevermind", "forget it", "forget that", "abort",
        "cancel it", "scratch that", "cancel the request",
    ),
    DialogueAct.REPEAT: (
        "say that again", "repeat", "repeat that", "what did you say", "come again", "pardon",
        "sorry what", "say again", "can you repeat that", "what", "huh", "once more",
    ),
    DialogueAct.STOP_TALKING: (
        "stop", "stop talking", "be quiet", "quiet", "shut up", "silence", "enough", "hush",
        "stop it", "that's enough",
    ),
}
_BY_PHRASE = {phrase: act for act, phrases in PHRASES.items() for phrase in phrases}


def dialogue_act(utterance: Normalized) -> DialogueAct | None:
    """The dialogue act a whole utterance is, or None when it is something else."""
    return _BY_PHRASE.get(utterance.spoken)
