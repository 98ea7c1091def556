"""``gncviewer gui`` (and ``gncviewer`` alone): open the explorer.

Every flag is checked, and a session file or CT model is read, before a window opens, so a mistake
is one line on stderr and exit code 2.  ``--run-iterations N --screenshot PATH`` runs N iterations,
saves a PNG of the whole window and exits 0: the README's screenshots and the GUI smoke tests are
made that way.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, cast

from ..errors import ConfigError, InputFileError
from .common import add_params, check_writable, choice_type, flag_dest, non_negative_int, positive_float


def _window_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 1600x1000, got {text!r}")
    w, h = int(parts[0]), int(parts[1])
    if not (400 <= w <= 8000 and 300 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"window size must be within 400x300 … 8000x8000, got {text!r}")
    return w, h


def register(root: Any) -> None:
    parser = root.add_parser(
        "gui",
        help="open the explorer (the default without a command)",
        description="Open the explorer on the toy problem or CT. Without --session the last session is restored "
        "(unless --fresh). With --screenshot, run --run-iterations iterations, save a PNG of the "
        "window and exit; a screenshot never reads the last session or the saved layout, so the picture "
        "depends on the flags alone (start from a file with --session FILE).",
    )
    from ..core.config import SolverConfig
    from ..problems import kind_names

    parser.add_argument(
        "--problem",
        type=choice_type(kind_names()),
        default=None,
        help=f"{' | '.join(kind_names())} (default: the last session's, else toy)",
    )
    parser.add_argument("--session", metavar="FILE", help="open this session file")
    parser.add_argument(
        "--preset",
        metavar="NAME",
        default=None,
        help="start the chosen problem from a named set of values (gncviewer solve KIND --preset list)",
    )
    parser.add_argument("--speed", type=positive_float, default=None, help="iterations per second (default: flat out)")
    # Problem flags of every kind, as text: they are validated against the kind chosen (same messages).
    add_params(parser, problem_params().values(), raw=True, title="problem settings (of the chosen --problem)")
    add_params(parser, SolverConfig.params(), raw=True, title="solver")
    from ..core.line_search_view import LineSearchSettings
    from ..core.slices import SliceSettings

    add_params(parser, SliceSettings.params(), raw=True, title="landscape slice pane (see --show-pane slice)")
    add_params(parser, LineSearchSettings.params(), raw=True, title="line-search pane")
    parser.add_argument(
        "--show-pane",
        type=choice_type(SHOWABLE_PANES),
        default=None,
        metavar="{" + ",".join(SHOWABLE_PANES) + "}",
        help="bring this pane to the front (screenshots wait until a slice or line search shown there is done)",
    )
    parser.add_argument(
        "--run-iterations",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="run N iterations once the problem is ready",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="after --run-iterations, save a PNG of the window and exit (ignores the last session: reproducible)",
    )
    parser.add_argument(
        "--window-size", type=_window_size, default=None, metavar="WxH", help="window size (default 1600x1000)"
    )
    parser.add_argument("--fresh", action="store_true", help="ignore the last session and the saved window layout")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=600.0,
        help="screenshot mode: give up after this many seconds (default 600)",
    )
    parser.set_defaults(handler=run)


#: Docks that share a tab group and can be brought to the front from the command line.
SHOWABLE_PANES = ("history", "map", "slice", "line-search")


def pane_settings(args: argparse.Namespace) -> tuple[Any, Any]:
    """The slice and line-search panes' settings from their flags (checked like every declared value)."""
    from ..core.line_search_view import LineSearchSettings
    from ..core.slices import SliceSettings

    out = []
    for settings_type in (SliceSettings, LineSearchSettings):
        settings = settings_type()
        for param in settings_type.params():
            text = getattr(args, flag_dest(param.cli_flag), None)
            if text is not None:
                settings = settings.with_text(param.name, text)
        out.append(settings)
    return out[0], out[1]


