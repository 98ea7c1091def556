"""Exceptions that carry a message meant for the user.

Everything a user can get wrong (a flag, a config or session file, an image, a weights file, a
parameter out of range) is reported by raising one of these with a message that names the
problem and the fix.  The CLI turns them into a one-line error and a non-zero exit; the GUI turns
them into a dialog and keeps its previous state.
"""

from __future__ import annotations


class GncViewerError(Exception):
    """Base class for errors whose message is shown to the user as is."""


class ConfigError(GncViewerError, ValueError):
    """An invalid parameter value.  ``field`` names the config field (the CLI maps it to a flag)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class InputFileError(GncViewerError):
    """A file given by the user cannot be used (missing, unreadable, wrong format or shape).

    ``field`` names the setting the file was given for (``model``, ``phantom``, ``init``), so the CLI
    can name the flag and the explorer the control; None when the file was not a setting.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ModelError(InputFileError):
    """A weights file or model card is missing, corrupt, truncated or does not fit the problem."""


class NumericalError(GncViewerError, ArithmeticError):
    """A NaN or Inf appeared; the message says where, and so do ``iteration``, ``t`` and ``quantity``
    (the smoothing level in force and what turned non-finite), so a run can report why it ended."""

    def __init__(
        self, message: str, iteration: int | None = None, t: float | None = None, quantity: str | None = None
    ) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.t = t
        self.quantity = quantity
