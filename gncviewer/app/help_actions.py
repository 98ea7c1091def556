"""Help: the guided tour, "About the method", every pane's help at once, and "About gncviewer"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QMessageBox

from .. import __version__
from . import help_texts
from .tour import GuidedTour, MethodDialog

if TYPE_CHECKING:
    from .main_window import MainWindow


def open_tour(window: MainWindow) -> GuidedTour:
    """Show the guided tour (one window, reopened where it was); its show-at-start box is persisted."""
    if window.tour is None:
        show = window.settings.show_tour if window.settings is not None else True
        tour = GuidedTour(window, show_at_start=show)
        if window.settings is not None:
            settings = window.settings
            tour.show_at_start.toggled.connect(lambda on: settings.set_show_tour(on))
        window.tour = tour
    window.tour.show()
    window.tour.place()
    window.tour.raise_()
    return window.tour


def tour_at_start(window: MainWindow) -> bool:
    """Open the tour at start? Only when asked for and the window is on the toy problem: the tour is
    about the toy, and must not open over a restored CT session."""
    return window.settings is not None and window.settings.show_tour and window.state.problem == "toy"


def open_method_help(window: MainWindow) -> MethodDialog:
    if window.method_help is None:
        window.method_help = MethodDialog(window)
    window.method_help.show()
    window.method_help.raise_()
    return window.method_help


def show_all_pane_help(window: MainWindow) -> None:
    for pane in window.panes():
        pane.show_help(True)


def about(window: MainWindow) -> None:
    QMessageBox.about(
        window,
        "About gncviewer",
        (
            f"<b>gncviewer {__version__}</b><br>An explorer for score-based graduated optimisation "
            "(Fernsel, Kereta, Denker, arXiv 2404.18699) with annealed Langevin sampling on the same surrogate."
            "<br><br>" + help_texts.CONTROLS
        ),
    )
