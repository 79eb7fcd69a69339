"""Understanding in tiers: templates, then the classifier, then a small language model,
else no tool.

A decision names the tier that made it (``route``). Wrong actions are worse than none:
the classifier's guess is taken only above a confidence threshold; the language model
(``understand``, when one is attached) only sees what both left undecided and may abstain.
A guess, from either, stands only when the words support it (:mod:`assistant.nlu.evidence`:
a command word of the tool, no words of other tools, a stop word for a stop, the direction
of a change said) and its values are found in the words, each once: two different values
for one argument, or a number no argument took, and the guess is dropped. A guess that
lacks a required argument is a question ("To what temperature?"), never a default.
Otherwise the answer is no tool.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from assistant.dispatch.catalog import Catalog
from assistant.llm.base import LanguageModel
from assistant.nlu.analysis import Analysis, Analyzer
from assistant.nlu.classifier import IntentClassifier, default_negatives, salad_negatives
from assistant.nlu.clauses import NUMBER_WORD, Clauses
from assistant.nlu.evidence import Evidence
from assistant.nlu.matcher import TemplateMatch, TemplateMatcher
from assistant.nlu.nearest import NearestSentences
from assistant.nlu.normalize import Normalized, normalize
from assistant.nlu.readback import ReadBack
from assistant.nlu.slm import Demonstrations, ModelTier, TierSettings
from assistant.nlu.slots import bare_duration, find_values
from assistant.nlu.specialized import SpecializedTier
from assistant.nlu.templates import TemplateSentence, sayable_arguments
from assistant.skill_api import Safety, SlotKind

__all__ = ["CLASSIFIER_THRESHOLD", "Decision", "Route", "Understanding"]

CLASSIFIER_THRESHOLD = 0.3
"""One-vs-rest margin the classifier's best label needs before it may decide
(above 0 the model places the utterance inside that label)."""
IMMEDIATE_THRESHOLD = 0.8
"""Stricter margin for immediate tools: they act at once, with no confirmation to catch
a wrong guess (a false emergency stop latches the plant until someone resets it). A stop
word is needed too (:mod:`assistant.nlu.evidence`)."""
ASK_THRESHOLD = 0.5
"""Margin a guess needs when a required argument was not said: it becomes a question, and
a question from what was no request ("i used to drive a truck") is a nuisance."""
SPOKEN_THRESHOLD = 0.45
"""The classifier's margin for text from speech: it is read back before it runs, too."""


class Route(StrEnum):
    """Which tier decided."""

    GRAMMAR = "grammar"
    CLASSIFIER = "classifier"
    SLM = "slm"
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    """What an utterance asks for; ``tool`` None means nothing the skills can do."""

    text: str
    tool: str | None
    arguments: dict[str, Any]
    route: Route
    ms: float
    missing: tuple[str, ...] = ()
    error: str | None = None
    confidence: float = 1.0
    normalized: Normalized = field(default=Normalized("", ""), repr=False)
    choices: tuple[Decision, ...] = ()
    """With no tool: the calls the words fit equally well (templates of two tools at the
    same priority); the dialogue asks which one is meant."""

    def to_json(self) -> dict[str, Any]:
        """The ``assistant parse`` object of the contract."""
        result: dict[str, Any] = {
            "text": self.text,
            "tool": self.tool,
            "arguments": _json_numbers(self.arguments),
            "route": str(self.route),
            "ms": round(self.ms, 3),
        }
        if self.missing:
            result["missing"] = list(self.missing)
        if self.error:
            result["error"] = self.error
        if self.choices:
            result["choices"] = [{"tool": choice.tool,
                                  "arguments": _json_numbers(choice.arguments)}
                                 for choice in self.choices]
        return result


def _json_numbers(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in arguments.items()}


