"""Compiling the engine's kernels before the first search, on two cores when it is cold.

The first solve after an install compiles the kernels of :mod:`evfleet.routing.kernels`
(about 22 s in one process on the 2-core benchmark machine; numba then caches the
machine code on disk and later runs load it in under a second). Numba compiles on one
thread, so :func:`compile_kernels` splits the work where the call tree allows: a helper
process compiles the verdicts of the client moves (``_relocate_verdict`` and the three
others, with the segment joins under them) into the on-disk cache, while this process
compiles route evaluation, insertion costs, the charging-stop moves and the segment
refresh; then this process compiles the client moves and the local search pass, loading
the helper's half from the cache. A lock file in the cache folder makes processes that
start at once compile once (the others wait, then load the cache).

Both processes compile for the argument types of a small sample problem
(:func:`sample_problem`); every problem gives the same types (the arrays are all
C-contiguous ``int64``/``float64``), so the cached code serves every later solve.
When the cache is already warm nothing is done here, and where it cannot be written the
kernels compile in this process alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

import numba

import evfleet
from evfleet.model import Model
from evfleet.problem import Problem

_typeof: Callable[[Any], Any] = numba.typeof

HELPER_TIMEOUT_S = 300.0
"""Longest wait for the helper; past it (or if it fails) this process compiles alone."""

_done = False


def sample_problem() -> Problem:
    """Two clients, a charger and an electric van: enough to type every kernel."""
    m = Model("compile-sample")
    m.add_depot(0, 0)
    m.add_vehicle_type(battery_wh=10_000, energy_wh_per_m=1.0, capacity_kg=100)
    m.add_client(3_000, 0, demand_kg=10, service_s=60, tw_late_s=100_000)
    m.add_client(0, 3_000, demand_kg=10, service_s=60, tw_late_s=100_000)
    m.add_charger(3_000, 3_000, power_w=50_000)
    return m.data()


def _sample() -> tuple[Any, Any]:
    """An evaluator and a local search for :func:`sample_problem`."""
    import random

    from evfleet.routing.data import build_engine_data
    from evfleet.routing.evaluate import Evaluator
    from evfleet.routing.local_search import LocalSearch
    from evfleet.routing.plan import Plan

    evaluator = Evaluator(build_engine_data(sample_problem()))
    return evaluator, LocalSearch(Plan(evaluator, [], []), random.Random(0))


def _argument_types(evaluator: Any, search: Any) -> dict[str, Any]:
    """The numba types of the search kernels' arguments (without running the kernels)."""
    from evfleet.routing import kernels

    return {
        "kd": _typeof(evaluator.kernel_data),
        "st": kernels.search_state_type(**search.state_arrays(4, 8)),
        "neighbours": _typeof(search.neighbours),
        "near_chargers": _typeof(search.near_chargers),
    }


def _helper_part(types: dict[str, Any]) -> None:
    """The helper's half: the verdicts of the client moves from route segments."""
    from evfleet.routing import kernels

    kd, st = types["kd"], types["st"]
    i64, boolean = numba.types.int64, numba.types.boolean
    kernels._relocate_verdict.compile((kd, st, i64, i64, i64, i64, i64, boolean))
    kernels._swap_verdict.compile((kd, st, i64, i64, i64, i64, boolean))
    kernels._tails_verdict.compile((kd, st, i64, i64, i64, i64, boolean))
    kernels._alone_verdict.compile((kd, st, i64, i64, i64, boolean))


def _main_part(evaluator: Any, search: Any, types: dict[str, Any]) -> None:
    """This process's half: what a solve runs from Python before searching (by running
    it on the sample), and what the local search pass calls but the client moves."""
    from evfleet.routing import kernels
    from evfleet.routing.construct import nearest_neighbour
    from evfleet.routing.plan import Penalties

    plan, _ = nearest_neighbour(evaluator)
    first = evaluator.data.first_client
    evaluator.insertion_costs(0, [first], first + 1, [0, 1], (1.0, 1.0, 1.0))
    plan.ensure_spare_routes()
    search._load(plan, Penalties(1.0, 1.0, 1.0))
    kernels.seed(0)
    kd, st = types["kd"], types["st"]
    i64, boolean = numba.types.int64, numba.types.boolean
    kernels.ensure_spare_routes.compile((kd, st))
    kernels._set_positions.compile((kd, st, i64))
    kernels._tick.compile((st,))
    kernels._charger_moves.compile((kd, st, types["near_chargers"], i64, boolean))
    kernels._refresh_segments.compile((kd, st, i64))
    kernels._judged.compile((kd, st, i64))
    kernels._node.compile((kd, st, i64, i64))
    kernels._rest_node.compile((kd, st, i64, i64, i64, i64))


def _top(types: dict[str, Any]) -> None:
    from evfleet.routing import kernels

    boolean = numba.types.boolean
    kernels.local_search_pass.compile(
        (types["kd"], types["st"], types["neighbours"], types["near_chargers"], boolean, boolean)
    )


def kernels_cached() -> bool:
    """Whether the on-disk cache holds the local search pass compiled from this source
    (numba's index checks the source file's stamp and numba's version)."""
    from evfleet.routing import kernels

    dispatcher: Any = kernels.local_search_pass
    try:
        cache_file = dispatcher._cache._cache_file
        return bool(cache_file._load_index())
    except Exception:  # numba internals: a wrong guess only costs time
        return True


def _cache_folder() -> Path | None:
    """Where numba writes the kernels' cache, if it can write there."""
    from evfleet.routing import kernels

    dispatcher: Any = kernels.local_search_pass
    try:
        path = Path(dispatcher._cache._cache_path)
    except AttributeError:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


@contextmanager
def _lock(folder: Path | None) -> Iterator[None]:
    """Holds a lock file in ``folder`` so that processes starting at once (parallel
    benchmark jobs, the searches of ``--workers``) compile once: the others wait, then
    load the cache."""
    if folder is None or fcntl is None:
        yield
        return
    try:
        handle = open(folder / "evfleet-compile.lock", "w")  # noqa: SIM115 - held below
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start_helper() -> subprocess.Popen[bytes] | None:
    src = str(Path(evfleet.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "evfleet.routing.compilation", "--helper"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def compile_kernels(*, parallel: bool | None = None) -> bool:
    """Compiles the search kernels now if the on-disk cache lacks them; returns whether
    this process compiled them. ``parallel`` (default: when two or more cores are free)
    hands part of the work to a helper process."""
    global _done
    if _done:
        return False
    _done = True
    if getattr(numba.config, "DISABLE_JIT", False) or kernels_cached():
        return False
    folder = _cache_folder()
    with _lock(folder):
        if kernels_cached():  # another process compiled them while this one waited
            return False
        if parallel is None:
            from evfleet.routing.portfolio import default_workers  # imports this module

            parallel = default_workers() >= 2
        helper = _start_helper() if parallel and folder is not None else None
        evaluator, search = _sample()
        types = _argument_types(evaluator, search)
        _main_part(evaluator, search, types)
        if helper is not None:
            try:
                helper.wait(timeout=HELPER_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait()
        _top(types)
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m evfleet.routing.compilation [--helper]``: compile the kernels
    (all of them, or the helper's half)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--helper"]:
        _helper_part(_argument_types(*_sample()))
        return 0
    if argv:
        print("usage: python -m evfleet.routing.compilation [--helper]", file=sys.stderr)
        return 2
    compile_kernels()
    return 0


if __name__ == "__main__":
    sys.exit(main())
