"""``python -m hub``: the command line of the standalone hub (see ``hub.cli``)."""

from __future__ import annotations

from hub.cli import main

if __name__ == "__main__":
    main()
