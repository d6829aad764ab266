"""First move and median of the sliders that stay on the kernel (chapters 4, 5 and 6), in Python.

Each explorer is built as its chapter builds it (chapter 6's network curves are stand-ins of the
same shapes: the explorer only draws them), in a fresh process, so that anything compiled or
imported on first use shows up in the first move. A control's callback runs synchronously when
its ``.value`` is set, so the time of that assignment is the kernel's whole share of a move
(the browser adds the transfer and display of a ~30 kB PNG). Targets (issue 18): the first move
under 1 s and the median under 100 ms.

    .venv/bin/python benchmarks/kernel_slider_latency.py [--moves 15]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import jax
import jax.numpy as jnp
import numpy as np

import diffviz as dv


def timed(control, values) -> np.ndarray:
    out = []
    for value in values:
        start = time.perf_counter()
        control.value = value
        out.append(1000 * (time.perf_counter() - start))
    return np.asarray(out)


def row(chapter: str, control: str, build_s: float, ms: np.ndarray) -> None:
    print(f"{chapter:10s} {control:9s} build {build_s:6.2f} s   first {ms[0]:7.1f} ms   "
          f"median (after the first) {np.median(ms[1:]):7.1f} ms   max {ms.max():7.1f} ms   n = {ms.size}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    key = jax.random.key(0)

    start = time.perf_counter()  # chapter 4
    e4 = dv.diffusion_2d_explorer(key, n_particles=2000, T=1000)
    build = time.perf_counter() - start
    row("chapter 4", "t", build, timed(e4.controls["t"], rng.integers(1, 1000, args.moves).tolist()))
    names = list(e4.datasets)
    row("chapter 4", "data set", build, timed(e4.controls["dataset"], names[1:] + names[:1]))
    row("chapter 4", "schedule", build, timed(e4.controls["schedule"], list(e4.schedules)[1:] + list(e4.schedules)[:1]))

    eight, linear = dv.eight_gaussians_mixture(), dv.linear_schedule(1000)  # chapter 5
    back = rng.standard_normal((1001, 500, 2)).astype(np.float32)
    start = time.perf_counter()
    e5 = dv.score_field_explorer(eight, linear, trajectory=back, field="score", t=300)
    build = time.perf_counter() - start
    row("chapter 5", "t", build, timed(e5.controls["t"], rng.integers(1, 1000, args.moves).tolist()))
    row("chapter 5", "arrows", build, timed(e5.controls["field"], ["eps", "denoiser", "score"]))

    ts = sorted({int(t) for t in np.round(np.geomspace(1, 1000, 40))} | {50})  # chapter 6: its steps and t = 50
    xs = jnp.linspace(-3, 3, 241)[:, None]
    exact = rng.standard_normal((len(ts), 241))
    start = time.perf_counter()
    e6 = dv.eps_explorer(xs, exact + 0.1, exact, ts, densities=np.abs(exact), t=50)
    build = time.perf_counter() - start
    row("chapter 6", "t", build, timed(e6.slider, [ts[i] for i in rng.integers(0, len(ts), args.moves) if ts[i] != 50]))
    print(f"jax on {jax.devices()[0].platform}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
