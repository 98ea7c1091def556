"""PyInstaller runtime hook: runs inside the bundle before the entry script.

``torch.compile`` cannot work in the bundle: inductor needs a C++ compiler, the Python headers and
torch's C++ headers, none of which are inside, and its compile workers would start
``sys.executable`` -- which in a bundle is the gncviewer executable itself.  So:

- large convergence maps run eagerly (``GNCVIEWER_NO_COMPILE``);
- where compilation is asked for anyway (the explorer's "compile" box), dynamo falls back to eager
  execution with a warning instead of raising (``TORCHDYNAMO_SUPPRESS_ERRORS``), and compiles
  in-process (``TORCHINDUCTOR_COMPILE_THREADS``).

All three are defaults: a value already in the environment wins.
"""

import os

os.environ.setdefault("GNCVIEWER_NO_COMPILE", "1")
os.environ.setdefault("TORCHDYNAMO_SUPPRESS_ERRORS", "1")
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
