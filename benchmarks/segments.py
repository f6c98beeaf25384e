"""Route segments in the local search: time at a fixed number of iterations per mode.

Usage (from the repository root)::

    python benchmarks/segments.py [--repeats 3] [--scale 1.0] [--shared PATH] [--filter TEXT ...]
        [--min-stops N ...]

The local search judges moves from route segments before simulating them
(``LocalSearch.concatenation``, ``evfleet.routing.kernels.SEGMENTS_*``):

* ``no-charging`` (the default): routes without charging stops, from light segments;
* ``all``: also routes with charging stops, from full segments, where they can;
* ``off``: every move is simulated;
* ``all>=N`` (``--min-stops N``): ``all`` for routes with charging stops of at least N
  stops (``LocalSearch.charging_min_stops``), shorter ones simulated.

Segments only refuse moves that cannot help, so the search takes the same steps in every
mode: each instance is solved for a fixed number of iterations (seed 1) in each mode and
the best of ``--repeats`` wall-clock times is printed, with the ratios ``off / mode``
(above 1: the mode is faster than simulating) and whether the plans are identical. The
modes alternate within each repeat, so that the machine's load touches them alike.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "benchmarks"

# (instance under the shared folder, reader options, ILS iterations)
CASES: list[tuple[str, dict[str, str], int]] = [
    ("solomon/C101.100.10.vrptw", {"convention": "dimacs"}, 1000),
    ("solomon/R201.100.8.vrptw", {"convention": "dimacs"}, 800),
    ("evrptw-schneider/c101_21.txt", {}, 800),
    ("evrptw-schneider/r201_21.txt", {}, 300),
    ("evrptw-schneider/r202_21.txt", {"recharge": "partial"}, 300),
    # Partial recharge, routes of 25 to 35 stops with two to four charging stops.
    ("evrptw-schneider/rc202_21.txt", {"recharge": "partial"}, 300),
    ("evrp-wcci2020/X-n143-k7.evrp", {}, 300),
    ("evrp-nl-montoya/tc1c40s5cf1.xml", {}, 300),
    # benchmarks/scale.py's generated city: 1,000 customers, routes of about 28 stops.
    ("generated:1000", {}, 400),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of each case's iterations"
    )
    parser.add_argument("--shared", default=str(DEFAULT_SHARED))
    parser.add_argument("--filter", nargs="*", default=[], help="only names containing one")
    parser.add_argument(
        "--min-stops",
        type=int,
        nargs="*",
        default=[],
        help="also time SEGMENTS_ALL with LocalSearch.charging_min_stops = N (mode all>=N)",
    )
    args = parser.parse_args(argv)

    from evfleet.io.instances import read_instance
    from evfleet.routing import kernels
    from evfleet.routing.local_search import LocalSearch
    from evfleet.routing.solve import solve

    shared = Path(args.shared)
    # label -> (LocalSearch.concatenation, LocalSearch.charging_min_stops)
    modes = {
        "off": (kernels.SEGMENTS_OFF, 0),
        "no-charging": (kernels.SEGMENTS_NO_CHARGING, 0),
        "all": (kernels.SEGMENTS_ALL, 0),
    }
    for n in args.min_stops:
        modes[f"all>={n}"] = (kernels.SEGMENTS_ALL, n)
    print(f"{platform.machine()}, {platform.python_version()}; compiling (small solve)...")
    solve(read_instance(shared / "evrptw-schneider" / "c101C5.txt"), max_iterations=5)
    judged = [m for m in modes if m != "off"]
    header = (
        f"{'instance':34} {'iters':>5} "
        + " ".join(f"{m + ' s':>13}" for m in modes)
        + " "
        + " ".join(f"{'off/' + m:>16}" for m in judged)
        + "  same plans"
    )
    print(header)
    print("-" * len(header))
    original = (LocalSearch.concatenation, LocalSearch.charging_min_stops)
    try:
        for name, options, iterations in CASES:
            if args.filter and not any(f in name for f in args.filter):
                continue
            if name.startswith("generated:"):
                sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
                from scale import generate

                problem = generate(int(name.split(":")[1]))
            else:
                problem = read_instance(shared / name, **options)
            iterations = max(1, round(iterations * args.scale))
            times: dict[str, list[float]] = {m: [] for m in modes}
            plans = {}
            for _ in range(args.repeats):
                for mode, (value, min_stops) in modes.items():
                    LocalSearch.concatenation = value
                    LocalSearch.charging_min_stops = min_stops
                    started = time.perf_counter()
                    solution = solve(problem, time_limit_s=3600, seed=1, max_iterations=iterations)
                    times[mode].append(time.perf_counter() - started)
                    plans[mode] = (solution.routes, solution.stats["objective"])
            best = {m: min(v) for m, v in times.items()}
            same = len({repr(p) for p in plans.values()}) == 1
            print(
                f"{name:34} {iterations:>5} "
                + " ".join(f"{best[m]:>13.2f}" for m in modes)
                + " "
                + " ".join(f"{best['off'] / best[m]:>16.2f}" for m in judged)
                + f"  {'yes' if same else 'NO'}",
                flush=True,
            )
    finally:
        LocalSearch.concatenation, LocalSearch.charging_min_stops = original
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
