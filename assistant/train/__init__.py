"""Specializing understanding to the installed skills: ``assistant train``."""
