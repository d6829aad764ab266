"""Flow matching against eps-prediction: training time to 1.25x the noise floor, and rectified-flow Euler against NFE.

Part 1 (``--part time``), issue 17's "training time to 1.25x the noise floor for flow
matching against eps-prediction (same network, same budget, 3 seeds)". The measurement is
``time_to_quality.py``'s: the same default denoiser, Adam with warm-up and cosine decay, EMA of
the weights, 500-step chunks timed with ``fit``, sliced W1 of 10,000 samples from the EMA
weights against 10,000 fresh data points at each checkpoint, divided by the data-vs-data noise
floor. Only the objective and the sampler change:

* eps: the simple eps loss (T = 1000, linear schedule), 1000-step DDPM ancestral sampling
  (x0 estimate clipped to [-4, 4], as ``time_to_quality.py``), NFE 1000;
* flow matching: the conditional flow-matching loss with the linear interpolant (rectified
  flow) and independent coupling, Euler on 1000 uniform steps from t = 1 to 0, NFE 1000.

Both samplers use 1000 network evaluations, so neither is held back by its solver. For each
seed, the two runs are interleaved (eps then flow matching), so both see the same machine load;
the table gives the seconds and the steps (steps do not depend on the load).

Part 2 (``--part nfe``): rectified-flow Euler (``flow_sample(..., method="euler")`` on
``flow_time_grid(nfe)``) at NFE 10, 20, 50, 100 (and 1000) with the exact velocity
(``exact_velocity_fn``, linear interpolant) on the 1-D bimodal mixture and the eight
Gaussians: SW1 over the noise floor, n = 4,000, mean of ``--nfe-seeds`` seeds, floor from 40
pairs (as ``continuous_oracle_nfe.py``). Then the same for a flow-matching model trained on
two moons for ``--nfe-train-steps`` steps (n = 10,000, floor from 5 pairs).

Run:  nice .venv/bin/python benchmarks/fm_vs_eps.py [--part time nfe] [--seeds 3] [--budget 60] [--datasets "two moons"]
"""

from __future__ import annotations

import argparse
import functools
import time

import jax
import numpy as np
import optax
from machine import describe
from time_to_quality import N_EVAL
from time_to_quality import evaluate as evaluate_eps

import diffviz as dv

NFE_LIST = (10, 20, 50, 100, 1000)


def evaluate_fm(key, graphdef, params, sampler, metric_key, num_steps: int = 1000) -> float:
    k_s, k_d = jax.random.split(key)
    res = dv.flow_sample(k_s, dv.model_velocity_fn(graphdef, params), (N_EVAL, 2), dv.flow_time_grid(num_steps), method="euler")
    return float(dv.sliced_wasserstein(metric_key, res.samples, sampler(k_d, N_EVAL)))


def make_step(method: str, graphdef, schedule, opt, ema):
    if method == "eps":
        return dv.make_train_step(graphdef, schedule, opt, ema_decay=ema)
    return dv.make_train_step(graphdef, None, opt, ema_decay=ema, loss=dv.flow_matching_objective())


def run(method, name, sampler, config, args, seed: int, floor: float):
    """Train ``method`` ("eps" or "fm") from ``seed``; return (seconds, steps) to 1.25x, or (None, None)."""
    schedule = dv.linear_schedule(1000)
    metric_key = jax.random.key(123)
    graphdef, params = dv.init_denoiser(jax.random.key(seed), config)
    lr = optax.warmup_cosine_decay_schedule(0.0, args.lr, 200, args.decay_steps, args.lr * 0.05)
    opt = optax.adam(lr)
    step = make_step(method, graphdef, schedule, opt, args.ema)
    state = dv.init_train_state(params, opt)

    def evaluate(key, params):
        if method == "eps":
            return evaluate_eps(key, graphdef, params, schedule, sampler, metric_key, (-4.0, 4.0))
        return evaluate_fm(key, graphdef, params, sampler, metric_key)

    # compile outside the clock, on a throw-away state
    dv.fit(jax.random.key(99), step, state, sampler, batch_size=args.batch, num_steps=args.chunk, steps_per_call=args.chunk, progress=False)
    evaluate(jax.random.key(98), state.ema_params)

    clock, steps, key = 0.0, 0, jax.random.key(1000 + seed)
    print(f"\n{name}, {method}, seed {seed}: noise floor SW1 = {floor:.4f}")
    print(f"{'train s':>8} {'steps':>7} {'SW1':>8} {'ratio':>6}")
    for target_time in [c for c in args.checkpoints if c <= args.budget]:
        while clock < target_time:
            key, sub = jax.random.split(key)
            t0 = time.perf_counter()
            state, _ = dv.fit(sub, step, state, sampler, batch_size=args.batch, num_steps=args.chunk, steps_per_call=args.chunk, progress=False)
            jax.block_until_ready(state)
            clock += time.perf_counter() - t0
            steps += args.chunk
        ratio = evaluate(jax.random.fold_in(key, 1), state.ema_params) / floor
        print(f"{clock:>8.1f} {steps:>7d} {ratio * floor:>8.4f} {ratio:>6.2f}", flush=True)
        if ratio <= 1.25:
            return clock, steps, (graphdef, state.ema_params)
    return None, None, (graphdef, state.ema_params)


