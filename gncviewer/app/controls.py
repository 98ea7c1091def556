"""The controls dock: problem, method, every declared parameter, the initial point and the speed.

The panel is generated from the declarations (``core/params.py``): one row per parameter of the
current problem kind and of the solver, grouped by the declaration's group, with its label, tooltip
(help, unit, range) and a widget for its type (choice → combo box, bool → check box, else a line
edit; "…" for parameters that may be a file).  Switching the problem kind rebuilds the rows.

The panel is a view of ``ExplorerState``: it shows the state's values and reports each committed edit
as ``edited(field, text)``; the main window validates through the state and answers with
``show_state`` (accepted) or ``mark_error`` (rejected: the field turns red, the message appears at
the top, nothing else changes).  Fields commit on Enter or when focus leaves them.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.config import SolverConfig
from ..core.params import Param
from ..problems import all_kinds
from . import help_texts
from .state import PRESET_FIELD, PROBLEM_FIELD, ExplorerState

#: Speeds offered (iterations per second); None = flat out.
SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("flat out", None),
    ("1000 it/s", 1000.0),
    ("300 it/s", 300.0),
    ("100 it/s", 100.0),
    ("30 it/s", 30.0),
    ("10 it/s", 10.0),
    ("3 it/s", 3.0),
)


def choice_texts(param: Param) -> tuple[str, ...]:
    """What a choice's combo box offers (an optional choice first offers its "none" word, e.g. auto)."""
    return ((param.none_text,) if param.optional else ()) + param.choices


def compact_combo() -> QComboBox:
    """A combo box whose width does not follow its longest item.

    By default a QComboBox asks for the width of its longest label; one long preset name then made the
    panel's content wider than the dock, and the wrapped preset description ran under its right edge.
    """
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


