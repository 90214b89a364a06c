"""``python -m minigrad``: the same as the ``minigrad`` command (see cli.py)."""

import sys

from minigrad.cli import main

if __name__ == "__main__":
    sys.exit(main())
