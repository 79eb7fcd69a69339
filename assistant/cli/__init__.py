"""The ``assistant`` command and its sub-commands."""
