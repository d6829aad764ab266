"""Time to quality: training seconds until samples are as close to the data as fresh data is.

For each 2-D toy (swiss roll, two moons) we train the default denoiser (T = 1000, linear
schedule, EMA of the weights) and, at a few points of the training clock, draw 10,000
samples with 1000-step DDPM ancestral sampling from the EMA weights (the x0 estimate clipped
to [-4, 4], which stops the rare runaway sample; ``--no-clip`` turns it off) and measure
the sliced Wasserstein-1 distance to 10,000 fresh data points. The target is a ratio of at most 1.25
to the data-vs-data noise floor (the same metric between two independent draws of 10,000
data points). Only training time is on the clock; evaluation is not.

One run is one draw: a change in the last bits of the arithmetic (or another seed) moves the
time a toy needs by a checkpoint or two, so each toy is trained from several seeds (the seed
picks the initial weights, the training noise and the evaluation draw) and the summary line
gives every seed's time and the slowest.

Run:  .venv/bin/python benchmarks/time_to_quality.py [--seeds 3] [--budget 60] [--width 64 ...]
"""

from __future__ import annotations

import argparse
import functools
import time

import jax
import optax
from machine import describe

import diffviz as dv

N_EVAL = 10_000


def evaluate(key, graphdef, params, schedule, sampler, metric_key, clip_x0) -> float:
    k_s, k_d = jax.random.split(key)
    samples = dv.ddpm_sample(k_s, dv.model_eps_fn(graphdef, params), schedule, (N_EVAL, 2), clip_x0=clip_x0)
    data = sampler(k_d, N_EVAL)
    return float(dv.sliced_wasserstein(metric_key, samples, data))


def run(name, sampler, config, args, seed: int) -> float | None:
    """Train from ``seed``; print the checkpoints; return the training seconds to 1.25x, or None."""
    schedule = dv.linear_schedule(1000)
    metric_key = jax.random.key(123)
    floor = dv.noise_floor(jax.random.key(7), functools.partial(dv.sliced_wasserstein, metric_key), sampler, N_EVAL, repeats=5)
    graphdef, params = dv.init_denoiser(jax.random.key(seed), config)
    lr = optax.warmup_cosine_decay_schedule(0.0, args.lr, 200, args.decay_steps, args.lr * 0.05)
    opt = optax.adam(lr)
    step = dv.make_train_step(graphdef, schedule, opt, ema_decay=args.ema)
    state = dv.init_train_state(params, opt)
    # Compile outside the clock (a notebook reader pays this once: ~1-2 s).
    dv.fit(jax.random.key(99), step, state, sampler, batch_size=args.batch, num_steps=args.chunk, steps_per_call=args.chunk, progress=False)
    evaluate(jax.random.key(98), graphdef, state.ema_params, schedule, sampler, metric_key, args.clip_x0)

    clock, steps, key = 0.0, 0, jax.random.key(1000 + seed)
    checkpoints = [c for c in args.checkpoints if c <= args.budget]
    print(f"\n{name}, seed {seed}: {dv.count_params(params)} params, noise floor SW1 = {floor:.4f}")
    print(f"{'train s':>8} {'steps':>7} {'SW1':>8} {'ratio':>6}")
    reached = None
    for target_time in checkpoints:
        while clock < target_time:
            key, sub = jax.random.split(key)
            t0 = time.perf_counter()
            state, _ = dv.fit(sub, step, state, sampler, batch_size=args.batch, num_steps=args.chunk, steps_per_call=args.chunk, progress=False)
            jax.block_until_ready(state)  # on a GPU the steps run asynchronously
            clock += time.perf_counter() - t0
            steps += args.chunk
        sw = evaluate(jax.random.fold_in(key, 1), graphdef, state.ema_params, schedule, sampler, metric_key, args.clip_x0)
        ratio = sw / floor
        print(f"{clock:>8.1f} {steps:>7d} {sw:>8.4f} {ratio:>6.2f}")
        if ratio <= 1.25 and reached is None:
            reached = clock
            break
    print(f"{name}, seed {seed}: " + (f"within 1.25x of the floor after {reached:.1f} s of training" if reached else f"not within 1.25x in {args.budget} s"))
    return reached


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--checkpoints", type=float, nargs="+", default=[2.5, 5, 7.5, 10, 15, 20, 30, 45, 60])
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--input-dim", type=int, default=16)
    p.add_argument("--time-dim", type=int, default=32)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--decay-steps", type=int, default=10_000)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--clip-x0", type=float, nargs=2, default=[-4.0, 4.0], help="the sampler's clip_x0 (the toys lie within +-2.4)")
    p.add_argument("--no-clip", action="store_true", help="sample without clipping the x0 estimate")
    p.add_argument("--datasets", nargs="+", default=["swiss roll", "two moons"])
    p.add_argument("--activation", default="gelu", choices=["gelu", "gelu_tanh", "relu"])
    args = p.parse_args()
    args.clip_x0 = None if args.no_clip else tuple(args.clip_x0)
    config = dv.DenoiserConfig(dim=2, width=args.width, depth=args.depth, time_dim=args.time_dim, input_dim=args.input_dim,
                               activation=args.activation)  # fmt: skip
    print(describe())  # CPU model; JAX's devices (a GPU when one is there and the gpu extra is installed)
    print(f"config: {config}; batch {args.batch}, Adam peak lr {args.lr} (warm-up 200, cosine to {args.decay_steps}), EMA {args.ema}; DDPM clip_x0 {args.clip_x0}")
    summary = []
    for name in args.datasets:
        times = [run(name, dv.TOY_DATASETS_2D[name], config, args, seed) for seed in range(args.seeds)]
        shown = ", ".join("-" if t is None else f"{t:.1f}" for t in times)
        worst = "not reached in every seed" if None in times else f"slowest {max(times):.1f} s"
        summary.append(f"{name}: seconds to 1.25x by seed {shown}; {worst}")
    print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
