"""``python -m psychoval``: the command-line interface."""

import sys

from psychoval.cli import main

if __name__ == "__main__":
    sys.exit(main())
