"""Benchmark: start-up of the compiled engine, cold (no compiled code cached) and warm.

Removes numba's on-disk cache of ``evfleet.routing.kernels`` (the ``*.nbi``/``*.nbc`` files
in its ``__pycache__``), then solves a 5-customer instance for 1 iteration in a fresh Python
process three times: the first run compiles everything, the next ones load the cache.
Prints the wall-clock seconds of each run (process start to exit).

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
"""


def clear_cache() -> int:
    import evfleet.routing.kernels as kernels

    cache = Path(kernels.__file__).parent / "__pycache__"
    removed = 0
    for f in cache.glob("kernels.*.nb[ic]"):
        f.unlink()
        removed += 1
    return removed


def timed_run(instance: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SNIPPET, str(instance)], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE)
    args = parser.parse_args()
    removed = clear_cache()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"removed {removed} cached file(s); solving {args.instance.name} for 1 iteration")
    print(f"{'run':<22}{'seconds':>8}")
    for label in ("cold (compiles)", "warm 1 (cache)", "warm 2 (cache)"):
        print(f"{label:<22}{timed_run(args.instance):>8.2f}")


if __name__ == "__main__":
    main()
