"""First move and median of the controls left on the kernel (chapters 5, 6, 11, 12, 13), in Python.

Each explorer is built as its chapter builds it (chapter 6's network curves and chapter 11's
samples are stand-ins of the same shapes: the explorers only draw them), in one fresh process,
so that anything compiled or imported on first use shows up in the first move. A control's
callback runs synchronously when its ``.value`` is set, so the time of that assignment is the
kernel's whole share of a move; JupyterLab adds the messages and the display of the PNG (its
size is printed): ``benchmarks/lab_slider_latency.py`` measures the whole path in the browser.
Targets (issue 18): the first move under 1 s and the median under 100 ms, end to end.

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


def timed(explorer, control, values) -> np.ndarray:
    out = []
    for value in values:
        start = time.perf_counter()
        control.value = value
        out.append(1000 * (time.perf_counter() - start))
    return np.asarray(out)


def row(chapter: str, control: str, build_s: float, explorer, ms: np.ndarray) -> None:
    print(f"{chapter:10s} {control:9s} build {build_s:6.2f} s   first {ms[0]:6.1f} ms   "
          f"median (after the first) {np.median(ms[1:]):6.1f} ms   max {ms.max():6.1f} ms   n = {ms.size:2d}   "
          f"PNG {len(explorer.last_png) / 1e3:5.1f} kB")  # fmt: skip


def cycle(options, n: int) -> list:
    """n values from ``options``, each different from the one before (so every one fires)."""
    options = list(options)
    return [options[(k + 1) % len(options)] for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    key = jax.random.key(0)
    eight, linear = dv.eight_gaussians_mixture(), dv.linear_schedule(1000)

    back = rng.standard_normal((1001, 500, 2)).astype(np.float32)  # chapter 5
    start = time.perf_counter()
    e5 = dv.score_field_explorer(eight, linear, trajectory=back, field="score", t=300)
    build = time.perf_counter() - start
    row("chapter 5", "t", build, e5, timed(e5, e5.controls["t"], rng.integers(1, 1000, args.moves).tolist()))
    row("chapter 5", "arrows", build, e5, timed(e5, e5.controls["field"], cycle(["eps", "denoiser", "score"], 6)))

    ts = sorted({int(t) for t in np.round(np.geomspace(1, 1000, 40))} | {50})  # chapter 6: its steps and t = 50
    xs = jnp.linspace(-3, 3, 241)[:, None]
    exact = rng.standard_normal((len(ts), 241))
    start = time.perf_counter()
    e6 = dv.eps_explorer(xs, exact + 0.1, exact, ts, densities=np.abs(exact), t=50)
    build = time.perf_counter() - start
    row("chapter 6", "t", build, e6, timed(e6, e6.slider, [ts[i] for i in rng.integers(0, len(ts), args.moves) if ts[i] != 50]))

    nfes = (10, 20, 50, 100)  # chapter 11: 10 samplers x 4 NFEs of 4,000 points
    samples = {f"{kind}, {name}": rng.standard_normal((len(nfes), 4000, 2))
               for kind in ("exact", "network") for name in ("DDPM", "DDIM", "ODE Euler", "ODE Heun", "reverse SDE")}  # fmt: skip
    scores = {label: rng.uniform(1, 5, len(nfes)) for label in samples}
    start = time.perf_counter()
    e11 = dv.solver_explorer(samples, nfes, eight, scores=scores)
    build = time.perf_counter() - start
    row("chapter 11", "NFE", build, e11, timed(e11, e11.slider, cycle(nfes, args.moves)))
    row("chapter 11", "sampler", build, e11, timed(e11, e11.sampler, cycle(samples, 6)))

    ts12 = np.linspace(0.0, 1.0, 9)  # chapter 12
    names = ["linear", "cosine", "vp"]
    coefficients = {name: tuple(dv.interpolant_coefficients(name, ts12, linear))[:2] for name in names}
    x0 = np.asarray(dv.sample_moons(key, 500))
    start = time.perf_counter()
    e12 = dv.interpolant_explorer(x0, rng.standard_normal(x0.shape), ts12, coefficients, interpolant="linear")
    build = time.perf_counter() - start
    row("chapter 12", "t", build, e12, timed(e12, e12.slider, cycle(range(len(ts12)), args.moves)))
    row("chapter 12", "interp.", build, e12, timed(e12, e12.selector, cycle(names, 6)))

    start = time.perf_counter()  # chapter 13
    e13 = dv.guidance_explorer(key, linear, dv.labelled_toy("eight_gaussians"), c=0)
    build = time.perf_counter() - start
    row("chapter 13", "w", build, e13, timed(e13, e13.controls["w"], cycle(e13.ws, args.moves)))
    row("chapter 13", "class", build, e13, timed(e13, e13.controls["c"], cycle(range(e13.lmix.num_classes), 4)))
    print(f"jax on {jax.devices()[0].platform}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
