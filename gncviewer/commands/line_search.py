"""``gncviewer line-search``: one iteration's step rule, trials and candidate levels, as JSON and PNG.

    gncviewer line-search ct --method gradient-like --at 12 --png ls.png
    gncviewer line-search session run.json --at 30 --json ls.json

The same view as the explorer's line-search pane (``core/line_search_view.py``): f and F(·, t) along
the search direction from x_(k−1), the Armijo line, every trial (accepted or rejected), predicted
versus actual decrease and, for the gradient-like method, the levels t that were tried and why each
was rejected.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_params, write_atomic, write_json
from .inspect_run import check_output, register_sources, select


def register(root: Any) -> None:
    parser = root.add_parser(
        "line-search",
        help="one iteration's line search: trials, Armijo line, candidate levels (JSON, PNG)",
        description="Run a solver (or read a saved run) and show what the step rule of one iteration did: f and "
        "F(., t) along the search direction, the Armijo line, every trial step and the candidate levels.",
    )
    register_sources(parser, "the line search", _options, run)


def _options(parser: argparse.ArgumentParser) -> None:
    from ..core.line_search_view import LineSearchSettings

    add_params(parser, LineSearchSettings.params(), LineSearchSettings().to_dict(), title="curves")
    outputs = parser.add_argument_group("output")
    outputs.add_argument("--json", metavar="PATH", help="write trials, curves and candidate levels as JSON")
    outputs.add_argument("--png", metavar="PATH", help="write a picture of the line search as a PNG")


def run(args: argparse.Namespace) -> int:
    from ..core.line_search_view import LineSearchJob, LineSearchSettings, decrease
    from ..errors import ConfigError
    from .common import given

    json_path = check_output(args.json, "--json", ".json")
    png_path = check_output(args.png, "--png", ".png")
    settings = LineSearchSettings().with_changes(**given(args, LineSearchSettings.params()))
    if args.at == 0:
        raise ConfigError("at", "iteration 0 is the starting point and has no line search; choose --at >= 1")
    selected = select(args, lambda built: None)
    records = selected.records
    if len(records) < 2:
        raise ConfigError("at", "iteration 0 is the starting point and has no line search; choose --at >= 1")
    method = selected.config.method
    view = LineSearchJob(selected.built.problem, records[-2].x, records[-1], settings, method=method).run()
    line = f"iteration {view.iteration} ({method}, t = {view.t:.4g}): {view.explanation}"
    dec = decrease(view.trace) if view.trace is not None else None
    if dec is not None:
        line += f"; decrease predicted {dec.predicted:.4g}, actual {dec.actual:.4g}"
    rejected = [c for c in view.candidates if not c.accepted]
    if rejected:
        line += f"; {len(rejected)} candidate level(s) rejected"
    print(line)
    if json_path is not None:
        write_json(json_path, {**selected.source, "line_search_settings": settings.to_dict(), **view.to_json()})
    if png_path is not None:
        from ..core.slice_plots import line_search_png

        write_atomic(png_path, line_search_png(view, f"{selected.built.info.label} · {method}"))
    return 0
