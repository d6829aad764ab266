"""Where a sampling step's time goes: the default network's shape, with parts taken away.

The sampling benchmark's network (width 64, depth 3, sinusoidal input embedding of 16 per
coordinate, exact GELU) runs on 10,000 points for 100 steps of a DDPM-like update inside one
jitted ``lax.scan``. The same matmuls are then timed with a cheaper activation, without the
input embedding (the raw coordinates tiled to the same width, so the matmul shapes stay the
same) and without the per-step noise draw. Each row prints milliseconds per step and the
ratio to the FLOP-bound time (matmul FLOPs at this machine's float32 matmul rate): what is
left above 1.0 in the "none, no embedding" row is the cost of the matmuls' own shapes.

The weights are random (timing does not depend on them); the package's network is timed in
``sampling_speed.py``.

Run:  .venv/bin/python benchmarks/sampling_breakdown.py
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
from train_step_breakdown import ACTIVATIONS  # the same activations (GELU in two forms, ReLU, none)
from train_throughput import sgemm_gflops

import diffviz as dv

N, STEPS, WIDTH, DEPTH, EMB = 10_000, 100, 64, 3, 16


def weights(key):
    k = jax.random.split(key, DEPTH + 2)
    return {
        "inp": jax.random.normal(k[0], (2 * EMB, WIDTH)) / jnp.sqrt(2.0 * EMB),
        "blocks": [jax.random.normal(k[i + 1], (WIDTH, WIDTH)) / jnp.sqrt(1.0 * WIDTH) for i in range(DEPTH)],
        "out": jax.random.normal(k[-1], (WIDTH, 2)) / jnp.sqrt(1.0 * WIDTH),
    }


def sampler(w, act, *, embed: bool, noise: bool):
    def net(x, t):
        feats = dv.coordinate_embedding(x, EMB, 25.0) if embed else jnp.tile(x, (1, EMB))  # (N, 32) either way
        h = act(feats @ w["inp"] + 1e-3 * t.astype(jnp.float32))
        for k in w["blocks"]:
            h = h + act(h @ k)
        return h @ w["out"]

    @jax.jit
    def run(key):
        def step(x, t):
            x = x - 1e-3 * net(x, t)
            if noise:
                x = x + 1e-2 * jax.random.normal(jax.random.fold_in(key, t), x.shape)
            return x, None

        return jax.lax.scan(step, jax.random.normal(key, (N, 2)), jnp.arange(STEPS, 0, -1))[0]

    return run


def ms_per_step(run, repeats: int = 5) -> float:
    run(jax.random.key(0)).block_until_ready()  # compile
    best = float("inf")
    for i in range(repeats):
        t0 = time.perf_counter()
        run(jax.random.key(i)).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best / STEPS


def main() -> None:
    peak = sgemm_gflops()
    macs = 2 * EMB * WIDTH + DEPTH * WIDTH * WIDTH + WIDTH * 2
    bound_ms = 2 * macs * N / (peak * 1e9) * 1e3
    print(f"{N} points, width {WIDTH}, depth {DEPTH}, {macs} MACs/point; matmul rate {peak:.0f} GFLOP/s; FLOP-bound {bound_ms:.2f} ms/step")
    print(f"{'activation':>31} {'embedding+noise':>16} {'no embedding':>13} {'no noise':>9}   (ms per step; x FLOP bound)")
    w = weights(jax.random.key(0))
    for name, act in ACTIVATIONS.items():
        cells = [ms_per_step(sampler(w, act, embed=e, noise=z)) for e, z in ((True, True), (False, True), (True, False))]
        print(f"{name:>31} " + " ".join(f"{c:>6.2f} ({c / bound_ms:.2f}x)" for c in cells))


if __name__ == "__main__":
    main()
