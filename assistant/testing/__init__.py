"""Test tools for the assistant and for skill authors: word salad from the skills' own
vocabulary, and a safety rig that drives the real dialogue and dispatcher on simulated
back ends that fail, checking the safety rules after every step."""

from assistant.testing.invariants import Monitor, Rule, Snapshot, Step, Violation
from assistant.testing.rig import DiskFault, Kind, Pools, SafetyRig, Utterance, sample_pools
from assistant.testing.salad import SaladTally, WordSalad

__all__ = [
    "DiskFault",
    "Kind",
    "Monitor",
    "Pools",
    "Rule",
    "SafetyRig",
    "SaladTally",
    "Snapshot",
    "Step",
    "Utterance",
    "Violation",
    "WordSalad",
    "sample_pools",
]
