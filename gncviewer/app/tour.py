"""The first-run guided tour and the "About the method" window.

The tour walks a student through one GNC run on the toy problem.  Each page explains one idea and
offers one button that makes the window demonstrate it (set up the run, descend part of the way,
finish, compare with plain descent: the GNC run is pinned, so both trajectories are on one
landscape), so the explanation and the picture never drift apart.  The pages drive the window only
through its public methods, like a user would.

The tour is a non-modal tool window over the controls dock, which no page describes, so it never
covers the pane a page talks about; the student can still click, pan and change fields while it is
open.  It is shown at start (on the toy problem) until "Show this tour when gncviewer starts" is
unticked, and can always be reopened from Help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, cast

from PyQt6.QtCore import QRect, Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.toy import toy_defaults
from . import help_texts
from .state import ExplorerState


class TourHost(Protocol):
    """What the tour drives: the window's state and its run commands (as a user would)."""

    state: ExplorerState

    def load_state(self, new: ExplorerState) -> None: ...

    def step(self, count: int = 1) -> None: ...

    def run(self) -> None: ...

    def pin_current(self) -> object: ...


#: Iterations per second during the tour (one of the speed box's choices): 13 s for the whole run.
TOUR_SPEED = 100.0
#: Where the tour starts: right next to the local minimum near (−6.7, 3.7), far from the global one.
TOUR_START = (-5.0, 5.0)
#: The first part of the run, shown before the rest: t falls from 1 to about 0.5.
FIRST_PART = 650


def tour_state(window: TourHost, method: str = "gnc-flow") -> ExplorerState:
    """The paper's toy setting with ``method`` from the tour's start, at the tour's speed."""
    state = replace(window.state, speed=TOUR_SPEED).apply("problem", "toy")
    return state.with_config(toy_defaults(method=method, t_max=1.0)).apply("init", f"{TOUR_START[0]}, {TOUR_START[1]}")


def _set_up(window: TourHost) -> None:
    window.load_state(tour_state(window))


def _ensure_set_up(window: TourHost) -> None:
    """A student may skip the first page or change the problem meanwhile: set the run up again then."""
    if window.state.problem != "toy" or window.state.config.method != "gnc-flow":
        _set_up(window)


def _first_part(window: TourHost) -> None:
    _ensure_set_up(window)
    window.step(FIRST_PART)


def _finish(window: TourHost) -> None:
    _ensure_set_up(window)
    window.run()


def _compare_descent(window: TourHost) -> None:
    """Pin the GNC run (its ghost stays on the landscape), then run descent from the same start."""
    window.pin_current()
    window.load_state(tour_state(window, "descent"))
    window.run()


@dataclass(frozen=True)
class TourPage:
    """One page; ``panes`` are the docks it talks about (the tour must not cover them)."""

    title: str
    text: str
    action_label: str | None = None
    action: Callable[[TourHost], None] | None = None
    panes: tuple[str, ...] = ("landscape",)


PAGES: tuple[TourPage, ...] = (
    TourPage(
        "A problem with a trap",
        "<p>The colours show the objective of a tiny inverse problem: find <i>x</i> in the plane from "
        "<i>y = Ax</i>, where <i>A</i> only sees <i>x₁ + x₂</i> (every point on the dashed line fits the data "
        "equally well). A Gaussian-mixture prior decides where on the line to stop.</p>"
        "<p>The <b>star</b> is the global minimum, the <b>triangles</b> are local minima. The tour starts at the "
        "<b>square</b> (−5, 5), right next to a local minimum: plain gradient descent from there gets stuck.</p>",
        "Set up the tour's run",
        _set_up,
    ),
    TourPage(
        "What t is",
        "<p>gncviewer does not minimise the real objective <i>f</i> directly. It minimises a family of "
        "surrogates <i>F(x, t)</i>, where the prior has been <b>blurred by noise of level t</b>: the prior of a "
        "score-based generative model after diffusing for a time <i>t</i>.</p>"
        "<p>At the smallest level <i>t</i><sub>min</sub> = 0.001, <i>F</i> is the real objective. At "
        "<i>t</i> = 1 — what the landscape shows now — the five mixture bumps are blurred into one broad valley. "
        "The <b>Noise level</b> pane shows the schedule: <i>t</i> falls from <i>t</i><sub>max</sub> to "
        "<i>t</i><sub>min</sub>, one grid level per iteration.</p>",
        panes=("landscape", "noise"),
    ),
    TourPage(
        "Why the landscape flattens",
        "<p>Diffusing a Gaussian mixture adds the noise variance to every component: each bump gets wider by "
        "the same amount, so neighbouring bumps merge and the dips between them — the local minima — "
        "disappear. Large <i>t</i> means a smooth, almost convex problem.</p>"
        "<p>Press the button: the solver runs the first half of the schedule. Watch the valley sharpen as "
        "<i>t</i> falls, and the iterate slide along it towards the middle.</p>",
        "Run the first half",
        _first_part,
    ),
    TourPage(
        "Following the valley down",
        "<p>The GNC flow takes one step <i>x ← x − λ t ∇F(x, t)</i> per level, so the iterate tracks the "
        "minimum of the current surrogate as that minimum moves. In the <b>history</b> pane, cos∠(d, −∇f) is "
        "below zero early on: the step descends the blurred <i>F</i>, even uphill on the real <i>f</i> — "
        "that is what lets it leave the trap.</p>"
        "<p>Press the button to finish the run.</p>",
        "Finish the run",
        _finish,
        panes=("landscape", "history"),
    ),
    TourPage(
        "Why it escaped",
        "<p>By the time <i>t</i> is small enough for the local minima to reappear, the iterate is already in the "
        "global minimum's valley: the start (−5, 5) lies in a local minimum's basin of <i>f</i>, but not in any "
        "trap of the blurred problems that decided the way. The distance to the global minimum (history, "
        "bottom right) ends near zero.</p>"
        "<p>Compare with plain gradient descent on <i>f</i> from the same start: the button <b>pins</b> the GNC "
        "run — it stays on the landscape as a dashed ghost and in the <b>Runs</b> table — and runs descent.</p>",
        "Compare: plain descent",
        _compare_descent,
        panes=("landscape", "history", "runs"),
    ),
    TourPage(
        "Your turn",
        "<p>Descent stops in the local minimum next to the start, while the pinned GNC run's ghost goes on to the "
        "star; the Runs table says how each ended. Now experiment:</p><ul>"
        "<li>set <b>t_max</b> to 0.1 (too little blurring) or 10 (too much for 1300 iterations);</li>"
        "<li>switch the <b>method</b> to gradient-like: it only takes steps that decrease <i>f</i> — safer, "
        "but far more conservative;</li>"
        "<li><b>click</b> the landscape to start elsewhere, <b>shift-click</b> to add starting points;</li>"
        "<li>press <b>Pin</b> (P) to keep a run before trying the next, and select rows of the Runs table to "
        "overlay only those;</li>"
        "<li>open the <b>Convergence map</b> tab for the paper's whole experiment (the presets there run the "
        "authors' code's exact rules).</li></ul>"
        "<p>Help → About the method explains both algorithms; every pane's <b>?</b> button says what it shows.</p>",
        panes=("landscape", "runs"),
    ),
)