def problem_params() -> dict[str, Any]:
    """Every kind's settings and init parameters by flag (one flag may serve several kinds: --alpha)."""
    from ..problems import all_kinds

    out: dict[str, Any] = {}
    for kind in all_kinds():
        for param in kind.params():
            out.setdefault(param.cli_flag, param)
    return out


def build_state(args: argparse.Namespace, base: Any) -> Any:
    """The explorer state from ``base`` (defaults, last session or --session) plus the flags.

    Problem flags are checked against the chosen kind (``--phantom`` is refused on the toy); every value
    goes through ``ExplorerState.apply_text``, so the messages are the explorer's own.
    """
    from ..core.config import SolverConfig
    from ..problems import all_kinds

    state = base
    if args.problem is not None:
        state = state.apply("problem", args.problem)
    if args.preset is not None:
        state = state.apply("preset", args.preset)
    kind = state.kind
    own = {p.cli_flag: p for p in kind.params()}
    for flag in problem_params():
        if flag not in own and getattr(args, flag_dest(flag), None) is not None:
            users = [k.name for k in all_kinds() if any(p.cli_flag == flag for p in k.params())]
            raise ConfigError(
                flag_dest(flag),
                f"applies to problem {' or '.join(users)}, not {kind.name} (choose the problem with --problem)",
            )
    for flag, param in (*own.items(), *((p.cli_flag, p) for p in SolverConfig.params())):
        value = getattr(args, flag_dest(flag), None)
        if value is None:
            continue
        text = (
            "; ".join(value)
            if isinstance(value, list)
            else "true"
            if value is True
            else "false"
            if value is False
            else value
        )
        try:
            state = state.apply_text(param.name, text)
        except ConfigError as err:  # name the flag the user typed (the toy's init is --x0)
            raise ConfigError(flag_dest(flag) if err.field == param.name else err.field, err.detail) from None
    if args.speed is not None:
        state = state.apply("speed", args.speed)
    return state


def run(args: argparse.Namespace) -> int:
    screenshot = check_writable(args.screenshot, "--screenshot")
    if screenshot is not None and screenshot.suffix.lower() != ".png":
        raise ConfigError("screenshot", f"{args.screenshot}: the file name must end in .png")
    # torch (and astra) before any Qt module: torch >= 2.9 fails to load after PyQt on Windows
    # (docs/ARCHITECTURE.md, "Stack facts").
    import astra  # noqa: F401
    import torch

    from ..app import prepare_qt_environment

    prepare_qt_environment()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))  # one core stays free for drawing

    state, session, note = initial_state(args, screenshot)
    state.kind.check_files(state.settings)
    panes = pane_settings(args)
    return _open_window(args, state, session, screenshot, note, panes)


def initial_state(args: argparse.Namespace, screenshot: Any) -> tuple[Any, Any, str | None]:
    """(state, session, note): --session, else the last session (not for screenshots or --fresh), plus flags.

    A last session that cannot be restored is moved aside (``set_aside_last_session``) and the
    explorer starts on its defaults: the note says so once, and the next start does not meet it again.
    """
    from ..app.session import load_session
    from ..app.state import ExplorerState

    session = None
    base = ExplorerState()
    note = None
    if args.session:
        session = load_session(args.session)
        base = session.state
    elif not args.fresh and screenshot is None:
        from ..app.settings import config_dir

        last = config_dir() / "last-session.json"
        if last.is_file():
            try:
                restored = load_session(last).state
                restored.kind.check_files(restored.settings)  # e.g. its CT model was deleted since
                base = restored
            except InputFileError as err:
                note = set_aside_last_session(last, str(err))
                print(f"gncviewer: {note}", file=sys.stderr)
    state = build_state(args, base)
    if session is not None:
        session.state = state
    return state, session, note


