#!/usr/bin/env bash
# Build gncviewer's sdist and wheel, install the wheel into a fresh virtual environment outside the source
# tree, and smoke-test the installed commands there: what `pip install gncviewer-*.whl` (or pipx) gives a user.
#
#   packaging/wheel-smoke-test.sh            # from a checkout; CI runs it (.ci/run)
#   KEEP=1 packaging/wheel-smoke-test.sh     # keep the temporary folder (venv, dist/, outputs) for a look
#
# Environment: PYTHON (default python3), TORCH_SPEC (default torch==2.13.0, as in the Makefile: installed
# first, so the wheel's "torch>=2.4" is already met and pip does not pull several GB of CUDA packages;
# GPU users install the CUDA build first instead, see README), KEEP=1.
#
# Checks: the wheel carries the prior and the icons as gncviewer/resources and the sdist carries resources/
# (the wheel is built from the sdist, so both are exercised); the installed package finds them through
# importlib.resources with no source tree and no GNCVIEWER_RESOURCES; then --version, solve toy, solve ct
# --iterations 2 (shipped prior, ASTRA), train (2 steps), and gui --run-iterations 2 --screenshot (offscreen)
# all succeed, and their outputs have the usual file mode.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"

say() { printf '\n==> %s\n' "$*"; }
fail() { printf 'wheel-smoke-test.sh: FAILED: %s\n' "$*" >&2; exit 1; }
seconds() { date +%s; }

