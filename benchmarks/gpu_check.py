"""``make gpu-check``: run gncviewer's GPU path on a machine with CUDA and print its figures.

    .venv/bin/python benchmarks/gpu_check.py                # on a machine with an NVIDIA GPU
    .venv/bin/python benchmarks/gpu_check.py --quick        # smaller benchmarks (a first look)
    .venv/bin/python benchmarks/gpu_check.py --self-check   # anywhere (CI): the script's own pieces

With a CUDA device it runs, in order: the CUDA-only tests (``tests/test_cuda.py``: ASTRA's GPU projector
against the CPU matrix, the CT problem and solvers on CUDA against the CPU, the toy study's engine on
CUDA against the CPU, the explorer's solver thread on CUDA offscreen), the CT benchmark on the GPU
(``benchmarks/bench_ct.py --device cuda``) and the paper's full toy study on the GPU
(``benchmarks/bench_toy_map.py --device cuda``), and prints their figures with the device's name.
Without one it says "no CUDA device" and exits 1: nothing was checked.

``--self-check`` needs no GPU: it checks that the benchmarks and the test module import, that the CUDA
tests are collected (and, without a GPU, all skipped, none failing), and that the no-device message
comes out as it should.  CI runs it, so the script cannot rot where no GPU ever runs it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CUDA_TESTS = "tests/test_cuda.py"
#: The test functions tests/test_cuda.py must hold (a renamed or lost test is caught by --self-check).
EXPECTED_TESTS = 6
NO_DEVICE = "gpu-check: no CUDA device"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}


def _run(title: str, args: list[str]) -> tuple[int, str]:
    """Run a step as a subprocess, echoing its output, and return (exit code, output)."""
    print(f"\n==> {title}\n    {' '.join(args)}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True, text=True)
    output = result.stdout + result.stderr
    print(output.rstrip())
    print(f"    ({time.perf_counter() - start:.0f} s, exit {result.returncode})", flush=True)
    return result.returncode, output


def no_device_message(torch_module) -> str:
    build = torch_module.version.cuda or "no"
    return (
        f"{NO_DEVICE} (torch {torch_module.__version__}, CUDA build: {build}); nothing was checked. "
        "Run it on a machine with an NVIDIA GPU and a CUDA build of torch (README, 'Using a GPU')."
    )


def device_summary(torch_module) -> str:
    import astra

    props = torch_module.cuda.get_device_properties(0)
    return (
        f"{props.name}, {props.total_memory / 2**30:.0f} GB, compute capability {props.major}.{props.minor}; "
        f"torch {torch_module.__version__} (CUDA {torch_module.version.cuda}); "
        f"ASTRA {astra.__version__} (CUDA: {'yes' if astra.use_cuda() else 'no'})"
    )


def collected_tests(output: str) -> int:
    match = re.search(r"(\d+) tests? collected", output)
    return int(match.group(1)) if match else 0


def self_check() -> int:
    """The pieces, without a GPU (see the module docstring)."""
    import torch

    problems = []
    for name in ("bench_ct", "bench_toy_map"):
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        if spec is None or spec.loader is None:
            problems.append(f"benchmarks/{name}.py not found")
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # imports only: both run their work under main()
        if not hasattr(module, "main"):
            problems.append(f"benchmarks/{name}.py has no main()")
    for script, flag in (("bench_ct.py", "--device"), ("bench_toy_map.py", "--device")):
        if flag not in (ROOT / "benchmarks" / script).read_text(encoding="utf-8"):
            problems.append(f"benchmarks/{script} has no {flag} option")
    code, output = _run(
        "collect the CUDA tests", [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "cuda", CUDA_TESTS]
    )
    count = len([ln for ln in output.splitlines() if ln.startswith(CUDA_TESTS + "::")])
    if code != 0 or count != EXPECTED_TESTS:
        problems.append(f"expected {EXPECTED_TESTS} CUDA tests collected, found {count} (exit {code})")
    code, output = _run("run them", [sys.executable, "-m", "pytest", "-q", "-rs", "-m", "cuda", CUDA_TESTS])
    if torch.cuda.is_available():
        if code != 0:
            problems.append("the CUDA tests failed on this machine's GPU")
    elif code != 0 or f"{EXPECTED_TESTS} skipped" not in output or "no CUDA device" not in output:
        problems.append("without a GPU the CUDA tests must all be skipped with the reason 'no CUDA device'")
    message = no_device_message(torch)
    if not message.startswith(NO_DEVICE):
        problems.append("the no-device message changed")
    if problems:
        for problem in problems:
            print(f"gpu-check --self-check: FAILED: {problem}", file=sys.stderr)
        return 1
    print(f"\ngpu-check --self-check: ok ({EXPECTED_TESTS} CUDA tests collected; benchmarks import; no-device path)")
    return 0


def gpu_check(quick: bool) -> int:
    import torch

    if not torch.cuda.is_available():
        print(no_device_message(torch), file=sys.stderr)
        return 1
    print(f"gpu-check on {device_summary(torch)}")
    failures = []
    code, _ = _run("CUDA tests", [sys.executable, "-m", "pytest", "-q", "-s", "-rs", "-m", "cuda", CUDA_TESTS])
    if code != 0:
        failures.append("CUDA tests")
    bench_ct = [sys.executable, "benchmarks/bench_ct.py", "--device", "cuda"]
    bench_ct += ["--sizes", "64", "--iterations", "20"] if quick else ["--sizes", "64,128", "--iterations", "100"]
    code, _ = _run("CT benchmark on the GPU", bench_ct)
    if code != 0:
        failures.append("CT benchmark")
    toy = [sys.executable, "benchmarks/bench_toy_map.py", "--device", "cuda"]
    toy += ["--grid", "30", "--t-max-count", "20", "--no-compile"] if quick else []
    code, _ = _run("the paper's toy study on the GPU" + (" (reduced)" if quick else ""), toy)
    if code != 0:
        failures.append("toy study")
    if failures:
        print(f"\ngpu-check: FAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    print("\ngpu-check: ok; the figures are above")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-check", action="store_true", help="check the script's pieces (no GPU needed)")
    parser.add_argument("--quick", action="store_true", help="smaller benchmarks")
    args = parser.parse_args()
    return self_check() if args.self_check else gpu_check(args.quick)


if __name__ == "__main__":
    sys.exit(main())
