"""Entry point of the frozen bundle: the same as the ``gncviewer`` console script.

Named ``gncviewer_main`` (not ``gncviewer.py``) so that it cannot shadow the ``gncviewer`` package.
"""

import sys

from gncviewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