def part_time(args, config):
    summary = []
    for name in args.datasets:
        sampler = dv.TOY_DATASETS_2D[name]
        floor = dv.noise_floor(jax.random.key(7), functools.partial(dv.sliced_wasserstein, jax.random.key(123)), sampler, N_EVAL, repeats=5)
        rows = {"eps": [], "fm": []}
        for seed in range(args.seeds):
            for method in ("eps", "fm"):
                secs, steps, _ = run(method, name, sampler, config, args, seed, floor)
                rows[method].append((secs, steps))
        for method, label in (("eps", "eps-prediction + DDPM 1000"), ("fm", "flow matching + Euler 1000")):
            shown = ", ".join("-" if s is None else f"{s:.1f} s ({n} steps)" for s, n in rows[method])
            summary.append(f"{name}, {label}: by seed {shown}")
        both = [(e[0], f[0]) for e, f in zip(rows["eps"], rows["fm"]) if e[0] is not None and f[0] is not None]
        if both:
            ratios = [e / f for e, f in both]
            summary.append(f"{name}: eps time / FM time by seed {', '.join(f'{r:.2f}' for r in ratios)}; median {np.median(ratios):.2f}")
    print("\n" + "\n".join(summary), flush=True)


def nfe_row(label, v_fn, sampler, dim, n, seeds, floor, metric):
    cells = []
    for nfe in NFE_LIST:
        vals = []
        for r in range(seeds):
            res = dv.flow_sample(jax.random.key(100 + r), v_fn, (n, dim), dv.flow_time_grid(nfe), method="euler")
            assert res.nfe == nfe
            vals.append(float(metric(res.samples, sampler(jax.random.key(200 + r), n))))
        cells.append(np.mean(vals) / floor)
    print(f"  {label:36s} NFE {' / '.join(map(str, NFE_LIST))}: {' / '.join(f'{c:.2f}' for c in cells)}", flush=True)


def part_nfe(args, config):
    metric = functools.partial(dv.sliced_wasserstein, jax.random.key(1))
    n = 4000
    print("\nRectified-flow Euler, SW1 / noise floor (mean over seeds)")
    for name, mix in (("bimodal (1-D)", dv.mixture_1d("bimodal")), ("eight Gaussians", dv.eight_gaussians_mixture())):
        sampler = lambda k, m, mix=mix: dv.sample_mixture(k, mix, m)
        floor = dv.noise_floor(jax.random.key(2), metric, sampler, n, repeats=40)
        print(f"{name}: noise floor {floor:.4f} (n = {n}, {args.nfe_seeds} seeds)")
        nfe_row("exact velocity, Euler", dv.exact_velocity_fn(mix), sampler, mix.dim, n, args.nfe_seeds, floor, metric)
    # a trained flow-matching model on two moons
    sampler = dv.sample_moons
    graphdef, params = dv.init_denoiser(jax.random.key(0), config)
    lr = optax.warmup_cosine_decay_schedule(0.0, args.lr, 200, args.decay_steps, args.lr * 0.05)
    opt = optax.adam(lr)
    step = make_step("fm", graphdef, None, opt, args.ema)
    state = dv.init_train_state(params, opt)
    state, _ = dv.fit(jax.random.key(1), step, state, sampler, batch_size=args.batch, num_steps=args.nfe_train_steps, steps_per_call=args.chunk, progress=False)
    floor = dv.noise_floor(jax.random.key(7), metric, sampler, N_EVAL, repeats=5)
    print(f"two moons, flow-matching model after {args.nfe_train_steps} steps: noise floor {floor:.4f} (n = {N_EVAL}, 3 seeds)")
    nfe_row("trained FM model, Euler", dv.model_velocity_fn(graphdef, state.ema_params), sampler, 2, N_EVAL, 3, floor, metric)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", nargs="+", default=["time", "nfe"], choices=["time", "nfe"])
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--checkpoints", type=float, nargs="+", default=[2.5, 5, 7.5, 10, 15, 20, 30, 45, 60])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--decay-steps", type=int, default=10_000)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--datasets", nargs="+", default=["two moons"])
    p.add_argument("--nfe-seeds", type=int, default=8)
    p.add_argument("--nfe-train-steps", type=int, default=6000)
    args = p.parse_args()
    config = dv.DenoiserConfig(dim=2, width=64, depth=3, time_dim=32, input_dim=16)
    print(describe())
    print(f"config: {config}; batch {args.batch}, Adam peak lr {args.lr} (warm-up 200, cosine to {args.decay_steps}), EMA {args.ema}")
    if "nfe" in args.part:
        part_nfe(args, config)
    if "time" in args.part:
        part_time(args, config)


if __name__ == "__main__":
    main()
