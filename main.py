"""handpose-live from a clone: ``python main.py`` = the ``handpose-live`` command
(``handpose_live/__main__.py``); ``python main.py --help`` lists every mode."""
from __future__ import annotations

import sys

from handpose_live.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