class ControlsPanel(QScrollArea):
    """All inputs in groups; ``edited(field, value)`` on every committed change."""

    edited = pyqtSignal(str, object)
    random_start = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self._layout.setSpacing(6)
        intro = QLabel(help_texts.CONTROLS)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #9aa4b1; font-size: 9pt;")
        self._layout.addWidget(intro)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(
            "QLabel { color: #ffd7d7; background: #6b1f1f; border-radius: 4px; padding: 5px; }"
        )
        self.error_label.hide()
        self._layout.addWidget(self.error_label)
        # While an earlier iterate is replayed the controls show the settings in force then, read-only.
        self.replay_label = QLabel("")
        self.replay_label.setWordWrap(True)
        self.replay_label.setStyleSheet(
            "QLabel { color: #dfe9ff; background: #23406b; border-radius: 4px; padding: 5px; }"
        )
        self.replay_label.hide()
        self._layout.addWidget(self.replay_label)
        self.replaying: int | None = None
        self._layout.addWidget(self._speed_row())
        self.problem_box = compact_combo()
        self.problem_box.setObjectName(PROBLEM_FIELD)
        self.problem_box.setToolTip(
            "The inverse problem: " + "; ".join(f"{k.short_label or k.name}: {k.summary}" for k in all_kinds())
        )
        self.problem_box.activated.connect(lambda i: self.edited.emit(PROBLEM_FIELD, self._kinds[i]))
        problem_row = QWidget()
        row = QHBoxLayout(problem_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("problem"))
        row.addWidget(self.problem_box, 1)
        self._layout.addWidget(problem_row)
        # Presets: named sets of values (e.g. exactly the reference code's run); "none" keeps the values.
        self.preset_box = compact_combo()
        self.preset_box.setObjectName(PRESET_FIELD)
        self.preset_box.activated.connect(lambda i: self.edited.emit(PRESET_FIELD, self._presets[i]))
        self.preset_note = QLabel("")
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet("color: #9aa4b1; font-size: 9pt;")
        self.preset_row = QWidget()
        preset_layout = QVBoxLayout(self.preset_row)
        preset_layout.setContentsMargins(0, 0, 0, 0)
        preset_line = QHBoxLayout()
        preset_line.addWidget(QLabel("preset"))
        preset_line.addWidget(self.preset_box, 1)
        preset_layout.addLayout(preset_line)
        preset_layout.addWidget(self.preset_note)
        self._layout.addWidget(self.preset_row)
        self._presets: list[str] = [""]
        self._groups_holder = QWidget()
        self._groups_layout = QVBoxLayout(self._groups_holder)
        self._groups_layout.setContentsMargins(0, 0, 0, 0)
        self._groups_layout.setSpacing(6)
        self._layout.addWidget(self._groups_holder)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self.setMinimumWidth(330)

        self._kinds: list[str] = []
        self._built_for: str | None = None
        self.params: dict[str, Param] = {}
        self.widgets: dict[str, QWidget] = {PROBLEM_FIELD: self.problem_box, PRESET_FIELD: self.preset_box}
        self.rows: dict[str, tuple[QLabel, QWidget]] = {}
        self.groups: dict[str, QGroupBox] = {}
        self._shown: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    # -- construction --------------------------------------------------------------------------------

    def _speed_row(self) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("speed"))
        self.speed = compact_combo()
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setToolTip("Iterations per second: slow down to watch, flat out to get results")
        self.speed.activated.connect(lambda i: self.edited.emit("speed", SPEEDS[i][1]))
        row.addWidget(self.speed, 1)
        return holder

    def _rebuild(self, state: ExplorerState) -> None:
        """Rows for the current kind's parameters and the solver's, grouped as declared."""
        for box in self.groups.values():
            box.setParent(None)
            box.deleteLater()
        self.groups.clear()
        self.rows.clear()
        self.widgets = {PROBLEM_FIELD: self.problem_box, PRESET_FIELD: self.preset_box}
        self.params = dict(state.params())
        self._shown.clear()
        kind = state.kind
        ordered: dict[str, list[Param]] = {}
        for param in (*kind.settings_type.params(), *SolverConfig.params(), kind.init_param):
            ordered.setdefault(param.group, []).append(param)
        for title, params in ordered.items():
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            form.setVerticalSpacing(4)
            for param in params:
                widget = self._make(param)
                label = QLabel(param.label)
                tip = param.describe()
                label.setToolTip(tip)
                self.widgets[param.name].setToolTip(tip)
                form.addRow(label, widget)
                self.rows[param.name] = (label, widget)
            self.groups[title] = box
            self._groups_layout.addWidget(box)
        self._built_for = state.problem

    def _make(self, param: Param) -> QWidget:
        name = param.name
        if param.kind == "choice":
            combo = compact_combo()
            options = choice_texts(param)
            combo.addItems(list(options))
            combo.setObjectName(name)
            combo.activated.connect(lambda i, n=name, o=options: self.edited.emit(n, o[i]))
            self.widgets[name] = combo
            return combo
        if param.kind == "bool":
            check = QCheckBox()
            check.setObjectName(name)
            check.clicked.connect(lambda on, n=name: self.edited.emit(n, "true" if on else "false"))
            self.widgets[name] = check
            return check
        edit = QLineEdit()
        edit.setObjectName(name)
        if param.optional and param.none_text == "":
            edit.setPlaceholderText("default")
        edit.editingFinished.connect(lambda n=name: self._commit(n))
        self.widgets[name] = edit
        buttons = []
        if name == "init":
            buttons.append(("random", "A new random initialisation (N)", self.random_start.emit))
        if param.browse:
            buttons.append(("…", "Choose a file", lambda n=name: self._browse(n)))
        return self._with_buttons(edit, buttons) if buttons else edit

    def _with_buttons(self, edit: QLineEdit, buttons: list) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        row.addWidget(edit, 1)
        for text, tip, slot in buttons:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            row.addWidget(button)
        return holder

    def _browse(self, name: str) -> None:
        param = self.params[name]
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {param.label}", "", f"{param.browse};;All files (*)")
        if path:
            widget = self.widgets[name]
            assert isinstance(widget, QLineEdit)
            widget.setText(path)
            self._commit(name)

    def _commit(self, name: str) -> None:
        widget = self.widgets[name]
        assert isinstance(widget, QLineEdit)
        text = widget.text()
        if text == self._shown.get(name) and name not in self.errors:
            return
        self.edited.emit(name, text)

    # -- state ---------------------------------------------------------------------------------------

    def set_text(self, name: str, text: str) -> None:
        """Type ``text`` into a field and commit it, as a user would (used by tests and the CLI)."""
        widget = self.widgets[name]
        if isinstance(widget, QLineEdit):
            widget.setText(text)
            self._commit(name)
        else:
            self.edited.emit(name, text)

    def show_state(self, state: ExplorerState) -> None:
        """Show ``state``'s values (fields with a pending error keep the user's text)."""
        kinds = [k.name for k in all_kinds()]
        if kinds != self._kinds:
            self._kinds = kinds
            self.problem_box.blockSignals(True)
            self.problem_box.clear()
            self.problem_box.addItems([k.short_label or k.name for k in all_kinds()])
            self.problem_box.blockSignals(False)
        if state.problem != self._built_for:
            self._rebuild(state)
        self.problem_box.blockSignals(True)
        self.problem_box.setCurrentIndex(self._kinds.index(state.problem))
        self.problem_box.blockSignals(False)
        self._show_preset(state)
        for name, widget in self.widgets.items():
            if name in (PROBLEM_FIELD, PRESET_FIELD):
                continue
            text = state.value_text(name)
            self._shown[name] = text
            if name in self.errors:
                continue
            widget.blockSignals(True)
            if isinstance(widget, QComboBox):
                options = choice_texts(self.params[name])
                widget.setCurrentIndex(options.index(text) if text in options else 0)
            elif isinstance(widget, QCheckBox):
                widget.setChecked(text == "true")
            else:
                assert isinstance(widget, QLineEdit)
                if widget.text() != text:
                    widget.setText(text)
                    widget.setCursorPosition(0)
            widget.blockSignals(False)
        speeds = [s for _, s in SPEEDS]
        self.speed.setCurrentIndex(speeds.index(state.speed) if state.speed in speeds else 0)
        self._update_enabled(state)

    def _show_preset(self, state: ExplorerState) -> None:
        """The kind's presets, the current one and what differs from it."""
        kind = state.kind
        names = ["", *(p.name for p in kind.presets)]
        if names != self._presets:
            self._presets = names
            self.preset_box.blockSignals(True)
            self.preset_box.clear()
            self.preset_box.addItem("none")
            for preset in kind.presets:
                self.preset_box.addItem(preset.label)
                self.preset_box.setItemData(
                    self.preset_box.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole
                )
            # The list opens as wide as its longest label, though the box itself is narrow.
            view = self.preset_box.view()
            view.setMinimumWidth(view.sizeHintForColumn(0) + 24)
            self.preset_box.blockSignals(False)
        self.preset_row.setVisible(bool(kind.presets))
        current = state.setup.preset or ""
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentIndex(names.index(current) if current in names else 0)
        self.preset_box.blockSignals(False)
        if not current:
            self.preset_note.setText("")
            self.preset_note.hide()
            return
        changes = state.setup.preset_changes(kind)
        preset = kind.preset(current)
        note = (
            preset.description
            if not changes
            else "modified: " + ", ".join(f"{self.params[n].label if n in self.params else n}" for n in changes)
        )
        self.preset_note.setText(note)
        self.preset_note.setToolTip(preset.source)
        self.preset_note.show()

    def _update_enabled(self, state: ExplorerState) -> None:
        """Grey out what the current method does not use; hide groups where nothing is used."""
        settings, config = state.settings, state.config
        settings_names = {p.name for p in settings.params()}
        active_in_group: dict[str, bool] = {}
        for name, (label, widget) in self.rows.items():
            param = self.params[name]
            owner = settings if name in settings_names else config
            on = param.active(owner) if param.active is not None else True
            label.setEnabled(on)
            widget.setEnabled(on)
            active_in_group[param.group] = active_in_group.get(param.group, False) or on
        for title, box in self.groups.items():
            box.setVisible(active_in_group.get(title, True))

    def set_replay(self, iteration: int | None, state: ExplorerState) -> None:
        """Show ``state`` read-only while iteration ``iteration`` is replayed; editable again with None."""
        self.replaying = iteration
        self.show_state(state)
        editable = iteration is None
        for widget in (self._groups_holder, self.problem_box, self.preset_box):
            widget.setEnabled(editable)
        if editable:
            self.replay_label.hide()
            return
        self.replay_label.setText(
            f"Replaying iteration {iteration}: the settings in force then, read-only. "
            "Press Live (End) or drag the slider to the end to edit."
        )
        self.replay_label.show()

    # -- errors --------------------------------------------------------------------------------------

    def mark_error(self, name: str, message: str) -> None:
        """Show ``message`` and outline the field (when the panel has one of that name)."""
        self.errors[name] = message
        widget = self.widgets.get(name)
        if widget is not None:
            widget.setStyleSheet("border: 2px solid #e05555; border-radius: 3px;")
        self._refresh_errors()

    def clear_error(self, name: str) -> None:
        if self.errors.pop(name, None) is not None:
            widget = self.widgets.get(name)
            if widget is not None:
                widget.setStyleSheet("")
        self._refresh_errors()

    def clear_errors(self) -> None:
        for name in list(self.errors):
            self.clear_error(name)

    def _refresh_errors(self) -> None:
        lines = [f"{self._label(name)}: {msg}" for name, msg in self.errors.items()]
        self.error_label.setText("\n".join(lines))
        self.error_label.setVisible(bool(lines))

    def _label(self, name: str) -> str:
        param = self.params.get(name)
        return param.label if param is not None else name
