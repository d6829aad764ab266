"""How long the chapter-2 explorer takes to answer a slider move, with 10,000 particles.

A slider callback runs synchronously when a control's ``.value`` is set, so setting it and
stopping the clock when the call returns measures the whole callback: histogram, redraw and
PNG encoding, plus the simulation for a beta change. (A browser adds the transfer of a
~15 kB PNG and its display on top.) The target is a median of at most 50 ms for a ``t``
change.

    .venv/bin/python benchmarks/slider_latency.py [--particles 10000] [--T 100] [--repeats 60]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import jax
import numpy as np

import diffviz as dv

TARGET_MS = 50.0


def timed_moves(control, values) -> np.ndarray:
    """Milliseconds taken by ``control.value = v`` for each value (observers included)."""
    out = []
    for value in values:
        start = time.perf_counter()
        control.value = value
        out.append(1000 * (time.perf_counter() - start))
    return np.asarray(out)


def report(label: str, ms: np.ndarray) -> None:
    median, p90 = np.median(ms), np.percentile(ms, 90)
    print(
        f"{label:34s} n = {ms.size:3d}   median {median:7.1f} ms   p90 {p90:7.1f} ms   "
        f"median / {TARGET_MS:.0f} ms target = {median / TARGET_MS:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=10_000)
    parser.add_argument("--T", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=60, help="t moves to time (beta moves: a third of it)")
    args = parser.parse_args()

    start = time.perf_counter()
    explorer = dv.forward_1d_explorer(
        jax.random.key(0), dv.mixture_1d("bimodal"), n_particles=args.particles, T=args.T, beta=0.03
    )
    print(f"explorer built in {time.perf_counter() - start:.2f} s (includes compiling the simulator)")
    png_kb = len(explorer.last_png) / 1e3
    print(f"{args.particles:,} particles, T = {args.T}, PNG {png_kb:.1f} kB, jax on {jax.devices()[0].platform}")

    t_slider, beta_slider = explorer.sliders["t"], explorer.sliders["beta"]
    rng = np.random.default_rng(0)
    timed_moves(t_slider, rng.integers(0, args.T + 1, 5))  # warm up the drawing code
    # each t differs from the previous one, so every assignment fires the callback
    ts = (np.cumsum(rng.integers(1, args.T, args.repeats)) % (args.T + 1)).tolist()
    simulations = explorer.simulation_count
    t_ms = timed_moves(t_slider, ts)
    assert explorer.simulation_count == simulations, "a t change must not re-simulate"

    # new betas (never seen: every one is a fresh simulation), then already-cached ones
    n_beta = max(args.repeats // 3, 5)
    candidates = np.round(np.linspace(0.011, 0.19, n_beta + 1), 3).tolist()
    fresh = [b for b in candidates if b != explorer.beta][:n_beta]
    fresh_ms = timed_moves(beta_slider, fresh)
    assert explorer.simulation_count == simulations + n_beta
    cached = fresh[-explorer.cache_size :][::-1][1:]
    cached_ms = timed_moves(beta_slider, cached)

    print()
    report("t change (redraw only)", t_ms)
    report("beta change (new simulation)", fresh_ms)
    report("beta change (cached simulation)", cached_ms)


if __name__ == "__main__":
    main()
