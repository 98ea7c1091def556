"""The controls dock: problem, method, every solver parameter, initialisation and the run buttons.

The panel is a view of ``ExplorerState``: it shows the state's values and reports each committed
edit as ``edited(field, text)``; the main window validates through the state and answers with
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

from ..commands.common import SOLVER_FLAGS
from . import help_texts
from .state import CHOICES, ExplorerState

#: Speeds offered (iterations per second); None = flat out.
SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("flat out", None), ("1000 it/s", 1000.0), ("300 it/s", 300.0), ("100 it/s", 100.0), ("30 it/s", 30.0),
    ("10 it/s", 10.0), ("3 it/s", 3.0),
)

LABELS = {
    "method": "method", "iterations": "iterations", "t_max": "t_max", "t_min": "t_min", "schedule": "schedule",
    "grad_tol": "stop at ‖∇f‖ ≤", "adaptive_rule": "rule", "descent_c": "descent c", "candidate_batch": "batch",
    "step_rule": "step rule", "step_size": "step size λ", "armijo_beta0": "Armijo β₀", "armijo_tau": "Armijo τ",
    "armijo_max_tries": "max tries", "armijo_c1": "Armijo c₁", "armijo_bb": "Barzilai–Borwein β₀",
    "bb_scale": "BB scale", "bb_initial": "BB first β₀", "on_failure": "on failure",
    "corrector_steps": "corrector steps",
    "temperature": "temperature T", "seed": "seed", "alpha": "prior weight α", "phantom": "phantom", "size": "size n",
    "angles": "angles", "noise": "noise level", "noise_seed": "noise seed", "model": "model", "toy_starts": "start(s)",
    "ct_init": "x₀",
}

EXTRA_TIPS = {
    "method": "gnc-flow: Algorithm 1 (fixed schedule); gradient-like: Algorithm 2 (adaptive t, Armijo); "
              "descent: plain gradient descent on f; langevin: annealed Langevin (predictor–corrector sampling)",
    "iterations": "iterations per run (the toy paper setting: 1300)",
    "t_max": "largest smoothing level, where the schedule starts",
    "t_min": "smallest smoothing level: f = F(·, t_min) is the problem actually solved",
    "grad_tol": "stop when ‖∇f‖ falls to this value (0: only at an exactly zero gradient)",
    "candidate_batch": "gradient-like: levels evaluated together after a rejection (speed only)",
    "bb_scale": "factor on the Barzilai–Borwein estimate (the CT reference uses 4)",
    "bb_initial": "β₀ of the first Barzilai–Borwein iteration",
    "alpha": "weight of −log p_t in F(x, t) (toy: 0.05; CT: α in α_t = α s_t/μ_t, paper 10)",
    "phantom": "ellipses:SEED (random ellipses), shepp-logan, or the path of an image file",
    "size": "image size n (n × n pixels); the model must be trained for it",
    "angles": "projection angles, uniform in [0, π)",
    "noise": "relative noise: y = Ax + noise · mean|Ax| · N(0, I)",
    "noise_seed": "seed of the measurement noise",
    "model": "energy-prior weights (.safetensors with its .json card); empty: the shipped model for the size",
    "toy_starts": "starting points 'x, y; x, y' (or click / shift-click on the landscape)",
    "ct_init": "zeros, fbp, noise:SEED or the path of an image file",
}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Problem", ("problem", "alpha", "phantom", "size", "angles", "noise", "noise_seed", "model")),
    ("Method and schedule", ("method", "iterations", "t_max", "t_min", "schedule", "grad_tol")),
    ("Adaptive smoothing (gradient-like)", ("adaptive_rule", "descent_c", "candidate_batch")),
    ("Step size", ("step_rule", "step_size", "armijo_beta0", "armijo_tau", "armijo_max_tries", "armijo_c1",
                   "armijo_bb", "bb_scale", "bb_initial", "on_failure")),
    ("Langevin (sampling)", ("corrector_steps", "temperature", "seed")),
    ("Initialisation", ("toy_starts", "ct_init")),
)
CT_ONLY = ("phantom", "size", "angles", "noise", "noise_seed", "model", "ct_init")
TOY_ONLY = ("toy_starts",)


def _tooltip(name: str) -> str:
    for field, _kind, text in SOLVER_FLAGS:
        if field == name:
            return text
    return EXTRA_TIPS.get(name, "")


class ControlsPanel(QScrollArea):
    """All inputs in groups; ``edited(field, value)`` on every committed change."""

    edited = pyqtSignal(str, object)
    random_start = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        intro = QLabel(help_texts.CONTROLS)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #9aa4b1; font-size: 9pt;")
        layout.addWidget(intro)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("QLabel { color: #ffd7d7; background: #6b1f1f; border-radius: 4px; "
                                       "padding: 5px; }")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        layout.addWidget(self._speed_row())
        self.widgets: dict[str, QWidget] = {}
        self.rows: dict[str, tuple[QLabel, QWidget]] = {}
        self.groups: dict[str, QGroupBox] = {}
        self._shown: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        for title, names in GROUPS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            form.setVerticalSpacing(4)
            for name in names:
                widget = self._make(name)
                label = QLabel(LABELS.get(name, name))
                tip = _tooltip(name)
                label.setToolTip(tip)
                widget.setToolTip(tip)
                form.addRow(label, widget)
                self.rows[name] = (label, widget)
            self.groups[title] = box
            layout.addWidget(box)
        layout.addStretch(1)
        self.setWidget(inner)
        self.setMinimumWidth(330)

    # -- construction --------------------------------------------------------------------------------

    def _speed_row(self) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("speed"))
        self.speed = QComboBox()
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setToolTip("Iterations per second: slow down to watch, flat out to get results")
        self.speed.activated.connect(lambda i: self.edited.emit("speed", SPEEDS[i][1]))
        row.addWidget(self.speed, 1)
        return holder

    def _make(self, name: str) -> QWidget:
        if name in CHOICES:
            combo = QComboBox()
            combo.addItems(["CT" if c == "ct" else c for c in CHOICES[name]])
            combo.setObjectName(name)
            combo.activated.connect(lambda i, n=name: self.edited.emit(n, CHOICES[n][i]))
            self.widgets[name] = combo
            return combo
        if name == "armijo_bb":
            check = QCheckBox()
            check.setObjectName(name)
            check.clicked.connect(lambda on, n=name: self.edited.emit(n, "true" if on else "false"))
            self.widgets[name] = check
            return check
        edit = QLineEdit()
        edit.setObjectName(name)
        if name == "model":
            edit.setPlaceholderText("shipped model for this size")
        edit.editingFinished.connect(lambda n=name: self._commit(n))
        self.widgets[name] = edit
        if name == "toy_starts":
            return self._with_button(edit, "random", "A new random starting point in [−10, 10]² (N)",
                                     self.random_start.emit)
        if name in ("phantom", "ct_init", "model"):
            return self._with_button(edit, "…", "Choose a file", lambda n=name: self._browse(n))
        return edit

    def _with_button(self, edit: QLineEdit, text: str, tip: str, slot) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        row.addWidget(edit, 1)
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        row.addWidget(button)
        return holder

    def _browse(self, name: str) -> None:
        pattern = "Weights (*.safetensors)" if name == "model" else "Images (*.png *.jpg *.jpeg *.tif *.tiff *.npy)"
        path, _ = QFileDialog.getOpenFileName(self, f"Choose the {LABELS.get(name, name)}", "",
                                              f"{pattern};;All files (*)")
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
        elif isinstance(widget, QComboBox):
            self.edited.emit(name, text)
        elif isinstance(widget, QCheckBox):
            self.edited.emit(name, text)

    def show_state(self, state: ExplorerState) -> None:
        """Show ``state``'s values (fields with a pending error keep the user's text)."""
        for name, widget in self.widgets.items():
            text = state.value_text(name)
            self._shown[name] = text
            if name in self.errors:
                continue
            widget.blockSignals(True)
            if isinstance(widget, QComboBox):
                options = CHOICES[name]
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
        self._update_visibility(state)

    def _update_visibility(self, state: ExplorerState) -> None:
        ct = state.problem == "ct"
        for name in CT_ONLY:
            self._set_row_visible(name, ct)
        for name in TOY_ONLY:
            self._set_row_visible(name, not ct)
        cfg = state.config
        method = cfg.method
        armijo = cfg.effective_step_rule == "armijo" and method != "langevin"
        enabled = {
            "t_max": method != "descent", "schedule": method != "descent",
            "step_size": cfg.effective_step_rule == "fixed" or method == "langevin",
            "step_rule": method != "langevin",
            "bb_scale": armijo and cfg.armijo_bb, "bb_initial": armijo and cfg.armijo_bb,
            "armijo_beta0": armijo and not cfg.armijo_bb,
        }
        for name in ("armijo_tau", "armijo_max_tries", "armijo_c1", "armijo_bb", "on_failure"):
            enabled[name] = armijo
        for name in ("adaptive_rule", "descent_c", "candidate_batch"):
            enabled[name] = method == "gradient-like"
        for name in ("corrector_steps", "temperature", "seed"):
            enabled[name] = method == "langevin"
        for name, on in enabled.items():
            label, widget = self.rows[name]
            label.setEnabled(on)
            widget.setEnabled(on)
        self.groups["Adaptive smoothing (gradient-like)"].setVisible(method == "gradient-like")
        self.groups["Langevin (sampling)"].setVisible(method == "langevin")

    def _set_row_visible(self, name: str, visible: bool) -> None:
        label, widget = self.rows[name]
        label.setVisible(visible)
        widget.setVisible(visible)

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
        lines = [f"{LABELS.get(name, name)}: {msg}" for name, msg in self.errors.items()]
        self.error_label.setText("\n".join(lines))
        self.error_label.setVisible(bool(lines))
