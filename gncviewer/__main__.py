"""``python -m gncviewer`` is the same as the ``gncviewer`` command."""

import sys

from .cli import main

sys.exit(main())
