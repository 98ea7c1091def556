"""CLI sub-commands.  Each module exposes ``register(subparsers)`` and keeps heavy imports
(torch, astra, Qt) inside its handler so that ``gncviewer --help`` stays instant."""
