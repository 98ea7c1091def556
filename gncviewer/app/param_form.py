"""A compact form for a pane's own declared parameters (a slice's plane and grid, the line-search curves).

Rows are generated from ``Param`` declarations like the controls dock (``controls.py``): choice →
combo box, bool → check box, anything else → a line edit that commits on Enter or when focus
leaves it.  The form only shows values and reports edits (``edited(name, text)``); the pane's owner
validates them with the declaration and answers with ``show`` or ``mark_error``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QWidget

from ..core.params import Param
from .controls import choice_texts

ERROR_STYLE = "border: 1px solid #e05555;"


class ParamForm(QWidget):
    """One row per declared parameter; ``edited(name, text)`` when the user commits a value."""

    edited = pyqtSignal(str, str)

    def __init__(self, params: Iterable[Param], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(2)
        self.params = {p.name: p for p in params}
        self.widgets: dict[str, QWidget] = {}
        self.errors: dict[str, str] = {}
        self._shown: dict[str, str] = {}
        for param in self.params.values():
            widget = self._widget(param)
            widget.setObjectName(param.name)
            widget.setToolTip(param.describe())
            self.widgets[param.name] = widget
            layout.addRow(param.label, widget)

    def _widget(self, param: Param) -> QWidget:
        name = param.name
        if param.kind == "choice":
            combo = QComboBox()
            options = choice_texts(param)
            combo.addItems(list(options))
            combo.activated.connect(lambda i, o=options: self.edited.emit(name, o[i]))
            return combo
        if param.kind == "bool":
            check = QCheckBox()
            check.clicked.connect(lambda on: self.edited.emit(name, "true" if on else "false"))
            return check
        edit = QLineEdit()
        if param.optional:
            edit.setPlaceholderText(param.none_text or "none")
        edit.editingFinished.connect(lambda: self._commit(name, edit.text()))
        return edit

    def _commit(self, name: str, text: str) -> None:
        if text != self._shown.get(name) or name in self.errors:
            self.edited.emit(name, text)

    def show(self, values: Any) -> None:  # type: ignore[override]
        """Show the values of a settings object (every row whose name it has)."""
        for name, widget in self.widgets.items():
            param = self.params[name]
            text = param.format(getattr(values, name))
            self._shown[name] = text
            widget.setEnabled(param.active(values) if param.active is not None else True)
            if name in self.errors:
                continue  # keep what the user typed until it is fixed
            widget.blockSignals(True)
            if isinstance(widget, QComboBox):
                index = widget.findText(text)
                if index >= 0 and widget.currentIndex() != index:
                    widget.setCurrentIndex(index)
            elif isinstance(widget, QCheckBox):
                widget.setChecked(text == "true")
            elif isinstance(widget, QLineEdit) and widget.text() != text:
                widget.setText(text)
                widget.setCursorPosition(0)
            widget.blockSignals(False)

    def mark_error(self, name: str, message: str) -> None:
        widget = self.widgets.get(name)
        if widget is not None:
            self.errors[name] = message
            widget.setStyleSheet(ERROR_STYLE)
            widget.setToolTip(message)

    def clear_error(self, name: str) -> None:
        self.errors.pop(name, None)
        widget = self.widgets.get(name)
        if widget is not None and widget.styleSheet():
            widget.setStyleSheet("")
            widget.setToolTip(self.params[name].describe())