WORK="$(mktemp -d -t gncviewer-wheel.XXXXXX)"
case "$WORK" in "$ROOT"/*) fail "temporary folder $WORK lies inside the source tree";; esac
if [ "${KEEP:-0}" = "1" ]; then
    trap 'echo "kept $WORK"' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
start=$(seconds)

# -- build: sdist, then the wheel from the sdist --------------------------------------------------
say "fresh virtual environment in $WORK/venv"
"$PYTHON" -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
"$PY" -m pip install --quiet --upgrade pip build
say "python -m build (sdist, then the wheel from it)"
build_start=$(seconds)
# A copy without the git-ignored files of the checkout (.venv, build/, dist/): what a clone would hold.
mkdir "$WORK/source"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$WORK/source")
else
    cp -r "$ROOT"/. "$WORK/source"
fi
"$PY" -m build --outdir "$WORK/dist" "$WORK/source" >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; fail "build"; }
build_seconds=$(( $(seconds) - build_start ))
WHEEL="$(ls "$WORK"/dist/gncviewer-*.whl)"
SDIST="$(ls "$WORK"/dist/gncviewer-*.tar.gz)"
"$PY" - "$WHEEL" "$SDIST" <<'EOF'
import sys, tarfile, zipfile
wheel, sdist = sys.argv[1], sys.argv[2]
names = set(zipfile.ZipFile(wheel).namelist())
needed = ["gncviewer/resources/models/gradopt-ellipses64.safetensors", "gncviewer/resources/models/gradopt-ellipses64.json",
          "gncviewer/resources/icons/hicolor/scalable/apps/io.github.gncviewer.GncViewer.svg",
          "gncviewer/resources/icons/hicolor/256x256/apps/io.github.gncviewer.GncViewer.png",
          "gncviewer/cli.py", "gncviewer/app/main_window.py"]
missing = [n for n in needed if n not in names]
assert not missing, f"missing from the wheel: {missing}"
stray = [n for n in names if n.startswith(("tests/", "resources/", "benchmarks/"))]
assert not stray, f"outside the package in the wheel: {stray[:5]}"
with tarfile.open(sdist) as tar:
    members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
for n in ("resources/models/gradopt-ellipses64.safetensors", "setup.py", "pyproject.toml", "README.md"):
    assert n in members, f"missing from the sdist: {n}"
print(f"ok: wheel carries the prior and the icons ({len(names)} files); sdist carries resources/")
EOF

# -- install: torch first (CPU build), then the wheel with its dependencies ------------------------
say "pip install $TORCH_SPEC, then the wheel"
install_start=$(seconds)
"$PY" -m pip install --quiet "$TORCH_SPEC"
"$PY" -m pip install --quiet "$WHEEL"
install_seconds=$(( $(seconds) - install_start ))
BIN="$WORK/venv/bin"
[ -x "$BIN/gncviewer" ] || fail "no gncviewer console script in the venv"

# -- smoke tests, from a folder outside the source tree, with nothing pointing back at it ----------
SMOKE="$WORK/smoke"
mkdir -p "$SMOKE"
run() {
    (cd "$SMOKE" && env -u PYTHONPATH -u GNCVIEWER_RESOURCES GNCVIEWER_CONFIG_DIR="$SMOKE/config" \
        GNCVIEWER_CACHE_DIR="$SMOKE/cache" GNCVIEWER_NO_COMPILE=1 QT_QPA_PLATFORM=offscreen "$@")
}
say "smoke tests in $SMOKE"
smoke_start=$(seconds)
run "$BIN/python" - "$WORK/venv" <<'EOF'
import sys
from pathlib import Path
import gncviewer
from gncviewer.core.files import resources_root
from gncviewer.core.energy_prior import default_model_path
venv = Path(sys.argv[1]).resolve()
root = resources_root().resolve()
assert venv in Path(gncviewer.__file__).resolve().parents, f"gncviewer imported from {gncviewer.__file__}"
assert venv in root.parents and root.parts[-2:] == ("gncviewer", "resources"), f"resources found at {root}"
assert default_model_path(64).is_file()
print(f"ok: the installed package finds its resources at {root}")
EOF

version=$(run "$BIN/gncviewer" --version)
expected="gncviewer $(cd "$ROOT" && "$PYTHON" -c 'import re; print(re.search(r"__version__ = \"([^\"]+)\"", open("gncviewer/__init__.py").read()).group(1))')"
[ "$version" = "$expected" ] || fail "--version said '$version', expected '$expected'"
echo "ok: --version -> $version"

run "$BIN/gncviewer" solve toy --method gnc-flow --t-max 1 --x0 -5,5 --json "$SMOKE/toy.json"
run "$BIN/python" - "$SMOKE/toy.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["final"]["distance_to_global_min"] < 0.01, d["final"]
print(f"ok: solve toy -> x = {d['final']['x']}")
EOF

run "$BIN/gncviewer" solve ct --method gradient-like --iterations 2 --json "$SMOKE/ct.json" --png "$SMOKE/ct.png"
run "$BIN/python" - "$SMOKE/ct.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["iterations_run"] == 2, d.get("iterations_run")
assert "gncviewer/resources/models/gradopt-ellipses64.safetensors" in d["model"], d["model"]
print(f"ok: solve ct --iterations 2 (shipped prior from the wheel, ASTRA) -> PSNR {d['final']['psnr']:.2f} dB")
EOF

run "$BIN/gncviewer" train --size 16 --steps 2 --batch 2 --device cpu --out "$SMOKE/train" >/dev/null
# The model is named after the training phantom family (gradopt-ellipses16 today); any one pair will do.
model=$(find "$SMOKE/train" -maxdepth 1 -name '*16.safetensors' -size +0 | head -n 1)
[ -n "$model" ] && [ -s "${model%.safetensors}.json" ] || fail "train wrote no model (.safetensors + .json) in $SMOKE/train"
echo "ok: train --size 16 --steps 2 -> $(ls "$SMOKE/train" | tr '\n' ' ')"

png="$SMOKE/gui-ct.png"
run "$BIN/gncviewer" gui --fresh --problem ct --run-iterations 2 --screenshot "$png" 2>&1 \
    | grep -v 'does not support propagateSizeHints' || true
[ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "gui wrote no PNG"
echo "ok: gui --problem ct --run-iterations 2 --screenshot -> $(stat -c %s "$png") bytes"

# One writer for all outputs: the screenshot has the mode of the CLI's JSON and PNG.
modes=$(stat -c %a "$SMOKE/toy.json" "$SMOKE/ct.png" "$png" | sort -u)
[ "$(echo "$modes" | wc -l)" = "1" ] || fail "outputs have different file modes: $modes"
echo "ok: every output has mode $modes"
smoke_seconds=$(( $(seconds) - smoke_start ))

# -- report -----------------------------------------------------------------------------------------
say "wheel"
echo "wheel:   $(basename "$WHEEL") ($(( $(stat -c %s "$WHEEL") / 1024 )) KB)"
echo "sdist:   $(basename "$SDIST") ($(( $(stat -c %s "$SDIST") / 1024 )) KB)"
echo "times:   build ${build_seconds} s, install ${install_seconds} s, smoke tests ${smoke_seconds} s, total $(( $(seconds) - start )) s"
