"""The explorer's docks: which exist, where they sit, which a problem kind shows, and their signals.

Kept out of ``main_window.py`` so that adding a pane is a change here and in ``pane_table.py``
(docs/ARCHITECTURE.md, "Adding a pane"); the window only calls these functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QWidget

from . import dock_visibility, inspect_actions, map_actions, pane_table, pin_actions

if TYPE_CHECKING:
    from .main_window import MainWindow


def _dock(window: MainWindow, title: str, widget: QWidget, name: str) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    if hasattr(widget, "help_text"):
        dock.setToolTip(widget.help_text)
    return dock


def make_docks(window: MainWindow) -> None:
    """One dock per pane (object names are what the saved window state refers to)."""
    w = window
    w.setDockNestingEnabled(True)
    w.docks = {
        "controls": _dock(w, "Controls", w.controls, "dock-controls"),
        "landscape": _dock(w, "Energy landscape F(·, t)", w.landscape, "dock-landscape"),
        "ct": _dock(w, "CT reconstruction", w.ct_view, "dock-ct"),
        "data": _dock(w, "Data space: sinogram and residual", w.data_space, "dock-data"),
        "noise": _dock(w, "Noise level t", w.noise, "dock-noise"),
        "history": _dock(w, "Descent and step-size history", w.history, "dock-history"),
        "map": _dock(w, "Convergence map (toy)", w.map_pane, "dock-map"),
        "slice": _dock(w, "Landscape slice F(x_k + a u + b v, t)", w.slice_pane, "dock-slice"),
        "line-search": _dock(w, "Line search (shown iteration)", w.line_pane, "dock-line-search"),
        "runs": _dock(w, "Runs", w.runs_table, "dock-runs"),
        "sampling": _dock(w, "Sampling (predictor–corrector)", w.sampling, "dock-sampling"),
    }
    dock_visibility.track(w)
    arrange(w)


def arrange(window: MainWindow) -> None:
    """Controls | main view (data space under it) | noise level over history (other panes as its tabs),
    the runs table along the bottom."""
    w = window
    d = w.docks
    w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["controls"])
    w.splitDockWidget(d["controls"], d["landscape"], Qt.Orientation.Horizontal)
    # The main views sit beside each other, not in tabs: only one is ever shown, and a tab group with
    # hidden members leaves a stray tab bar behind.
    w.splitDockWidget(d["landscape"], d["ct"], Qt.Orientation.Horizontal)
    w.splitDockWidget(d["ct"], d["noise"], Qt.Orientation.Horizontal)
    # Data space under the image view: the iterate and what it predicts are seen together.
    w.splitDockWidget(d["ct"], d["data"], Qt.Orientation.Vertical)
    w.splitDockWidget(d["noise"], d["history"], Qt.Orientation.Vertical)
    w.tabifyDockWidget(d["history"], d["map"])
    w.tabifyDockWidget(d["history"], d["slice"])
    w.tabifyDockWidget(d["history"], d["line-search"])
    # The runs table along the bottom, under every pane: comparing runs means reading it beside the plots,
    # and its many columns want the whole width.
    w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, d["runs"])
    w.tabifyDockWidget(d["map"], d["sampling"])
    for dock in d.values():
        dock.show()
    show_problem_panes(w)
    w.resizeDocks([d["controls"], d[w.main_dock_key()], d["noise"]], [340, 720, 540], Qt.Orientation.Horizontal)
    w.resizeDocks([d["noise"], d["history"]], [300, 640], Qt.Orientation.Vertical)
    w.resizeDocks([d["runs"]], [200], Qt.Orientation.Vertical)


def default_layout(window: MainWindow) -> None:
    """Put every dock back where ``arrange`` puts it (View → Default layout)."""
    for dock in window.docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    arrange(window)


def show_problem_panes(window: MainWindow) -> None:
    """Show the current kind's main pane and extra docks, hide those of the other kinds."""
    w = window
    kind = w.state.problem
    main_key = w.main_dock_key()
    data_shape = w.info.data_shape if w.info is not None and w.info.kind == kind else ()
    wanted = {main_key, *pane_table.extra_docks(kind, data_shape)}
    for key in pane_table.kind_docks():
        w.docks[key].setVisible(key in wanted)
    main = w.docks[main_key]
    if not main.isFloating():
        # The main view had no width while hidden: give it the room the other one had.
        w.resizeDocks([main], [max(main.width(), w.width() - 340 - 560)], Qt.Orientation.Horizontal)
    w.docks["history"].raise_()
    w.history.set_metric(w.state.kind.metrics[0] if w.state.kind.metrics else None)
    w.pin_overlay = []
    pin_actions.refresh(w)


def connect_panes(window: MainWindow) -> None:
    """The panes' signals to the window's commands and the action modules."""
    w = window
    w.controls.edited.connect(w.edit)
    w.controls.random_start.connect(w.random_start)
    w.landscape.start_clicked.connect(w._start_clicked)
    w.landscape.view_changed.connect(lambda bounds: w._set_landscape_view(bounds=bounds))
    w.landscape.directions_toggled.connect(lambda on: w._set_landscape_view(directions=on))
    w.history.trajectory_box.valueChanged.connect(lambda _: w.redraw.refresh())
    w.map_pane.compute_requested.connect(w.compute_map)
    w.map_pane.cancel_requested.connect(w.map_worker_cancel)
    w.map_pane.load_requested.connect(lambda changes, start: map_actions.load_cell(w, changes, start))
    w.slider.valueChanged.connect(w._slider_moved)
    inspect_actions.connect(w)
    w.data_space.wanted.connect(w._data_space_wanted)
    table = w.runs_table
    table.pin_requested.connect(w.pin_current)
    table.unpin_requested.connect(lambda keys: pin_actions.unpin(w, keys))
    table.clear_requested.connect(lambda: pin_actions.clear(w))
    table.export_requested.connect(lambda: pin_actions.export_dialog(w))
    table.selection_changed.connect(lambda keys: pin_actions.selection_changed(w, keys))
    table.auto_pin_toggled.connect(w.set_auto_pin)
    table.overlay_toggled.connect(w.set_show_pinned)
