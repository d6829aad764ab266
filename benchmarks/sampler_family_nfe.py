"""The sampler family against NFE: DDPM, DDIM, ODE-Heun and the reverse SDE, oracle and trained (issue 17).

Sliced W1 between a sampler's output and a fresh data sample (n points), averaged over
--seeds seeds, divided by the noise floor (two data samples of the same size, averaged over
40 pairs), at NFE 10, 20, 50, 100 and 1000, linear schedule T = 1000:

* DDPM (ancestral): ``dv.ddpm_sample`` at NFE 1000; below that, ancestral steps on the strided
  grid of ``dv.ddim_timesteps``, i.e. ``dv.ddim_sample(eta=1)`` (at 1000 steps that is DDPM
  with the beta-tilde variance);
* DDIM: ``dv.ddim_sample(eta=0)`` with NFE steps;
* ODE-Heun: ``dv.ode_sample`` with NFE/2 Heun steps, uniform grid from t = 1 to 1e-3, and the
  same on ``dv.power_time_grid`` (denser near the data);
* reverse SDE: ``dv.sde_sample`` (Euler-Maruyama) with NFE steps on the uniform grid.

"oracle": the exact eps* of the mixture (discrete ``dv.exact_eps_fn`` for DDPM/DDIM,
continuous ``dv.continuous_exact_eps_fn`` for the ODE/SDE), so only the solver errs; on the
1-D bimodal mixture and the eight Gaussians. "trained": the default denoiser (width 64, depth
3) trained --train-steps steps (batch 256, Adam 2e-3 with warm-up and cosine decay, EMA
0.999) on the same two plus the swiss roll and two moons; no clipping of x0 anywhere, so
every sampler sees the same network. Rectified-flow Euler rows come from the flow-matching
benchmark.

    nice .venv/bin/python benchmarks/sampler_family_nfe.py [--n 4000] [--seeds 6] [--train-steps 10000]
"""

from __future__ import annotations

import argparse
import functools
import time

import jax
import numpy as np
from machine import describe

import diffviz as dv

NFES = (10, 20, 50, 100, 1000)


def samplers(schedule):
    """name -> run(key, eps_discrete, eps_continuous, shape, nfe) -> samples."""

    def ddpm(k, ed, ec, shape, nfe):
        if nfe == schedule.T:
            return dv.ddpm_sample(k, ed, schedule, shape)
        return dv.ddim_sample(k, ed, schedule, shape, num_steps=nfe, eta=1.0)

    def ddim(k, ed, ec, shape, nfe):
        return dv.ddim_sample(k, ed, schedule, shape, num_steps=nfe, eta=0.0)

    def heun(k, ed, ec, shape, nfe):
        out = dv.ode_sample(k, ec, schedule, shape, dv.uniform_time_grid(nfe // 2))
        assert out.nfe == nfe
        return out.samples

    def heun_power(k, ed, ec, shape, nfe):
        out = dv.ode_sample(k, ec, schedule, shape, dv.power_time_grid(nfe // 2))
        assert out.nfe == nfe
        return out.samples

    def sde(k, ed, ec, shape, nfe):
        out = dv.sde_sample(k, ec, schedule, shape, dv.uniform_time_grid(nfe))
        assert out.nfe == nfe
        return out.samples

    return {"DDPM (ancestral)": ddpm, "DDIM (eta 0)": ddim, "ODE-Heun": heun, "ODE-Heun, power grid": heun_power, "reverse SDE": sde}


def train(key, sampler, dim, schedule, num_steps):
    config = dv.DenoiserConfig(dim=dim, width=64, depth=3, time_dim=32, input_dim=16)
    k_init, k_fit = jax.random.split(key)
    graphdef, params = dv.init_denoiser(k_init, config)
    opt = dv.adam(dv.warmup_cosine(2e-3, 200, num_steps))
    step = dv.make_train_step(graphdef, schedule, opt, ema_decay=0.999)
    state, _ = dv.fit(k_fit, step, dv.init_train_state(params, opt), sampler, batch_size=256, num_steps=num_steps,
                      steps_per_call=500, progress=False)  # fmt: skip
    return graphdef, state.ema_params


def table(name, sampler, dim, ed, ec, schedule, args, metric):
    floor = dv.noise_floor(jax.random.key(2), metric, sampler, args.n, repeats=40)
    print(f"\n{name}: noise floor {floor:.4f}; SW1 / floor at NFE {' / '.join(map(str, NFES))} (seconds per run at NFE 1000)")
    rows = {}
    for label, run in samplers(schedule).items():
        ratios, secs = [], 0.0
        for nfe in NFES:
            vals = []
            for r in range(args.seeds):
                t0 = time.perf_counter()
                x = jax.block_until_ready(run(jax.random.key(100 + r), ed, ec, (args.n, dim), nfe))
                if nfe == 1000:
                    secs = time.perf_counter() - t0
                vals.append(float(metric(x, sampler(jax.random.key(200 + r), args.n))))
            ratios.append(np.mean(vals) / floor)
        rows[label] = ratios
        print(f"  {label:22s} " + " / ".join(f"{q:.2f}" for q in ratios) + f"   ({secs:.2f} s)", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--train-steps", type=int, default=10_000)
    parser.add_argument("--only", nargs="*", default=None, help="oracle and/or trained")
    args = parser.parse_args()
    print(describe())
    schedule = dv.linear_schedule(1000)
    metric = functools.partial(dv.sliced_wasserstein, jax.random.key(1))
    print(f"n = {args.n}, {args.seeds} seeds, linear schedule T = 1000")
    bimodal, eight = dv.mixture_1d("bimodal"), dv.eight_gaussians_mixture()
    mixtures = {"bimodal (1-D)": bimodal, "eight Gaussians": eight}
    parts = args.only or ["oracle", "trained"]
    if "oracle" in parts:
        print("\n=== exact oracle ===")
        for name, mix in mixtures.items():
            sampler = lambda k, m, mix=mix: dv.sample_mixture(k, mix, m)
            table(name, sampler, mix.dim, dv.exact_eps_fn(schedule, mix), dv.continuous_exact_eps_fn(schedule, mix), schedule, args, metric)
    if "trained" in parts:
        print(f"\n=== trained denoiser (width 64, depth 3, {args.train_steps} steps, EMA weights) ===")
        data = {name: (lambda k, m, mix=mix: dv.sample_mixture(k, mix, m), mix.dim) for name, mix in mixtures.items()}
        data["swiss roll"] = (dv.sample_swiss_roll, 2)
        data["two moons"] = (dv.sample_moons, 2)
        for i, (name, (sampler, dim)) in enumerate(data.items()):
            t0 = time.perf_counter()
            graphdef, params = train(jax.random.key(10 + i), sampler, dim, schedule, args.train_steps)
            print(f"\n{name}: trained in {time.perf_counter() - t0:.1f} s")
            ed, ec = dv.model_eps_fn(graphdef, params), dv.continuous_model_eps_fn(graphdef, params, schedule.T)
            table(name, sampler, dim, ed, ec, schedule, args, metric)


if __name__ == "__main__":
    main()
