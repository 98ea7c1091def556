"""The sampling dock: the predictor–corrector sampler's controls, its progress and how close it came.

The controls are generated from ``PCSettings``'s declarations (``core/params.py``), like the main
controls panel: choice → combo box, numbers → line edit committed on Enter or when focus leaves,
label and tooltip from the declaration.  A refused value outlines the field in red and says why in
the pane; the previous settings stay in force.  The particles themselves are drawn on the landscape
pane (``panes/landscape.py``); this pane shows the phase, t, step size and, at the end, the energy
distance and the mass per component against the exact target.
"""

from __future__ import annotations

import html

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...core.params import Param
from ...core.pc_settings import PCSettings
from ...errors import ConfigError
from .. import help_texts
from .base import Pane

#: Paces offered (sampler steps per second); None = flat out.
PACES: tuple[tuple[str, float | None], ...] = (
    ("flat out", None),
    ("1000 steps/s", 1000.0),
    ("300 steps/s", 300.0),
    ("100 steps/s", 100.0),
    ("30 steps/s", 30.0),
)
PHASE_TEXT = {
    "start": "start law at T₁",
    "corrector": "Langevin corrector at T₁",
    "predictor": "reverse SDE (predictor)",
    "done": "done",
}


class SamplingPane(Pane):
    """Controls, Run/Stop and results of the predictor–corrector sampler.

    Signals: ``run_requested``, ``stop_requested``, ``pace_changed(steps_per_second | None)``.
    """

    run_requested = pyqtSignal()
    stop_requested = pyqtSignal()
    pace_changed = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.SAMPLING, parent)
        self.settings = PCSettings()
        self.errors: dict[str, str] = {}
        self.widgets: dict[str, QWidget] = {}
        self.finish_header()

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(6)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(
            "QLabel { color: #ffd7d7; background: #6b1f1f; border-radius: 4px; padding: 5px; }"
        )
        self.error_label.hide()
        layout.addWidget(self.error_label)
        # Run/Stop, progress and results first (visible without scrolling), then the settings.
        boxes: list[QGroupBox] = []
        groups: dict[str, list[Param]] = {}
        for param in PCSettings.params():
            groups.setdefault(param.group, []).append(param)
        for title, params in groups.items():
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            form.setVerticalSpacing(4)
            for param in params:
                label = QLabel(param.label)
                widget = self._make(param)
                tip = param.describe(PCSettings.defaults()[param.name])
                label.setToolTip(tip)
                widget.setToolTip(tip)
                form.addRow(label, widget)
            boxes.append(box)

        row = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Sample with these settings (a run in progress starts over)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the run; the particles stay where they are")
        self.stop_button.setEnabled(False)
        self.pace = QComboBox()
        for text, _ in PACES:
            self.pace.addItem(text)
        self.pace.setToolTip("Sampler steps per second: slow down to watch the particles move")
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        row.addWidget(QLabel("pace"))
        row.addWidget(self.pace, 1)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("Not run yet.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        for box in boxes:
            layout.addWidget(box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        self.body.addWidget(scroll)

        self.run_button.clicked.connect(self.run_requested.emit)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.pace.activated.connect(lambda i: self.pace_changed.emit(PACES[i][1]))
        self.show_settings()

    # -- controls --------------------------------------------------------------------------------

    def _make(self, param: Param) -> QWidget:
        name = param.name
        if param.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(param.choices))
            combo.setObjectName(name)
            combo.activated.connect(lambda i, n=name, o=param.choices: self.edit(n, o[i]))
            self.widgets[name] = combo
            return combo
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.editingFinished.connect(lambda n=name: self._commit(n))
        self.widgets[name] = edit
        return edit

    def _commit(self, name: str) -> None:
        widget = self.widgets[name]
        assert isinstance(widget, QLineEdit)
        if widget.text() == self.settings.text(name) and name not in self.errors:
            return
        self.edit(name, widget.text())

    def set_text(self, name: str, text: str) -> bool:
        """Type ``text`` into a field and commit it, as a user would (tests, scripts)."""
        widget = self.widgets[name]
        if isinstance(widget, QLineEdit):
            widget.setText(text)
        return self.edit(name, text)

    def edit(self, name: str, text: str) -> bool:
        """Apply one edit; False (field outlined, reason shown, settings unchanged) when it is refused."""
        try:
            new = self.settings.with_text(name, text)
        except ConfigError as err:
            self.errors[name] = err.detail if err.field == name else str(err)
            self._outline(name, True)
            self._show_errors()
            return False
        self.settings = new
        for field in list(self.errors):
            self._outline(field, False)
        self.errors.clear()
        self._show_errors()
        self.show_settings()
        return True

    def _outline(self, name: str, on: bool) -> None:
        widget = self.widgets.get(name)
        if widget is not None:
            widget.setStyleSheet("border: 2px solid #e05555; border-radius: 3px;" if on else "")

    def _show_errors(self) -> None:
        labels = {p.name: p.label for p in PCSettings.params()}
        self.error_label.setText("\n".join(f"{labels.get(n, n)}: {m}" for n, m in self.errors.items()))
        self.error_label.setVisible(bool(self.errors))

    def show_settings(self) -> None:
        """Show the settings in force (fields with a pending error keep the user's text)."""
        for name, widget in self.widgets.items():
            if name in self.errors:
                continue
            text = self.settings.text(name)
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(widget.findText(text))
            elif isinstance(widget, QLineEdit) and widget.text() != text:
                widget.setText(text)
                widget.setCursorPosition(0)

    # -- progress and results --------------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        self.stop_button.setEnabled(running)
        self.run_button.setText("Restart" if running else "Run")

    def show_frame(self, phase: str, step: int, total: int, t: float, step_size: float) -> None:
        self.progress.setValue(int(1000 * step / max(total, 1)))
        what = PHASE_TEXT.get(phase, phase)
        size = f" · ε = {step_size:.3g}" if phase == "corrector" else f" · Δλ = {step_size:.3g}" if step_size else ""
        self.status.setText(f"{what} · step {step} of {total} · t = {t:.4g}{size}")

    def show_message(self, text: str) -> None:
        self.status.setText(text)

    def show_result(self, result) -> None:
        """The evaluation of a finished run as a small table."""
        e = result.evaluation
        floor = f" (two exact samples: {e.energy_distance_floor:.4f})" if e.energy_distance_floor is not None else ""
        rows = "".join(
            f"<tr><td>{k}</td><td>({m[0]:.2f}, {m[1]:.2f})</td><td align='right'>{r:.4f}</td>"
            f"<td align='right'>{x:.4f}</td></tr>"
            for k, (m, r, x) in enumerate(zip(e.component_means, e.reference_masses, e.masses), start=1)
        )
        s = result.settings
        self.progress.setValue(1000)
        self.status.setText(
            f"done: {s.particles} particles of the {s.target} in {result.seconds:.2f} s "
            f"(evaluation {result.evaluation_seconds:.2f} s)"
        )
        self.result.setText(
            f"<b>energy distance</b> {e.energy_distance:.4f} on {e.distance_points} points{html.escape(floor)}<br>"
            f"<b>largest mass error</b> {e.mass_error:.4f}"
            "<table cellspacing='4'><tr><th>k</th><th>component mean</th><th>exact mass</th><th>samples</th></tr>"
            f"{rows}</table>"
        )

    def clear_result(self) -> None:
        self.result.setText("")
