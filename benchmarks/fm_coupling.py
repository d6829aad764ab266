"""Flow matching trained with independent against minibatch-OT pairs: cost per step, straightness, few-step quality.

Chapter 12 shows that the minibatch optimal-transport pairing (``dv.ot_pairing``) shortens and
uncrosses the lines of one batch. This measures what *training* with it does. On the eight
Gaussians (an exact mixture: the exact velocity ``dv.exact_velocity_fn`` is the reference) and
two moons, the same network (``fm_vs_eps.py``'s: width 64, depth 3, Adam with warm-up and
cosine decay to the last step, EMA of the weights) is trained with the linear interpolant and
``dv.flow_matching_objective(coupling="independent")`` or ``coupling="minibatch_ot"``, with
the same steps, batch size and seeds; for each seed the two runs are interleaved, so they share
the machine's load. For each trained field (EMA weights):

* training seconds per 1,000 steps (``fit`` in 500-step chunks, compiled off the clock; OT
  adds a host-side SciPy assignment of the batch every step);
* the straightness ``dv.flow_straightness`` (2,000 paths, 100 Euler steps; 0 = straight);
* SW1 of ``N_EVAL`` Euler samples (``dv.flow_sample(..., method="euler")`` on
  ``dv.flow_time_grid(nfe)``) against as many fresh data points, over the data-vs-data noise
  floor, at NFE 1, 2, 4, 8, 16, 64.

Run:  nice .venv/bin/python benchmarks/fm_coupling.py [--steps 3000] [--seeds 3] [--batch 256] [--quick]
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

import diffviz as dv

NFE_LIST = (1, 2, 4, 8, 16, 64)
COUPLINGS = ("independent", "minibatch_ot")


def measure(v_fn, sampler, metric, floor, n_eval: int) -> tuple[float, list[float]]:
    """(straightness, [SW1 / floor at each NFE]) of the field ``v_fn``; fixed keys, so every field sees the same noise."""
    s = float(dv.flow_straightness(jax.random.key(11), v_fn, (2000, 2), dv.flow_time_grid(100)))
    data = sampler(jax.random.key(12), n_eval)
    ratios = []
    for nfe in NFE_LIST:
        res = dv.flow_sample(jax.random.key(13), v_fn, (n_eval, 2), dv.flow_time_grid(nfe), method="euler")
        assert res.nfe == nfe
        ratios.append(float(metric(res.samples, data)) / floor)
    return s, ratios


def train(step, state, sampler, args, seed: int):
    """Train ``args.steps`` steps in ``args.chunk``-step calls; return (state, seconds on the clock)."""
    clock, key = 0.0, jax.random.key(1000 + seed)
    for _ in range(args.steps // args.chunk):
        key, sub = jax.random.split(key)
        t0 = time.perf_counter()
        state, _ = dv.fit(sub, step, state, sampler, batch_size=args.batch, num_steps=args.chunk, steps_per_call=args.chunk, progress=False)
        jax.block_until_ready(state)
        clock += time.perf_counter() - t0
    return state, clock


def fmt(label: str, secs, s: float, ratios) -> str:
    per_k = "-" if secs is None else f"{secs:.2f}"
    return f"  {label:34s} {per_k:>9s} {s:>9.4f}   " + " / ".join(f"{r:5.2f}" for r in ratios)


def run_dataset(name, sampler, mix, config, args):
    metric = functools.partial(dv.sliced_wasserstein, jax.random.key(1))
    floor = dv.noise_floor(jax.random.key(7), metric, sampler, args.n_eval, repeats=5)
    print(f"\n{name}: noise floor SW1 {floor:.4f} (n = {args.n_eval}); {args.steps} steps, batch {args.batch}, {args.seeds} seeds", flush=True)
    print(f"  {'field':34s} {'s/1k st':>9s} {'straight':>9s}   SW1 / floor at NFE {' / '.join(map(str, NFE_LIST))}")
    lr = optax.warmup_cosine_decay_schedule(0.0, args.lr, 200, args.steps, args.lr * 0.05)
    opt = optax.adam(lr)
    graphdef, _ = dv.init_denoiser(jax.random.key(0), config)
    steps = {c: dv.make_train_step(graphdef, None, opt, ema_decay=args.ema, loss=dv.flow_matching_objective(coupling=c)) for c in COUPLINGS}
    for c in COUPLINGS:  # compile off the clock, on a throw-away state
        _, params = dv.init_denoiser(jax.random.key(0), config)
        dv.fit(jax.random.key(99), steps[c], dv.init_train_state(params, opt), sampler, batch_size=args.batch, num_steps=args.chunk, steps_per_call=args.chunk, progress=False)
    if mix is not None:
        s, ratios = measure(dv.exact_velocity_fn(mix), sampler, metric, floor, args.n_eval)
        print(fmt("exact velocity (independent pairs)", None, s, ratios), flush=True)
    results = {c: [] for c in COUPLINGS}
    for seed in range(args.seeds):
        for c in COUPLINGS:
            _, params = dv.init_denoiser(jax.random.key(seed), config)
            state, secs = train(steps[c], dv.init_train_state(params, opt), sampler, args, seed)
            s, ratios = measure(dv.model_velocity_fn(graphdef, state.ema_params), sampler, metric, floor, args.n_eval)
            per_k = secs / args.steps * 1000
            results[c].append((per_k, s, ratios))
            print(fmt(f"{c}, seed {seed}", per_k, s, ratios), flush=True)
    for c in COUPLINGS:
        per_k = [r[0] for r in results[c]]
        s = [r[1] for r in results[c]]
        ratios = np.mean([r[2] for r in results[c]], axis=0)
        print(fmt(f"{c}, mean of {args.seeds} seeds", float(np.mean(per_k)), float(np.mean(s)), ratios), flush=True)
        print(f"  {'':34s} range s/1k {min(per_k):.2f}-{max(per_k):.2f}, straightness {min(s):.4f}-{max(s):.4f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000, help="training steps per run (a multiple of --chunk)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--n-eval", type=int, default=N_EVAL)
    p.add_argument("--datasets", nargs="+", default=["eight Gaussians", "two moons"], choices=["eight Gaussians", "two moons"])
    p.add_argument("--quick", action="store_true", help="1 seed, 1,000 steps, n = 4,000: a smoke run (~1 min)")
    args = p.parse_args()
    if args.quick:
        args.seeds, args.steps, args.n_eval = 1, 1000, 4000
    if args.steps % args.chunk:
        p.error(f"--steps must be a multiple of --chunk ({args.chunk}); got {args.steps}")
    config = dv.DenoiserConfig(dim=2, width=64, depth=3, time_dim=32, input_dim=16)
    print(describe())
    print(f"config: {config}; batch {args.batch}, Adam peak lr {args.lr} (warm-up 200, cosine to {args.steps}), EMA {args.ema}; linear interpolant")
    mix = dv.eight_gaussians_mixture()
    toys = {"eight Gaussians": (lambda k, m: dv.sample_mixture(k, mix, m), mix), "two moons": (dv.sample_moons, None)}
    for name in args.datasets:
        run_dataset(name, *toys[name], config, args)


if __name__ == "__main__":
    main()
