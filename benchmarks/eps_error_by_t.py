"""How well does a small network learn the exact noise prediction, step by step?

The 1-D course model, ``DenoiserConfig(dim=1, width=64, depth=3, time_dim=32)``, is trained on
``mixture_1d("bimodal")`` (T = 1000, linear schedule, Adam 1e-3, batch 256, EMA 0.995), and
its noise prediction is compared with the exact eps*(x, t) = E[eps | x_t = x] of the mixture
(:func:`diffviz.optimal_eps`) on a grid of x covering the data, at several t. Two errors:

* ``grid RMS``: the RMS of (learned - exact) over an even grid of x in [-2, 2], the range
  of the data (the modes sit at +-0.95 with std 0.3);
* ``RMS under q_t``: the same squared error weighted by the diffused density q_t(x) on that
  grid, i.e. where noisy training points actually fall at step t.

Both are printed at initialisation and after training (EMA weights); the figure goes to
``benchmarks/results/eps_error_by_t.png``.

Run:  .venv/bin/python benchmarks/eps_error_by_t.py [--steps 4000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import diffviz as dv

TS = (1, 5, 10, 25, 50, 100, 200, 400, 700, 1000)
GRID = np.linspace(-2.0, 2.0, 401, dtype=np.float32)
RESULTS = Path(__file__).resolve().parent / "results"


def errors(graphdef, params, schedule, mix) -> tuple[np.ndarray, np.ndarray]:
    """``(grid RMS, q_t-weighted RMS)`` at every t in TS, each ``(len(TS),)``."""
    x = jnp.asarray(GRID)[:, None]  # (G, 1)
    grid_rms, weighted_rms = [], []
    for t in TS:
        learned = np.asarray(dv.apply_denoiser(graphdef, params, x, t))[:, 0]  # (G,)
        exact = np.asarray(dv.optimal_eps(schedule, mix, x, t))[:, 0]  # (G,)
        density = np.exp(np.asarray(dv.mixture_log_prob(dv.diffuse_mixture(schedule, mix, t), x)))  # (G,)
        sq = (learned - exact) ** 2
        grid_rms.append(np.sqrt(sq.mean()))
        weighted_rms.append(np.sqrt(np.sum(density * sq) / np.sum(density)))
    return np.array(grid_rms), np.array(weighted_rms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    schedule = dv.linear_schedule(1000)
    mix = dv.mixture_1d("bimodal")
    config = dv.DenoiserConfig(dim=1, width=64, depth=3, time_dim=32)
    k_init, k_fit = jax.random.split(jax.random.key(args.seed))
    graphdef, params = dv.init_denoiser(k_init, config)
    optimizer = optax.adam(1e-3)
    step = dv.make_train_step(graphdef, schedule, optimizer, ema_decay=0.995)
    state = dv.init_train_state(params, optimizer)

    init_grid, init_weighted = errors(graphdef, params, schedule, mix)
    start = time.perf_counter()
    state, losses = dv.fit(
        k_fit, step, state, lambda key, n: dv.sample_mixture(key, mix, n),
        batch_size=256, num_steps=args.steps, steps_per_call=500, progress=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    grid_rms, weighted_rms = errors(graphdef, state.ema_params, schedule, mix)

    print(f"1-D denoiser, {dv.count_params(params):,} parameters, {args.steps} steps in {seconds:.1f} s "
          f"(incl. compilation); final loss (mean of last 500 steps) {losses[-500:].mean():.4f}")  # fmt: skip
    print(f"{'t':>5} | {'init grid RMS':>13} {'init under q_t':>14} | {'EMA grid RMS':>12} {'EMA under q_t':>13}")
    for row in zip(TS, init_grid, init_weighted, grid_rms, weighted_rms, strict=True):
        print(f"{row[0]:>5} | {row[1]:>13.4f} {row[2]:>14.4f} | {row[3]:>12.4f} {row[4]:>13.4f}")

    fig = dv.plot_eps_error_by_t(
        TS,
        {
            "initialisation (grid RMS)": init_grid,
            f"after {args.steps} steps, EMA (grid RMS)": grid_rms,
            f"after {args.steps} steps, EMA (RMS under $q_t$)": weighted_rms,
        },
        title=r"Bimodal mixture: RMS of $\hat\varepsilon_\theta - \varepsilon^*$ over $x \in [-2, 2]$",
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "eps_error_by_t.png"
    fig.savefig(out, dpi=120)
    print(f"figure: {out}")


if __name__ == "__main__":
    main()
