"""The guided tour drives a real GNC run (escape from the local minimum) and the comparison with descent."""

from __future__ import annotations

from gncviewer.app.settings import AppSettings
from gncviewer.app.tour import FIRST_PART, PAGES, TOUR_SPEED, TOUR_START
from gncviewer.problems.toy import parse_points

from .support import WAIT_MS


def _page(tour, title_start: str) -> None:
    tour.go(next(i for i, p in enumerate(PAGES) if p.title.startswith(title_start)))


def test_tour_demonstrates_the_escape_and_descent_gets_stuck(make_window, toy_state, qtbot) -> None:
    window = make_window(toy_state)
    tour = window.open_tour()
    assert tour.isVisible() and tour.index == 0 and not tour.back_button.isEnabled()
    tour.do_action()  # set up: GNC flow from (−5, 5), paper settings, watchable speed
    assert window.state.config.method == "gnc-flow" and window.state.config.iterations == 1300
    assert parse_points(window.state.init) == (TOUR_START,) and window.state.speed == TOUR_SPEED
    assert window.controls.speed.currentText() == "100 it/s"
    window.edit("speed", None)  # the test need not watch
    _page(tour, "Why the landscape")
    tour.do_action()
    qtbot.waitUntil(lambda: window.run_state == "paused" and window.model.last_iteration == FIRST_PART, timeout=WAIT_MS)
    halfway = window.model.trajectories[0].at(FIRST_PART)
    assert 0.3 < halfway.t < 0.7
    _page(tour, "Following")
    tour.do_action()
    qtbot.waitUntil(lambda: window.run_state == "finished", timeout=WAIT_MS)
    final = window.model.trajectories[0].at(window.model.last_iteration)
    assert final.metrics["distance_to_global_min"] < 1e-2
    _page(tour, "Why it escaped")
    gnc_run = window.model.run_id
    tour.do_action()
    qtbot.waitUntil(
        lambda: window.model.run_id != gnc_run and window.run_state == "finished" and window.model.last_iteration > 0,
        timeout=WAIT_MS,
    )
    assert window.state.config.method == "descent"
    stuck = window.model.trajectories[0].at(window.model.last_iteration)
    assert stuck.metrics["distance_to_global_min"] > 5.0  # the local minimum near (−6.7, 3.7)
    tour.go(len(PAGES) - 1)
    assert not tour.next_button.isEnabled() and not tour.action_button.isVisible()


def test_paging_keeps_the_buttons_in_place(make_window, toy_state, qtbot) -> None:
    """Someone clicking Next through the tour must find it under the mouse on every page."""
    window = make_window(toy_state)
    window.resize(1600, 1000)  # room for the tallest page: each page then wanted its own height
    qtbot.wait(10)
    tour = window.open_tour()
    qtbot.waitExposed(tour)
    # Large text, as on a lecture projector or a desktop with big fonts: pages then want more than the
    # dialog's 380 px minimum, and those with an action button want more than those without.
    tour.setStyleSheet("font-size: 22pt;")
    tour.place()
    where = tour.next_button.mapToGlobal(tour.next_button.rect().center())
    geometry = tour.geometry()
    for index in range(1, len(PAGES)):
        tour.go(index)
        qtbot.wait(1)
        assert tour.geometry() == geometry, PAGES[index].title
        assert tour.next_button.mapToGlobal(tour.next_button.rect().center()) == where, PAGES[index].title


def test_show_at_start_choice_persists_and_help_explains_both_papers(make_window, toy_state, tmp_path) -> None:
    settings = AppSettings(tmp_path / "cfg")
    assert settings.show_tour
    window = make_window(toy_state, settings=settings)
    tour = window.open_tour()
    assert window.open_tour() is tour  # one tour window, reopened
    tour.show_at_start.setChecked(False)
    assert not AppSettings(tmp_path / "cfg").show_tour
    text = window.open_method_help().text.toPlainText()
    for needed in ("2404.18699", "2305.14164", "Algorithm 1", "Algorithm 2", "Armijo"):
        assert needed in text
    titles = [a.text() for a in window.menuBar().actions()[-1].menu().actions()]
    assert "Guided tour…" in titles and "About the method…" in titles
