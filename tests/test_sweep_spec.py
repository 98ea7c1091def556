"""Sweep specs: axes over declared parameters, sampling, cell keys, and bad specs refused by line and field."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from gncviewer.cli import main
from gncviewer.sweep.spec import SpecError, cell_key, key_lines, parse_spec

TOY = """\
problem = "toy"
method = ["gnc-flow", "gradient-like"]

[solver]
iterations = 40

[axes]
t_max = { log = [0.1, 10], count = 3 }
init = ["-5, 5", "8, -3"]
"""


def spec_error(text: str, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "s.toml").cells(**kwargs)
    return caught.value


def test_grid_cells_in_axis_order_with_the_solve_command() -> None:
    spec = parse_spec(TOY, "s.toml")
    cells = spec.cells()
    assert spec.axis_names == ("method", "t_max", "init")
    assert len(cells) == 12 == spec.cell_count()
    assert [c.axes["t_max"] for c in cells[:6]] == [0.1, 0.1, 1.0, 1.0, 10.0, 10.0]
    first = cells[0]
    assert first.config["method"] == "gnc-flow" and first.config["iterations"] == 40 and first.init == "-5, 5"
    assert first.given == ("iterations", "method", "t_max")
    assert shlex.split(first.command) == [
        "gncviewer", "solve", "toy", "--x0", "-5, 5", "--method", "gnc-flow", "--iterations", "40", "--t-max", "0.1"
    ]  # fmt: skip
    assert len({c.key for c in cells}) == 12


def test_keys_cover_every_value_and_nothing_else() -> None:
    base = ("toy", {"alpha": 0.05, "t_min": 1e-3}, {"method": "gnc-flow", "t_max": 1.0}, "-5, 5", ("t_max",))
    key = cell_key(*base)
    assert key == cell_key(*base)
    assert key != cell_key(
        "toy", {"alpha": 0.05, "t_min": 1e-3}, {"method": "gnc-flow", "t_max": 1.0 + 1e-15}, "-5, 5", ("t_max",)
    )
    assert key != cell_key("toy", base[1], base[2], "-5, 5", ())


def test_ranges_lists_formats_and_presets() -> None:
    spec = parse_spec(
        """
problem = "ct"
[settings]
size = 16
angles = 8
[solver]
iterations = 3
[axes]
phantom = { format = "ellipses:{}", count = 3 }
descent_c = { range = [0.1, 0.3], count = 3 }
""",
        "s.toml",
    )
    assert spec.axes[0].values == ("ellipses:0", "ellipses:1", "ellipses:2")
    assert spec.axes[1].values == (0.1, 0.2, 0.3)
    toy = parse_spec(
        'problem = "toy"\npreset = "paper-gnc-flow"\n[axes]\niterations = { log = [10, 1000], count = 3 }\n'
    )
    cells = toy.cells()
    assert [c.config["iterations"] for c in cells] == [10, 100, 1000]
    assert all(c.config["method"] == "gnc-flow" and c.preset == "paper-gnc-flow" for c in cells)
    assert cells[0].command.startswith("gncviewer solve toy --preset paper-gnc-flow --iterations 10")


def test_random_sampling_is_seeded_and_inside_the_ranges() -> None:
    text = """
