"""Quality against NFE of the continuous-time samplers with the exact oracle (issue 17).

Sliced W1 between the sampler's output and a fresh data sample, averaged over --seeds seeds,
divided by the noise floor (two data samples of the same size, averaged over 40 pairs), for
ODE-Heun (uniform and power_time_grid grids) and ODE-Euler at NFE 10, 20, 50, 100, the reverse SDE and predictor-corrector, on
the 1-D bimodal mixture and the eight Gaussians, linear schedule T = 1000, uniform time grid
from t = 1 to t_min = 1e-3. Target: Heun at NFE <= 50 within 1.25x the floor on both.

    .venv/bin/python benchmarks/continuous_oracle_nfe.py [--n 4000] [--seeds 8]
"""

import argparse
import functools
import time

import jax
import numpy as np

import diffviz as dv


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    schedule, n = dv.linear_schedule(1000), args.n
    metric = functools.partial(dv.sliced_wasserstein, jax.random.key(1))
    runs = [("ode-heun", nfe, lambda k, e, s, nfe=nfe: dv.ode_sample(k, e, schedule, s, dv.uniform_time_grid(nfe // 2))) for nfe in (10, 20, 50, 100)]
    runs += [("ode-heun, power grid", nfe, lambda k, e, s, nfe=nfe: dv.ode_sample(k, e, schedule, s, dv.power_time_grid(nfe // 2))) for nfe in (10, 20, 50, 100)]
    runs += [("ode-euler", nfe, lambda k, e, s, nfe=nfe: dv.ode_sample(k, e, schedule, s, dv.uniform_time_grid(nfe), method="euler")) for nfe in (10, 20, 50, 100)]
    runs += [("reverse-sde", nfe, lambda k, e, s, nfe=nfe: dv.sde_sample(k, e, schedule, s, dv.uniform_time_grid(nfe))) for nfe in (50, 100, 1000)]
    runs += [("pc (1 corrector)", nfe, lambda k, e, s, nfe=nfe: dv.pc_sample(k, e, schedule, s, dv.uniform_time_grid(nfe // 2))) for nfe in (100, 1000)]
    print(f"n = {n}, {args.seeds} seeds; SW1 / noise floor (mean over seeds), seconds per run after the first")
    for name, mix in (("bimodal (1-D)", dv.mixture_1d("bimodal")), ("eight Gaussians", dv.eight_gaussians_mixture())):
        sampler = lambda k, m, mix=mix: dv.sample_mixture(k, mix, m)
        floor = dv.noise_floor(jax.random.key(2), metric, sampler, n, repeats=40)
        eps_fn = dv.continuous_exact_eps_fn(schedule, mix)
        print(f"\n{name}: noise floor {floor:.4f}")
        for label, nfe, run in runs:
            vals, secs = [], []
            for r in range(args.seeds):
                t0 = time.perf_counter()
                out = run(jax.random.key(100 + r), eps_fn, (n, mix.dim))
                out.samples.block_until_ready()
                secs.append(time.perf_counter() - t0)
                assert out.nfe == nfe
                vals.append(float(metric(out.samples, sampler(jax.random.key(200 + r), n))))
            print(f"  {label:20s} NFE {nfe:5d}: {np.mean(vals) / floor:5.2f}x floor  ({np.median(secs[1:]):.3f} s)")


if __name__ == "__main__":
    main()