class GuidedTour(QDialog):
    """Pages with Back/Next, one demonstration button per page and the show-at-start choice."""

    def __init__(self, window: QWidget, show_at_start: bool = True) -> None:
        super().__init__(window, Qt.WindowType.Tool)
        self.setObjectName("guided-tour")
        self.setWindowTitle("Guided tour — one GNC run")
        self.window_ = cast(TourHost, window)
        self.index = 0
        self.setMinimumWidth(300)
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 15px; font-weight: bold; color: #9fc3e8;")
        self.body = QTextBrowser()
        self.body.setOpenExternalLinks(False)
        self.body.setMinimumHeight(220)
        self.action_button = QPushButton()
        self.action_button.clicked.connect(self.do_action)
        self.show_at_start = QCheckBox("Show this tour when gncviewer starts")
        self.show_at_start.setChecked(show_at_start)
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next")
        self.back_button.clicked.connect(lambda: self.go(self.index - 1))
        self.next_button.clicked.connect(lambda: self.go(self.index + 1))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        self.page_label = QLabel()
        nav = QHBoxLayout()
        nav.addWidget(self.page_label)
        nav.addStretch(1)
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button)
        nav.addWidget(close)
        layout.addWidget(self.heading)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.show_at_start)
        layout.addLayout(nav)
        self.go(0)

    @property
    def page(self) -> TourPage:
        return PAGES[self.index]

    def go(self, index: int) -> None:
        self.index = max(0, min(len(PAGES) - 1, index))
        page = self.page
        self.heading.setText(page.title)
        self.body.setHtml(page.text)
        self.action_button.setVisible(page.action is not None)
        self.action_button.setText(page.action_label or "")
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(PAGES) - 1)
        self.page_label.setText(f"{self.index + 1} / {len(PAGES)}")
        # Not placed again here: pages differ in height, and a dialog resized per page moved its Next
        # button from under the mouse of someone clicking through (placed once when opened).

    def place(self) -> None:
        """Sit over the controls dock (no page describes it), or else the window's bottom-left corner."""
        host = self.parentWidget()
        docks = getattr(host, "docks", {})
        controls = docks.get("controls")
        if host is None:
            return
        if controls is not None and controls.isVisible() and not controls.isFloating():
            area = QRect(controls.mapToGlobal(controls.rect().topLeft()), controls.size())
        else:
            frame = host.geometry()
            area = QRect(frame.x(), frame.y() + frame.height() // 2, 340, frame.height() // 2)
        width = max(self.minimumWidth(), min(area.width(), 460))
        height = min(max(self.sizeHint().height(), 380), area.height())
        self.setGeometry(area.x(), area.y() + area.height() - height, width, height)

    def do_action(self) -> None:
        if self.page.action is not None:
            self.page.action(self.window_)


class MethodDialog(QDialog):
    """Help → About the method: both algorithms, annealed Langevin on the surrogate, the two problems, the papers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about-method")
        self.setWindowTitle("About the method")
        self.resize(640, 620)
        layout = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setHtml(help_texts.ABOUT_METHOD)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