problem = "toy"
[axes]
t_max = { log = [0.1, 10] }
alpha = { range = [0.01, 0.1] }
method = ["gnc-flow", "gradient-like"]
[sampling]
mode = "random"
samples = 20
seed = 3
"""
    a, b = parse_spec(text).cells(), parse_spec(text).cells()
    assert [c.key for c in a] == [c.key for c in b] and len(a) == 20
    assert all(0.1 <= c.config["t_max"] <= 10 and 0.01 <= c.settings["alpha"] <= 0.1 for c in a)
    other = parse_spec(text.replace("seed = 3", "seed = 4")).cells()
    assert [c.key for c in other] != [c.key for c in a]


def test_key_lines_finds_tables_keys_and_dotted_keys() -> None:
    lines = key_lines('a = 1\n[axes]\n# note\nt_max = [1]\n"alpha" = [2]\n[solver]\nx.y = 3\n')
    assert lines[("a",)] == 1 and lines[("axes",)] == 2 and lines[("axes", "t_max")] == 4
    assert lines[("axes", "alpha")] == 5 and lines[("solver", "x", "y")] == 7


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        # unknown parameter, with a suggestion
        (
            TOY.replace("t_max = {", "t_maks = {"),
            8,
            "axes.t_maks",
            "unknown parameter 't_maks' for toy (did you mean t_max?)",
        ),
        # a value outside the declared range: the declaration's own message
        (TOY.replace("iterations = 40", "iterations = 0"), 5, "solver.iterations", "must be an integer between 1 and"),
        (TOY + "alpha = [0.05, -1]\n", 10, "axes.alpha", "must be a number > 0 and <= 1000 (got -1)"),
        (TOY.replace("log = [0.1, 10]", "log = [0.1, 5000]"), 8, "axes.t_max.log", "(got 5000)"),
        # a wrong type
        (TOY.replace("iterations = 40", 'iterations = "forty"'), 5, "solver.iterations", "(got 'forty')"),
        (TOY.replace('method = ["gnc-flow", "gradient-like"]', "method = 3"), 2, "method", "must be one of"),
        # an empty axis
        (TOY.replace('init = ["-5, 5", "8, -3"]', "init = []"), 9, "axes.init", "empty axis"),
        # a setting in the wrong table, a key twice, a cell the kind refuses
        (TOY.replace("iterations = 40", "alpha = 0.1"), 5, "solver.alpha", "put it under [settings]"),
        (TOY + "iterations = [1, 2]\n", 10, "axes.iterations", "given twice (also as solver.iterations, line 5)"),
        (TOY + "[settings]\nt_min = 0.5\n", 8, "axes.t_max", "cell 0 (method = gnc-flow, t_max = 0.1, init = -5, 5)"),
        (TOY.replace("[axes]", "[axes]\ngrid = 3"), 8, "axes.grid", "unknown parameter"),
        (TOY.replace("[solver]", "[solvr]"), 4, "solvr", "unknown key"),
        (TOY.replace("count = 3 }", "count = 3, step = 2 }"), 8, "axes.t_max.step", "unknown key of an axis"),
        ('problem = "mri"\n', 1, "problem", "must be one of toy, ct"),
        (TOY.replace("iterations = 40", "iterations = 40 40"), 5, "TOML", "line 5"),
    ],
)
def test_bad_specs_name_the_line_and_field(text: str, line: int, field: str, words: str) -> None:
    err = spec_error(text)
    assert (err.line, err.field) == (line, field), str(err)
    assert words in str(err) and str(err).startswith(f"s.toml:{line}: {field}: ")


def test_too_many_cells_are_refused_before_expansion() -> None:
    err = spec_error(TOY, max_cells=10)
    assert (err.line, err.field) == (7, "axes") and "makes 12 cells, more than --max-cells 10" in str(err)


def test_missing_files_are_refused_with_the_field(tmp_path: Path) -> None:
    text = (
        f'problem = "ct"\n[settings]\nsize = 16\nmodel = "{tmp_path / "missing.safetensors"}"\n[axes]\nalpha = [1, 2]\n'
    )
    err = spec_error(text)
    assert err.field == "settings.model" and err.line == 4 and "missing.safetensors" in str(err)


def test_cli_refuses_a_bad_spec_in_one_line_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(TOY.replace("iterations = 40", "iterations = -3"))
    assert main(["sweep", str(spec), "--serial"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"gncviewer sweep: error: {spec}:5: solver.iterations: must be an integer between 1 and 1000000 (got -3)"
    )
    assert not (tmp_path / "bad.parquet").exists()
    spec.write_text(TOY)
    assert main(["sweep", str(spec), "--serial", "--max-cells", "5"]) == 2
    assert "more than --max-cells 5" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert "no such sweep spec" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--scheduler", "not an address"]) == 2
    assert "--scheduler 'not an address': expected an address like tcp://HOST:8786" in capsys.readouterr().err


def test_dry_run_prints_cells_and_an_estimate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "toy.toml"
    spec.write_text(TOY)
    assert main(["sweep", str(spec), "--dry-run", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "12 cells of toy (method, t_max, init)" in out and "12 to run" in out
    assert out.count("to run") == 13  # the summary line and one per cell
    assert "gradient-like     10  8, -3  to run" in out
    assert "estimate: " in out and "10-iteration trial of cell 0" in out
    assert not (tmp_path / "toy.parquet").exists()
