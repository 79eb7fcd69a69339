"""Offline voice assistant: understanding, dialogue and safe dispatch to plugin skills.

Skill authors import :mod:`assistant.skill_api`; the command line is ``assistant``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