class Understanding:
    """The tiers, built once at start-up from the loaded skills."""

    def __init__(
        self,
        catalog: Catalog,
        sentences: Iterable[TemplateSentence],
        *,
        classifier: IntentClassifier | None = None,
        threshold: float = CLASSIFIER_THRESHOLD,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        sentences = list(sentences)
        self.catalog = catalog
        self.matcher = TemplateMatcher(sentences, catalog)
        self.clauses = Clauses(self.matcher, catalog)
        self.analyzer = Analyzer(self.matcher, self.clauses, catalog)
        self.classifier = classifier or IntentClassifier.train(
            sentences, catalog, [*default_negatives(), *salad_negatives(
                self.matcher.vocabulary, self.matcher.is_sentence)])
        self.threshold = threshold
        self._clock = clock
        self.template_sentences: tuple[TemplateSentence, ...] = tuple(sentences)
        self._sayable = sayable_arguments(sentences)
        self.evidence = Evidence(sentences, catalog)
        self.read_back = ReadBack(sentences, catalog, self.matcher)
        self.model_tier: ModelTier | None = None
        self.specialized: SpecializedTier | None = None
        """The trained head (``assistant train``): when attached, it is the last tier."""

    def attach_model(self, model: LanguageModel, **settings: Any) -> ModelTier:
        """Make ``model`` the last tier (``settings``: see :class:`TierSettings`)."""
        demonstrations = Demonstrations.build(self.template_sentences, self.catalog, self.matcher,
                                              default_negatives())
        self.model_tier = ModelTier(model, self.catalog, self.classifier, demonstrations,
                                    TierSettings(**settings))
        return self.model_tier

    @cached_property
    def sentences(self) -> NearestSentences:
        """Every expansion of the templates (built on first use, ~1 s): what a speech
        recognizer's near misses are matched against, and what tells whether a command
        heard at a pause could go on."""
        return NearestSentences(self.template_sentences, self.catalog.specs)

    def analyze(self, text: str) -> Analysis:
        """What the templates make of ``text``, analysed once and shared by every stage
        that asks (see :mod:`assistant.nlu.analysis`); never raises on any input."""
        return self.analyzer.analyze(text)

    def decide(self, text: str, *, spoken: bool = False) -> Decision:
        """Decide what ``text`` asks for; never raises on any input. Text from speech
        (``spoken``) needs a more confident classifier: a mishearing reads as a paraphrase."""
        started = self._clock()
        analysis = self.analyze(text)
        utterance = analysis.normalized
        if analysis.settled:
            return self._settled(analysis, started)
        threshold = max(self.threshold, SPOKEN_THRESHOLD) if spoken else self.threshold
        tool, arguments, route, confidence = self._guessed_call(analysis, threshold)
        if tool is None:
            return Decision(text, None, {}, route, self._ms(started),
                            error=utterance.rejected or None, confidence=confidence,
                            normalized=utterance)
        checked = self.catalog.check(tool, arguments)
        if route == Route.CLASSIFIER and checked.error:
            # A paraphrase guess whose values do not fit the tool is most likely the wrong tool.
            return Decision(text, None, {}, Route.NONE, self._ms(started),
                            confidence=confidence, normalized=utterance)
        return Decision(text, tool, checked.arguments, route, self._ms(started),
                        checked.missing, checked.error, confidence, utterance)

    def _settled(self, analysis: Analysis, started: float) -> Decision:
        """The templates' decision, from the analysis's own check."""
        utterance = analysis.normalized
        called = analysis.grammar
        if analysis.ambiguous and analysis.match is not None:
            choices = tuple(self._choice(analysis.text, match, utterance)
                            for match in (analysis.match, *analysis.match.rivals))
            for choice in choices:
                if choice.tool is not None and not choice.missing and not choice.error \
                        and self.catalog.safety(choice.tool, choice.arguments) \
                        == Safety.IMMEDIATE:
                    # A stop among the readings acts at once; it is never held by a question.
                    return dataclasses.replace(choice, ms=self._ms(started))
            tools = " or ".join(str(choice.tool) for choice in choices)
            return Decision(analysis.text, None, {}, Route.NONE, self._ms(started),
                            error=f"the words fit {tools} equally well", normalized=utterance,
                            choices=choices)
        if called is None or analysis.checked is None:
            return Decision(analysis.text, None, {}, Route.NONE, self._ms(started),
                            error=utterance.rejected or None, normalized=utterance)
        checked = analysis.checked
        return Decision(analysis.text, called[0], dict(checked.arguments), Route.GRAMMAR,
                        self._ms(started), checked.missing, checked.error, 1.0, utterance)

    def _choice(self, text: str, match: TemplateMatch, utterance: Normalized) -> Decision:
        checked = self.catalog.check(match.tool, match.arguments)
        return Decision(text, match.tool, checked.arguments, Route.GRAMMAR, 0.0,
                        checked.missing, checked.error, 1.0, utterance)

    async def understand(self, text: str) -> Decision:
        """:meth:`decide`, then the language model for what it left undecided; never
        raises. A model that abstains, fails or runs out of time gives no tool."""
        return await self.refine(self.decide(text))

    def undecided(self, decision: Decision) -> bool:
        """Whether :meth:`refine` would take ``decision`` to the language model's gate: no
        tier decided, and the words are no dialogue word and match no template."""
        utterance = decision.normalized
        if decision.route != Route.NONE or utterance.empty or utterance.rejected:
            return False
        analysis = self.analyze(decision.text)
        return analysis.act is None and analysis.match is None

    async def refine(self, decision: Decision) -> Decision:
        """A decision of :meth:`decide`, with the last tier asked if it is undecided: the
        specialized head when one is attached, else the language model."""
        utterance = decision.normalized
        if (self.specialized is None and self.model_tier is None) \
                or not self.undecided(decision):
            return decision
        started = self._clock()
        tool: str | None = None
        arguments: dict[str, Any] | None = None
        confidence = 0.0
        if self.specialized is not None:
            guess = await self.specialized.propose(utterance, self.classifier)
            if guess is not None:
                tool, confidence = guess.tool, guess.probability
                arguments = self._guessed(tool, guess.fixed, guess.negate, utterance)
        elif self.model_tier is not None:
            proposal = await self.model_tier.propose(utterance)
            if proposal is not None:
                tool, confidence = proposal.tool, proposal.margin
                arguments = self._guessed(tool, {}, frozenset(), utterance,
                                          free_text=proposal.arguments)
        ms = decision.ms + self._ms(started)
        # Like the classifier's, but stricter: a model's guess that lacks what its tool
        # needs is dropped, not asked about, and a stop is never the model's to decide.
        checked = None if tool is None or arguments is None \
            else self.catalog.check(tool, arguments)
        if tool is None or checked is None or checked.error or checked.missing \
                or self.catalog.safety(tool, checked.arguments) == Safety.IMMEDIATE:
            return dataclasses.replace(decision, ms=ms)
        return Decision(decision.text, tool, checked.arguments, Route.SLM, ms,
                        confidence=confidence, normalized=utterance)

    def fully_understands(self, text: str) -> bool:
        """A template matched (or one clause of a run-on, or a stop said first) with every
        argument present and valid, or it is a dialogue word: what a speech recognizer's
        hypotheses are checked against."""
        analysis = self.analyze(text)
        return analysis.act is not None or analysis.call is not None

    def doubt_matters(self, text: str) -> bool:
        """Whether doubt about this reading could hold its call back (a whole call that
        changes something, of plain safety, without free words): only then is a second
        opinion worth its time. Never for a stop: it acts at once, doubt or not."""
        analysis = self.analyze(text)
        call = analysis.call
        if call is None or analysis.safety != Safety.PLAIN:
            return False
        return self.catalog.tool(call[0]).changes and not self.catalog.free_words(*call)

    def acts_at_once(self, text: str) -> bool:
        """Whether this reading is a whole call of an immediate tool (a stop)."""
        return self.analyze(text).safety == Safety.IMMEDIATE

    def safety(self, decision: Decision) -> Safety:
        """The safety class of a decided call (some tools escalate with their arguments):
        its analysis's, when it is the templates' whole call of its text."""
        if decision.tool is None:
            raise ValueError(f"no call to class in {decision.text!r}")
        analysis = self.analyze(decision.text)
        if analysis.safety is not None and analysis.call == (decision.tool, decision.arguments):
            return analysis.safety
        return self.catalog.safety(decision.tool, decision.arguments)

    def confirms(self, text: str, other: str) -> bool:
        """Whether a second recognizer's reading ``other`` of the same audio confirms
        ``text``: both fully understood as one call (tool and arguments) with no free-text
        argument; two recognizers share a language prior, and agree on made-up words
        ("Play something by the details.", "Go to morning.")."""
        call = self.analyze(text).call
        return call is not None and not self.catalog.free_words(*call) \
            and call == self.analyze(other).call

    def renamings(self, text: str) -> list[str]:
        """For text not understood only because one name names nothing here, the sentence
        with each configured name in its place (for the recognizer to weigh)."""
        if self.fully_understands(text):
            return []
        return self.matcher.renamings(self.analyze(text).normalized)

    def finished(self, text: str) -> bool:
        """Heard at a pause, a command that is whole and cannot go on: a dialogue word no
        command starts with ("stop" may be "stop the lathe"), or a full match that said
        every argument some template could still add ("open the driver window" may go on
        "halfway"), with no free text (a note may go on) and no number at the end ("... to
        twenty" may become "twenty one")."""
        analysis = self.analyze(text)
        utterance = analysis.normalized
        if analysis.act is not None:
            return not self.sentences.continues(utterance.digits)
        words = utterance.digits.split()
        if not words or words[-1].replace(".", "", 1).isdigit():
            return False
        matched = analysis.match
        if matched is None or matched.unknown_name:
            return False
        specs = self.catalog.specs[matched.tool]
        if any(spec.kind == SlotKind.TEXT for spec in specs.values()) \
                or not self._sayable[matched.tool] <= matched.said:
            return False
        return analysis.call is not None  # the match is whole: nothing missing or wrong

    def fill(self, tool: str, argument: str, answer: str) -> Any:
        """The value of one argument in a follow-up answer ("the driver's one"), or None
        (no value, or two different ones)."""
        spec = self.catalog.specs[tool][argument]
        utterance = self.analyze(answer).normalized
        if spec.kind == SlotKind.TEXT:
            return utterance.spoken or None
        corrected = self.matcher.correct(utterance.digits)
        for text in dict.fromkeys((utterance.digits, corrected)):
            values = {repr(found.value): found.value for found in find_values(spec, text)}
            if len(values) == 1:
                return next(iter(values.values()))
            if values:
                return None
        if spec.kind == SlotKind.DURATION:  # "For how many seconds?" "2"
            return bare_duration(spec, utterance.digits)
        return None

    def _guessed_call(
        self, analysis: Analysis, threshold: float
    ) -> tuple[str | None, dict[str, Any], Route, float]:
        """The classifier's call, for what the templates leave undecided (see
        :attr:`Analysis.settled`)."""
        utterance = analysis.normalized
        matched = analysis.match
        guess = self.classifier.classify(utterance.digits)
        if matched is not None:
            # "start press 9": an unknown name counts if the classifier agrees on the tool,
            # or the template's own words stand on both sides of it ("turn on the kitchen
            # lights"), so the reply can list the names that exist.
            if guess.tool == matched.tool or matched.name_in_frame:
                return matched.tool, matched.arguments, Route.GRAMMAR, guess.confidence
            return None, {}, Route.NONE, guess.confidence
        if guess.tool is None or guess.confidence < threshold:
            return None, {}, Route.NONE, guess.confidence
        arguments = self._guessed(guess.tool, guess.fixed, guess.negate, utterance)
        if arguments is None or (
            guess.confidence < IMMEDIATE_THRESHOLD
            and self.catalog.safety(guess.tool, arguments) == Safety.IMMEDIATE
        ) or (guess.confidence < ASK_THRESHOLD and self._lacks(guess.tool, arguments)) \
                or self._lacks_free_text(guess.tool, arguments):
            return None, {}, Route.NONE, guess.confidence
        return guess.tool, arguments, Route.CLASSIFIER, guess.confidence

    def _lacks(self, tool: str, arguments: Mapping[str, Any]) -> bool:
        return any(spec.required and name not in arguments
                   for name, spec in self.catalog.specs[tool].items())

    def _lacks_free_text(self, tool: str, arguments: Mapping[str, Any]) -> bool:
        """Free text was maybe said ("route me to the airport"), but only a template or the
        language model can take it from the words: a guess does not ask for it."""
        return any(spec.required and spec.kind == SlotKind.TEXT and name not in arguments
                   for name, spec in self.catalog.specs[tool].items())

    def _guessed(
        self, tool: str, fixed: Mapping[str, Any], negate: frozenset[str],
        utterance: Normalized, free_text: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The arguments of a guessed call, every value from the words; None when the words
        do not support the call (see :class:`Evidence`)."""
        arguments = self._extract(tool, fixed, negate, utterance, free_text or {})
        if arguments is not None:
            arguments = self.evidence.orient(tool, arguments, utterance)
        if arguments is None:
            return None
        # Judged by the call's own class: "conveyor 2 to 0" is a stop, so it needs a stop word.
        immediate = self.catalog.safety(tool, arguments) == Safety.IMMEDIATE
        if self.evidence.objection(tool, utterance, immediate=immediate) is not None:
            return None
        return arguments

    def _extract(
        self, tool: str, fixed: Mapping[str, Any], negate: frozenset[str],
        utterance: Normalized, free_text: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """The arguments found in the utterance, each said once (a required one may be
        missing: it is asked for); None when an argument is said twice with different
        values, or a number is left that no argument took. Where values of two arguments
        overlap, the longer wins ("all the way" is a position, not "all the" windows)."""
        arguments = dict(fixed)
        specs = self.catalog.specs[tool]
        text = utterance.digits
        hits = [(spec, found) for spec in specs.values() if spec.kind != SlotKind.TEXT
                for found in find_values(spec, text)]
        # Longest first; at equal length names before numbers ("conveyor 2", not "2").
        hits.sort(key=lambda hit: (hit[1].start - hit[1].end, hit[0].kind == SlotKind.NUMBER))
        taken: list[tuple[int, int]] = []
        values: dict[str, list[Any]] = {}
        for spec, found in hits:
            if all(found.end <= s or found.start >= e for s, e in taken):
                taken.append((found.start, found.end))
                values.setdefault(spec.name, []).append(found.value)
        for name, said in values.items():
            if len({repr(value) for value in said}) > 1:
                return None
            value = said[0]
            if name in negate and isinstance(value, int | float):
                value = -value
            if name in fixed and fixed[name] != value:
                return None  # the phrasing's value and the one said disagree
            arguments[name] = value
        for name, spec in specs.items():
            quoted = free_text.get(name)
            if spec.kind == SlotKind.TEXT and quoted is not None and _quotes(str(quoted),
                                                                             utterance):
                arguments[name] = quoted
        for number in NUMBER_WORD.finditer(text):
            if all(number.end() <= s or number.start() >= e for s, e in taken):
                return None
        return arguments

    def _ms(self, started: float) -> float:
        return (self._clock() - started) * 1000.0


def _quotes(text: str, utterance: Normalized) -> bool:
    """Free text stands only as words the utterance contains, in order."""
    said = normalize(text).spoken
    return bool(said) and f" {said} " in f" {utterance.spoken} "
