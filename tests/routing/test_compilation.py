"""Compiling the kernels before the first search: on a cold cache the helper process
compiles its half into the cache and this process loads it from there; nothing is
compiled twice, a real solve afterwards compiles nothing more, a process started at the
same time waits instead of compiling too, and a later process finds the cache warm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evfleet.routing.compilation import sample_problem

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"

SCRIPT = """
import json, sys
from evfleet.io.instances import read_instance
from evfleet.routing import compilation, kernels
from evfleet.routing.solve import solve

def signatures():
    return {
        name: len(getattr(kernels, name).signatures)
        for name in dir(kernels)
        if hasattr(getattr(kernels, name), "signatures")
    }

was_cached = compilation.kernels_cached()
compiled = compilation.compile_kernels(parallel=sys.argv[2] == "parallel")
after_compile = signatures()
solution = solve(read_instance(sys.argv[1]), time_limit_s=60, seed=0, max_iterations=30)
print(json.dumps({
    "was_cached": was_cached,
    "compiled": compiled,
    "after_compile": after_compile,
    "after_solve": signatures(),
    "verdict_cache_hits": sum(kernels._relocate_verdict._cache_hits.values()),
    "feasible": solution.stats["feasible"],
}))
"""


def _start(instance: Path, cache: Path, mode: str) -> subprocess.Popen[str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(instance), mode],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _result(process: subprocess.Popen[str]) -> dict[str, object]:
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_sample_problem_has_a_charger_and_an_electric_van() -> None:
    problem = sample_problem()
    assert problem.num_clients == 2
    assert len(problem.chargers) == 1
    assert problem.vehicle_types[0].battery_wh == 10_000


@pytest.mark.slow
def test_cold_compile_on_two_processes_serves_later_solves(tmp_path: Path) -> None:
    instance = SHARED / "evrp-nl-montoya" / "tc0c10s2cf1.xml"
    # Two processes start on a cold cache at once: one compiles, the other waits for it.
    started = [_start(instance, tmp_path, "parallel") for _ in range(2)]
    both = sorted((_result(p) for p in started), key=lambda r: not r["compiled"])
    first, waited = both
    assert first["was_cached"] is False and waited["was_cached"] is False
    assert first["compiled"] is True and waited["compiled"] is False
    assert waited["feasible"] == 1.0
    # The helper compiled the verdicts into the cache; this process loaded them.
    assert first["verdict_cache_hits"] == 1
    assert list(tmp_path.rglob("kernels._relocate_verdict-*.nbi"))
    after_compile = first["after_compile"]
    assert isinstance(after_compile, dict)
    assert after_compile["local_search_pass"] == 1
    assert max(after_compile.values()) == 1, "a kernel was compiled twice"
    # The sample's argument types are a real problem's: solving compiles nothing more.
    assert first["after_solve"] == after_compile
    assert first["feasible"] == 1.0

    second = _result(_start(instance, tmp_path, "parallel"))
    assert second["was_cached"] is True
    assert second["compiled"] is False
    assert second["feasible"] == 1.0
