"""Benchmark: start-up of the compiled engine, cold (no compiled code cached) and warm.

Removes numba's on-disk cache of ``evfleet.routing.kernels`` (the ``*.nbi``/``*.nbc`` files
in its ``__pycache__``), then solves a 5-customer instance for 1 iteration in a fresh Python
process three times: the first run compiles everything (on two processes when there are
two cores, see ``evfleet.routing.compilation``), the next ones load the cache.
Prints the wall-clock seconds of each run (process start to exit), and after the cold run
the kernels that were compiled more than once (numba compiles a copy of a kernel for each
new combination of argument types, literal constants included; see ``_I`` in
``evfleet.routing.kernels``).

    .venv/bin/python benchmarks/startup.py [--instance PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INSTANCE = ROOT.parent / "shared" / "benchmarks" / "evrptw-schneider" / "c101C5.txt"

SNIPPET = """
import sys
from evfleet.io.instances import read_instance
from evfleet.routing.solve import solve
problem = read_instance(sys.argv[1])
solve(problem, time_limit_s=60, seed=0, max_iterations=1)
if len(sys.argv) > 2:
    import evfleet.routing.kernels as kernels
    for name in sorted(vars(kernels)):
        signatures = getattr(getattr(kernels, name), "signatures", [])
        if len(signatures) > 1:
            print(f"  {name} compiled {len(signatures)} times")
"""


def clear_cache() -> int:
    import evfleet.routing.kernels as kernels

    cache = Path(kernels.__file__).parent / "__pycache__"
    removed = 0
    for f in cache.glob("kernels.*.nb[ic]"):
        f.unlink()
        removed += 1
    return removed


def timed_run(instance: Path, list_copies: bool = False) -> float:
    started = time.perf_counter()
    extra = ["list-copies"] if list_copies else []
    subprocess.run([sys.executable, "-c", SNIPPET, str(instance), *extra], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE)
    args = parser.parse_args()
    removed = clear_cache()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"removed {removed} cached file(s); solving {args.instance.name} for 1 iteration")
    print(f"{'run':<22}{'seconds':>8}")
    cold = timed_run(args.instance, list_copies=True)  # lists kernels compiled twice or more
    print(f"{'cold (compiles)':<22}{cold:>8.2f}")
    for label in ("warm 1 (cache)", "warm 2 (cache)"):
        print(f"{label:<22}{timed_run(args.instance):>8.2f}")


if __name__ == "__main__":
    main()
