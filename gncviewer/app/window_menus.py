"""The explorer's actions, menus and iteration bar, built from tables.

Each menu entry is a row (text, shortcut, what it calls); the callables are the window's public
methods or the action modules' functions (sessions, export, help), so the window itself only wires
them up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence, QMouseEvent
from PyQt6.QtWidgets import QLabel, QSlider, QStyle, QStyleOptionSlider, QToolBar

from . import export_actions, help_actions, pin_actions, session_actions, sweep_actions

if TYPE_CHECKING:
    from .main_window import MainWindow

#: Run controls: key → (text, icon, shortcuts, tooltip, window method).
RUN_ACTIONS = {
    "run": ("Run", QStyle.StandardPixmap.SP_MediaPlay, ["Space"], "Run or pause the solver (Space)", "toggle_run"),
    "step": (
        "Step",
        QStyle.StandardPixmap.SP_MediaSkipForward,
        ["S", "Right"],
        "One iteration, then pause (S or →)",
        "step",
    ),
    "reset": (
        "Reset",
        QStyle.StandardPixmap.SP_BrowserReload,
        ["R"],
        "Back to iteration 0 from the same starting points (R)",
        "reset",
    ),
    "stop": ("Stop", QStyle.StandardPixmap.SP_MediaStop, ["Esc"], "End the run here (Esc)", "stop"),
    "random": (
        "New start",
        QStyle.StandardPixmap.SP_ArrowRight,
        ["N"],
        "A new random initialisation (N)",
        "random_start",
    ),
    "pin": (
        "Pin",
        QStyle.StandardPixmap.SP_DialogSaveButton,
        ["P"],
        "Keep the live run for comparison: drawn beside later runs, listed in the runs table (P)",
        "pin_current",
    ),
}

#: Run-menu switches: key → (text, tooltip, window attribute, window setter).
RUN_OPTIONS = {
    "auto-pin": (
        "Pin runs automatically on change",
        "Before a change of method, start or problem settings replaces a run, pin it",
        "auto_pin",
        "set_auto_pin",
    ),
    "restart-schedule": (
        "Mid-run changes restart the schedule",
        "Off: a change during a run continues at the current smoothing level t; on: the schedule starts again at t_max",
        "restart_schedule",
        "set_restart_schedule",
    ),
}


def make_actions(window: MainWindow) -> dict[str, QAction]:
    style = window.style()
    actions = {}
    for key, (text, icon, keys, tip, method) in RUN_ACTIONS.items():
        action = QAction(style.standardIcon(icon), text, window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        window.addAction(action)
        action.triggered.connect(lambda _=False, m=method: getattr(window, m)())
        actions[key] = action
    for key, (text, tip, attribute, setter) in RUN_OPTIONS.items():
        action = QAction(text, window)
        action.setCheckable(True)
        action.setChecked(bool(getattr(window, attribute)))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.toggled.connect(lambda on, m=setter: getattr(window, m)(on))
        actions[key] = action
    restore = QAction("Restore defaults", window)
    restore.setShortcut(QKeySequence("Ctrl+D"))
    restore.setStatusTip("Put back this problem's default settings (or its preset's) and start from iteration 0")
    restore.triggered.connect(lambda _=False: window.restore_defaults())
    actions["restore-defaults"] = restore
    return actions


def file_entries(window: MainWindow) -> tuple:
    """File menu rows: (text, shortcut, slot); None rows are separators."""
    return (
        ("Open session…", "Ctrl+O", lambda: session_actions.open_dialog(window)),
        ("Save session…", "Ctrl+S", lambda: session_actions.save_dialog(window, False)),
        ("Save session with run…", "Ctrl+Shift+S", lambda: session_actions.save_dialog(window, True)),
        None,
        ("Open sweep results…", None, lambda: sweep_actions.open_dialog(window)),
        None,
        ("Export history as CSV…", None, lambda: export_actions.export_dialog(window, "csv")),
        ("Export runs table as CSV…", None, lambda: pin_actions.export_dialog(window)),
        ("Export history as JSON…", None, lambda: export_actions.export_dialog(window, "json")),
        ("Export window as PNG…", "Ctrl+P", lambda: export_actions.export_dialog(window, "png")),
        ("Export main view as PNG…", None, lambda: export_actions.export_dialog(window, "pane-png")),
        ("Export run as GIF/MP4…", None, lambda: export_actions.export_dialog(window, "animation")),
        None,
        ("Quit", "Ctrl+Q", window.close),
    )


def help_entries(window: MainWindow) -> tuple:
    return (
        ("Guided tour…", None, window.open_tour),
        ("About the method…", None, window.open_method_help),
        ("What am I seeing? (all panes)", None, lambda: help_actions.show_all_pane_help(window)),
        None,
        ("About gncviewer", None, lambda: help_actions.about(window)),
    )


def _fill(menu, entries) -> None:
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        text, key, slot = entry
        action = menu.addAction(text)
        if key:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)


def make_menus(window: MainWindow) -> None:
    bar = window.menuBar()
    _fill(bar.addMenu("&File"), file_entries(window))
    run_menu = bar.addMenu("&Run")
    for key in RUN_ACTIONS:
        run_menu.addAction(window.run_actions[key])
    run_menu.addSeparator()
    for key in (*RUN_OPTIONS, "restore-defaults"):
        run_menu.addAction(window.run_actions[key])
    view_menu = bar.addMenu("&View")
    for dock in window.docks.values():
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    view_menu.addAction("Default layout").triggered.connect(window.default_layout)
    _fill(bar.addMenu("&Help"), help_entries(window))


def make_replay_bar(window: MainWindow) -> None:
    """The tool bar: run controls, the iteration slider (replay) and "Live"."""
    bar = QToolBar("Iterations")
    bar.setObjectName("toolbar-replay")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for key in RUN_ACTIONS:
        bar.addAction(window.run_actions[key])
    bar.addSeparator()
    bar.addWidget(QLabel("  iteration "))
    slider = JumpSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 0)
    slider.setToolTip("Replay any stored iterate of this run; drag to the right end to follow the solver")
    slider.setMinimumWidth(400)
    bar.addWidget(slider)
    label = QLabel(" 0 / 0 ")
    label.setMinimumWidth(130)
    bar.addWidget(label)
    live = bar.addAction("Live")
    assert live is not None
    live.setCheckable(True)
    live.setChecked(True)
    live.setToolTip("Follow the newest iterate (End)")
    live.setShortcut(QKeySequence("End"))
    live.triggered.connect(lambda on: window.show_iteration(None) if on else None)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    window.slider, window.slider_label, window.live_action = slider, label, live


class JumpSlider(QSlider):
    """A slider that jumps to where its groove is clicked (a plain QSlider steps by a page, 10 iterations),
    then drags from there."""

    def mousePressEvent(self, ev: QMouseEvent | None) -> None:
        if ev is not None and ev.button() == Qt.MouseButton.LeftButton:
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            style = self.style()
            handle = style.subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(ev.position().toPoint()):
                self.setValue(self.value_at(ev.position().x()))
        super().mousePressEvent(ev)

    def value_at(self, x: Any) -> int:
        """The value under horizontal position ``x`` (widget coordinates)."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self)
        span = max(1, groove.width() - handle.width())
        position = int(x) - groove.x() - handle.width() // 2
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), position, span, option.upsideDown)