def set_aside_last_session(last: Any, reason: str) -> str:
    """Rename an unreadable last session to ``last-session.unreadable-<time>.json`` (kept, never deleted)
    and return the one-line note that says what happened and where the file went."""
    import time
    from pathlib import Path

    last = Path(last)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = last.with_name(f"{last.stem}.unreadable-{stamp}{last.suffix}")
    counter = 1
    while kept.exists():
        counter += 1
        kept = last.with_name(f"{last.stem}.unreadable-{stamp}-{counter}{last.suffix}")
    try:
        last.rename(kept)
    except OSError as err:
        return (
            f"the last session could not be restored ({reason}) nor moved aside ({err.strerror or err}); "
            "starting from defaults"
        )
    return f"the last session could not be restored ({reason}); starting from defaults, the file was kept as {kept}"


def _open_window(
    args: argparse.Namespace, state: Any, session: Any, screenshot: Any, note: str | None, panes: Any = None
) -> int:
    import asyncio

    import pyqtgraph as pg
    import qasync
    from PyQt6.QtWidgets import QApplication

    from ..app.main_window import MainWindow
    from ..app.settings import AppSettings

    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    app.setApplicationName("gncviewer")
    from ..app.icon import APP_ID, app_icon

    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    settings = None if screenshot is not None else AppSettings()
    window = MainWindow(
        state,
        settings=settings,
        persist=screenshot is None,
        dialogs=screenshot is None,
        restore_layout=screenshot is None and not args.fresh,
    )
    if args.window_size:
        window.resize(*args.window_size)
    if panes is not None:
        from ..app import inspect_actions

        inspect_actions.set_slice_settings(window, panes[0])
        window.inspect.line_settings = panes[1]
        window.line_pane.show_settings(panes[1])
    if session is not None and session.run is not None:
        window.apply_session(session)
    status = window.statusBar()
    if note and status is not None:
        status.showMessage(note, 10000)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            code = loop.run_until_complete(_main(app, window, args, screenshot))
    finally:
        window.shutdown()
    if not window.worker.join(0):
        # The solver is inside one long iteration (a command only takes effect between two). Let it
        # finish rather than let the interpreter tear torch down under a running thread.
        print("gncviewer: waiting for the solver to finish its current iteration…", file=sys.stderr)
        if not window.worker.join(30):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return code


async def _until(predicate: Any, timeout: float, what: str) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def _main(app: Any, window: Any, args: argparse.Namespace, screenshot: Any) -> int:
    """The window's life as a coroutine on the qasync loop: optional scripted run and screenshot."""
    import asyncio

    from ..app.export import export_png

    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    window.show()
    if args.show_pane:
        window.docks[args.show_pane].raise_()
    from ..app.help_actions import tour_at_start

    if not args.run_iterations and tour_at_start(window):
        window.open_tour()
    try:
        if args.run_iterations or screenshot is not None:
            await _until(lambda: window.settled(0) or window.errors, args.timeout, "the problem to load")
            if window.errors:
                raise_for(window)
            if args.run_iterations:
                window.step(args.run_iterations)
            await _until(
                lambda: window.settled(args.run_iterations) or window.errors,
                args.timeout,
                f"{args.run_iterations} iterations",
            )
            if window.errors:
                raise_for(window)
        if screenshot is not None:
            from ..app import inspect_actions

            await _until(lambda: inspect_actions.settled(window), args.timeout, "the slice or line search")
            await asyncio.sleep(0.4)  # one more round of repaints for every pane
            export_png(screenshot, window)
            print(f"gncviewer gui: wrote {screenshot} ({window.model.last_iteration} iterations)")
            window.close()
            return 0
    except TimeoutError as err:
        print(f"gncviewer gui: {err}", file=sys.stderr)
        window.close()
        return 1
    await closed.wait()
    return 0


def raise_for(window: Any) -> None:
    """Turn the first error the window reported into the CLI's one-line error (exit 2)."""
    from ..errors import GncViewerError

    title, text = window.errors[0]
    window.close()
    raise GncViewerError(f"{title}: {text}")
