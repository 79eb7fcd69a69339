"""Never act on a mishearing: what to do with a call decided from speech that may not be
what was said.

- Another reading of the same audio, nearly as likely, means a different call ("unlock" /
  "lock", "a crack" dropped): ask which one ("Lock the doors, or unlock the doors?"),
  unless that reading is a stop, which runs (a stop must always act; a wrong stop costs
  less than a missed one).
- A call that changes something, decided from uncertain words (the recognizer's own
  confidence was low, only a less likely reading was understood, the text was corrected
  to a known sentence) or by the classifier or the language model (a paraphrase, and a
  mishearing often reads as one) is read back as a question first: "Open the passenger
  window?"
- So is a call with free words from speech (a destination, a song, a note), however sure
  the recognizer was: no vocabulary checks them, and both recognizers make up the same
  free words with high confidence ("Play something by the details." for "the Beatles",
  "Play with the dog." said to someone else).
- Calls that only tell (a status, the time) and confirm-class calls (asked anyway) go on;
  so does everything typed. Immediate calls never reach this: the dialogue runs them
  first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from assistant.dispatch.catalog import Catalog
from assistant.nlu.understand import Decision, Route, Understanding
from assistant.skill_api import Safety
from assistant.stt import Transcript

__all__ = ["Doubt", "DoubtKind", "doubt"]


class DoubtKind(StrEnum):
    READ_BACK = "read_back"
    CHOOSE = "choose"
    STOP = "stop"


@dataclass(frozen=True)
class Doubt:
    kind: DoubtKind
    reason: str
    options: tuple[Decision, ...]
    """READ_BACK: the call; CHOOSE: the likeliest reading, then the other; STOP: the stop."""


def _complete(decision: Decision) -> bool:
    return decision.tool is not None and not decision.error and not decision.missing


def doubt(decision: Decision, heard: Transcript, understanding: Understanding,
          catalog: Catalog) -> Doubt | None:
    """Why ``decision`` (from ``heard``) should not run as it is, or None."""
    if not _complete(decision):
        return None
    assert decision.tool is not None
    others: list[Decision] = []
    for text in heard.alternatives:
        other = understanding.decide(text, spoken=True)
        if not _complete(other) or other.route != Route.GRAMMAR:
            continue
        if any((o.tool, o.arguments) == (other.tool, other.arguments)
               for o in (decision, *others)):
            continue
        others.append(other)
    for other in others:
        assert other.tool is not None
        if understanding.safety(other) == Safety.IMMEDIATE:
            return Doubt(DoubtKind.STOP, f"also heard as {other.text!r}", (other,))
    tool = catalog.tool(decision.tool)
    if others and (tool.changes or any(catalog.tool(str(o.tool)).changes for o in others)):
        return Doubt(DoubtKind.CHOOSE, f"also heard as {others[0].text!r}",
                     (decision, others[0]))
    if not tool.changes or understanding.safety(decision) != Safety.PLAIN:
        return None
    if decision.route in (Route.CLASSIFIER, Route.SLM):
        return Doubt(DoubtKind.READ_BACK, f"understood by the {decision.route} from speech",
                     (decision,))
    if heard.uncertain:
        return Doubt(DoubtKind.READ_BACK, heard.uncertain, (decision,))
    free = catalog.free_words(decision.tool, decision.arguments)
    if free:
        return Doubt(DoubtKind.READ_BACK, f"free words from speech ({', '.join(free)})",
                     (decision,))
    return None
