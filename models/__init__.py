"""The model manifest: every model the assistant may load, where it comes from, its sha256.

The logic that finds and verifies models is :mod:`assistant.manifest`.
"""

from pathlib import Path

__all__ = ["MANIFEST"]

MANIFEST = Path(__file__).with_name("manifest.toml")
