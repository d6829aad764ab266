"""Where a training step's time goes at batch 2048: the bare network, with parts taken away.

The throughput benchmark's network (tiny-diffusion shape: embeddings of 128 for x, y and t,
a Linear to 128, three residual blocks of 128, a Linear to 2; 98,560 MACs per example) is
timed as forward + backward of the squared error only, without the optimizer, the EMA and the
data and noise draws that the full step (``train_throughput.py``) also does. Rows swap the
activation; the "precomputed features" column feeds a fixed feature array instead of
computing the sinusoidal embeddings. GFLOP/s counts the matmul FLOPs (3 x 2 x MACs per
example) and is compared with this machine's float32 matmul rate; the identity row with
precomputed features is the matmuls' own ceiling.

Run:  .venv/bin/python benchmarks/train_step_breakdown.py [--batch 2048]
"""

from __future__ import annotations

import argparse
import math
import time

import jax
import jax.numpy as jnp
from train_throughput import MACS_PER_EXAMPLE, sgemm_gflops

import diffviz as dv

WIDTH = 128
ACTIVATIONS = {
    "exact GELU, erf (the package)": lambda h: 0.5 * h * (1.0 + jax.lax.erf(h * math.sqrt(0.5))),
    "exact GELU, erfc (jax.nn.gelu)": lambda h: jax.nn.gelu(h, approximate=False),
    "tanh GELU": lambda h: jax.nn.gelu(h, approximate=True),
    "ReLU": jax.nn.relu,
    "none (identity)": lambda h: h,
}


def weights(key):
    k = jax.random.split(key, 5)
    return {
        "inp": jax.random.normal(k[0], (3 * WIDTH, WIDTH)) / jnp.sqrt(3.0 * WIDTH),
        "blocks": [jax.random.normal(k[i + 1], (WIDTH, WIDTH)) / jnp.sqrt(1.0 * WIDTH) for i in range(3)],
        "out": jax.random.normal(k[4], (WIDTH, 2)) / jnp.sqrt(1.0 * WIDTH),
    }


def grad_fn(act, *, embed: bool):
    def loss(w, x, t, eps, feats):
        if embed:
            feats = jnp.concatenate([dv.coordinate_embedding(x, WIDTH, 25.0), dv.sinusoidal_embedding(t, WIDTH)], -1)
        h = act(feats @ w["inp"])
        for k in w["blocks"]:
            h = h + act(h @ k)
        return jnp.mean((h @ w["out"] - eps) ** 2)

    return jax.jit(jax.grad(loss))


def seconds_per_call(f, args, calls: int = 30, repeats: int = 5) -> float:
    jax.block_until_ready(f(*args))  # compile
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            out = f(*args)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2048)
    batch = parser.parse_args().batch
    peak = sgemm_gflops()
    keys = jax.random.split(jax.random.key(1), 4)
    x = jax.random.normal(keys[0], (batch, 2))
    t = jax.random.randint(keys[1], (batch,), 1, 1001)
    eps = jax.random.normal(keys[2], (batch, 2))
    feats = jax.random.normal(keys[3], (batch, 3 * WIDTH))
    w = weights(jax.random.key(0))
    flop = 6 * MACS_PER_EXAMPLE * batch
    print(f"batch {batch}; matmul rate {peak:.0f} GFLOP/s; forward + backward only (no optimizer, EMA or data draw)")
    print(f"{'activation':>31} {'embeddings':>26} {'precomputed features':>26}")
    for name, act in ACTIVATIONS.items():
        cells = []
        for embed in (True, False):
            s = seconds_per_call(grad_fn(act, embed=embed), (w, x, t, eps, feats))
            cells.append(f"{1 / s:6.1f} it/s {flop / s / 1e9:5.1f} GF ({100 * flop / s / 1e9 / peak:3.0f}%)")
        print(f"{name:>31} " + " ".join(f"{c:>26}" for c in cells))


if __name__ == "__main__":
    main()
