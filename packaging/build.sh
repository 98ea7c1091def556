#!/usr/bin/env bash
# Build the standalone Linux bundle dist/gncviewer/ (PyInstaller onedir, CPU torch, PyQt6) and
# smoke-test it from a folder outside the source tree.
#
#   packaging/build.sh              # from a fresh clone: sets up .venv (make), adds PyInstaller, builds, tests
#   SKIP_SMOKE=1 packaging/build.sh # build only
#   VENV=/path/to/venv packaging/build.sh   # build from another environment (e.g. one with CUDA torch)
#
# Environment: VENV (default .venv), PYTHON (for make, default python3), TORCH_SPEC (for make, default
# torch==2.13.0 as in the Makefile), SKIP_SMOKE=1.  Output: dist/gncviewer/ (git-ignored); PyInstaller's
# work files go to build/pyinstaller/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
DIST="$ROOT/dist"
BUNDLE="$DIST/gncviewer"
WORK="$ROOT/build/pyinstaller"

say() { printf '\n==> %s\n' "$*"; }
fail() { printf 'build.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# -- environment ----------------------------------------------------------------------------------
# make sets up the project's .venv (torch==2.13.0, CPU, first); an environment you made yourself (e.g.
# with CUDA torch) is used as it is.
if [ "$VENV" = ".venv" ] || [ ! -x "$VENV/bin/python" ]; then
    say "project environment ($VENV, via make)"
    make --no-print-directory VENV="$VENV" "$VENV/.installed" ${PYTHON:+PYTHON="$PYTHON"} ${TORCH_SPEC:+TORCH_SPEC="$TORCH_SPEC"}
fi
PY="$VENV/bin/python"
[ -x "$PY" ] || fail "no Python at $PY"
say "build tools (packaging/requirements-build.txt)"
"$PY" -m pip install --quiet -r packaging/requirements-build.txt

# PyInstaller refuses an environment with two Qt bindings; the spec excludes the others, but say so.
"$PY" - <<'EOF'
import importlib.util
others = [m for m in ("PyQt5", "PySide2", "PySide6") if importlib.util.find_spec(m)]
if others:
    print(f"note: {', '.join(others)} installed in the build environment; the spec leaves them out")
import torch
print(f"torch {torch.__version__} (CUDA build: {torch.version.cuda or 'no'})")
EOF

# -- build ----------------------------------------------------------------------------------------
# Reproducible inputs: fixed hash seed, timestamps from the last commit.
export PYTHONHASHSEED=0
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH
say "PyInstaller build -> ${BUNDLE#"$ROOT"/}"
rm -rf "$BUNDLE"
start=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" packaging/gncviewer.spec
build_seconds=$(( $(date +%s) - start ))
[ -x "$BUNDLE/gncviewer" ] || fail "no executable at $BUNDLE/gncviewer"
install -m 755 packaging/install-desktop.sh "$BUNDLE/install-desktop.sh"

# -- what must (not) be inside --------------------------------------------------------------------
say "bundle contents"
INTERNAL="$BUNDLE/_internal"
for f in resources/models/gradopt-ellipses64.safetensors resources/models/gradopt-ellipses64.json \
         resources/models/clipped-ellipses64.safetensors resources/models/clipped-ellipses64.json \
         resources/icons/hicolor/scalable/apps/io.github.gncviewer.GncViewer.svg \
         resources/icons/hicolor/256x256/apps/io.github.gncviewer.GncViewer.png \
         linux/io.github.gncviewer.GncViewer.desktop linux/io.github.gncviewer.GncViewer.metainfo.xml \
         astra/libastra.so.0; do
    [ -e "$INTERNAL/$f" ] || fail "missing from the bundle: $f"
done
ls "$INTERNAL"/PyQt6/Qt6/plugins/platforms/libqxcb.so "$INTERNAL"/PyQt6/Qt6/plugins/platforms/libqoffscreen.so >/dev/null \
    || fail "Qt platform plugins missing"
ffmpeg=$(find "$INTERNAL/imageio_ffmpeg/binaries" -name 'ffmpeg-*' -type f | head -n 1)
[ -n "$ffmpeg" ] || fail "imageio-ffmpeg's ffmpeg binary missing"
"$ffmpeg" -hide_banner -version | head -n 1
unwanted=$(find "$BUNDLE" \( -iname '*PySide*' -o -iname '*PyQt5*' -o -iname '*shiboken*' -o -name '_tkinter*' \
                             -o -name 'libtk*' \) -print)
[ -z "$unwanted" ] || fail "unwanted parts in the bundle: $unwanted"
echo "ok: model, icons, ASTRA, Qt platform plugins, ffmpeg present; no PySide/PyQt5/Tk"

# -- smoke tests, from outside the source tree ----------------------------------------------------
if [ "${SKIP_SMOKE:-0}" != "1" ]; then
    SMOKE="$(mktemp -d -t gncviewer-smoke.XXXXXX)"
    case "$SMOKE" in "$ROOT"/*) fail "smoke-test folder $SMOKE lies inside the source tree";; esac
    # A bare environment: own config and cache folders, no display, no source tree on any path.
    run() {
        (cd "$SMOKE" && env -u PYTHONPATH -u GNCVIEWER_RESOURCES GNCVIEWER_CONFIG_DIR="$SMOKE/config" \
            GNCVIEWER_CACHE_DIR="$SMOKE/cache" QT_QPA_PLATFORM=offscreen "$BUNDLE/gncviewer" "$@")
    }
    say "smoke tests in $SMOKE"
    version=$(run --version)
    expected="gncviewer $("$PY" -c 'import gncviewer; print(gncviewer.__version__)')"
    [ "$version" = "$expected" ] || fail "--version said '$version', expected '$expected'"
    echo "ok: --version -> $version"

    run solve toy --method gnc-flow --t-max 1 --x0 -5,5 --json "$SMOKE/toy.json"
    "$PY" - "$SMOKE/toy.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["final"]["status"] == "ok" and d["final"]["distance_to_global_min"] < 0.01, d["final"]
print(f"ok: solve toy --json -> x = {d['final']['x']}, status {d['final']['status']}")
EOF

    run solve ct --method gradient-like --iterations 2 --json "$SMOKE/ct.json"
    "$PY" - "$SMOKE/ct.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["iterations_run"] == 2, d.get("iterations_run")
print(f"ok: solve ct --json (shipped model, ASTRA) -> PSNR {d['final']['psnr']:.2f} dB after 2 iterations")
EOF

    for problem in "toy 5" "ct 2"; do
        set -- $problem
        png="$SMOKE/gui-$1.png"
        run gui --fresh --problem "$1" --run-iterations "$2" --screenshot "$png" 2>&1 \
            | grep -v 'does not support propagateSizeHints' || true
        [ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] \
            || fail "gui --problem $1 wrote no PNG at $png"
        echo "ok: gui --problem $1 --run-iterations $2 -> $png ($(stat -c %s "$png") bytes)"
    done
    rm -rf "$SMOKE/config" "$SMOKE/cache"
    echo "smoke-test outputs kept in $SMOKE"
fi

# -- report ---------------------------------------------------------------------------------------
say "bundle"
echo "path:       ${BUNDLE}"
echo "size:       $(du -sh "$BUNDLE" | cut -f1)"
echo "files:      $(find "$BUNDLE" -type f | wc -l)"
echo "build time: ${build_seconds} s"
