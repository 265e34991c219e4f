"""Command-line interface: a thin layer over the public API. ``main(argv) -> int``."""

from psychoval.cli._main import main

__all__ = ["main"]
