"""Sampling: 10,000 points with 1000-step DDPM and with 50-step DDIM, time and quality.

The default denoiser is trained briefly on two moons (the same recipe as the
time-to-quality benchmark), then sampled. Time is compared with the FLOP-bound time: the
network's matmul FLOPs (2 x MACs per example per step) at this machine's float32 matmul
rate (a 2048^3 product in JAX). Quality is sliced-W1 to fresh data, next to the noise floor.
"DDPM clip x0" is the beta sampler with the x0 estimate clipped to [-4, 4] (``clip_x0``).

This machine's speed drifts by 10-25% from minute to minute, so the matmul rate is measured
again in every round, just before the samplers run, and each round gives its own ratio;
the table shows the median over the rounds (and the range of the ratio).

Run:  .venv/bin/python benchmarks/sampling_speed.py [--train-steps 8000] [--rounds 5] [--activation relu]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import jax
import optax
from machine import describe
from train_throughput import sgemm_gflops

import diffviz as dv

N = 10_000


def macs_per_example(c: dv.DenoiserConfig) -> int:
    """Matmul MACs per sample per step. A sampler calls the network with one t for the whole
    batch, and the network embeds that t (and multiplies it into the first layer) once per
    step, so the time embedding's share is not counted per sample (it is 1/N of a sample)."""
    n_x = c.dim * c.input_dim if c.input_dim else c.dim
    return n_x * c.width + c.depth * c.width * c.width + c.width * c.dim


def seconds(fn) -> float:
    t0 = time.perf_counter()
    fn().block_until_ready()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-steps", type=int, default=8000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--input-dim", type=int, default=16)
    p.add_argument("--activation", default="gelu", choices=["gelu", "gelu_tanh", "relu"])
    args = p.parse_args()
    print(describe())  # CPU model; JAX's devices (a GPU when one is there and the gpu extra is installed)
    config = dv.DenoiserConfig(dim=2, width=args.width, input_dim=args.input_dim, activation=args.activation)
    schedule = dv.linear_schedule(1000)
    sampler = dv.sample_moons
    graphdef, params = dv.init_denoiser(jax.random.key(0), config)
    opt = optax.adam(optax.warmup_cosine_decay_schedule(0.0, 2e-3, 200, 10_000, 1e-4))
    step = dv.make_train_step(graphdef, schedule, opt, ema_decay=0.999)
    state, _ = dv.fit(jax.random.key(1), step, dv.init_train_state(params, opt), sampler, batch_size=256, num_steps=args.train_steps, steps_per_call=500, progress=False)
    eps_fn = dv.model_eps_fn(graphdef, state.ema_params)

    metric = functools.partial(dv.sliced_wasserstein, jax.random.key(123))
    floor = dv.noise_floor(jax.random.key(7), metric, sampler, N, repeats=5)
    data = sampler(jax.random.key(8), N)
    cases = [
        ("DDPM beta", 1000, lambda: dv.ddpm_sample(jax.random.key(2), eps_fn, schedule, (N, 2))),
        ("DDPM beta~", 1000, lambda: dv.ddpm_sample(jax.random.key(2), eps_fn, schedule, (N, 2), variance="beta_tilde")),
        ("DDPM clip x0", 1000, lambda: dv.ddpm_sample(jax.random.key(2), eps_fn, schedule, (N, 2), clip_x0=(-4.0, 4.0))),
        ("DDIM eta=0", 50, lambda: dv.ddim_sample(jax.random.key(2), eps_fn, schedule, (N, 2), num_steps=50)),
        ("DDPM-like DDIM", 50, lambda: dv.ddim_sample(jax.random.key(2), eps_fn, schedule, (N, 2), num_steps=50, eta=1.0)),
    ]
    quality = [float(metric(fn(), data)) for _, _, fn in cases]  # also compiles every sampler
    flops_per_step = 2 * macs_per_example(config) * N
    times = {name: [] for name, _, _ in cases}
    ratios = {name: [] for name, _, _ in cases}
    peaks = []
    for _ in range(args.rounds):
        peaks.append(sgemm_gflops(repeats=3))
        for name, steps, fn in cases:
            times[name].append(seconds(fn))
            ratios[name].append(times[name][-1] / (flops_per_step * steps / (peaks[-1] * 1e9)))
    peak = statistics.median(peaks)
    print(f"model {config}: {dv.count_params(params)} params, {macs_per_example(config)} MACs/example")
    print(f"matmul rate {peak:.0f} GFLOP/s (median of {args.rounds} rounds, {min(peaks):.0f}-{max(peaks):.0f}); noise floor SW1 (10k vs 10k data) = {floor:.4f}")
    print(f"{'sampler':>14} {'steps':>6} {'seconds':>8} {'FLOP-bound s':>13} {'ratio':>6} {'(range)':>11} {'SW1':>8} {'x floor':>8}")
    for (name, steps, _), sw in zip(cases, quality):
        bound = flops_per_step * steps / (peak * 1e9)
        r = ratios[name]
        print(f"{name:>14} {steps:>6} {statistics.median(times[name]):>8.2f} {bound:>13.2f} {statistics.median(r):>6.2f} "
              f"{f'{min(r):.2f}-{max(r):.2f}':>11} {sw:>8.4f} {sw / floor:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
