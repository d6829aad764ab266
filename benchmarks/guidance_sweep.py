"""Guidance with the exact oracle: fidelity, diversity and the gap to the tilted density (issue 17).

Class 0 of ``labelled_toy("eight_gaussians")`` (three overlapping modes at 0, 45 and 90
degrees), classifier-free guidance with the exact eps* (for the oracle the classifier-guided
field is the same), at w = 0, 1, 3, 7, sampled two ways: ancestral DDPM (T = 1000 steps) and
the probability-flow ODE (Heun, power_time_grid(50), NFE 100). For each: the readouts of
``guidance_readout`` (mean log p(x | c), share on class, modes covered, spread), and the gap to
the tilted density p(x|c)^(1+w) p(x)^(-w) / Z on a 200 x 200 grid (``tilted_gap``: sliced W1
and total variation over 20 x 20 bins, each with the floor of an exact sample of the same
size), averaged over --seeds seeds. The last rows of each w are the tilted density's own
readouts (a sample of it), for comparison.

    .venv/bin/python benchmarks/guidance_sweep.py [--n 4000] [--seeds 3]
"""

import argparse
import time

import jax
import numpy as np

import diffviz as dv


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    schedule, n, c = dv.linear_schedule(1000), args.n, 0
    lmix = dv.labelled_toy("eight_gaussians")
    samplers = {
        "ddpm (1000 steps)": lambda k, w: dv.ddpm_sample(k, dv.guided_eps_fn(schedule, lmix, c, w), schedule, (n, 2)),
        "ode heun (NFE 100)": lambda k, w: dv.ode_sample(
            k, dv.continuous_guided_eps_fn(schedule, lmix, c, w), schedule, (n, 2), dv.power_time_grid(50)
        ).samples,
        "tilted (exact)": None,
    }
    print(f"class {c} of eight_gaussians, n = {n}, mean of {args.seeds} seeds")
    header = f"{'w':>3} {'sampler':<19} {'log p(x|c)':>10} {'on class':>8} {'modes':>6} {'spread':>6} {'SW1':>6} {'floor':>6} {'TV':>6} {'floor':>6} {'s/run':>6}"
    print(header)
    for w in (0.0, 1.0, 3.0, 7.0):
        tilted = dv.tilted_density(lmix, c, w)
        for name, run in samplers.items():
            rows, seconds = [], []
            for seed in range(args.seeds):
                key = jax.random.key(100 * seed + 1)
                start = time.perf_counter()
                x = dv.sample_grid_density(key, tilted, n) if run is None else run(key, w)
                x = np.asarray(x)
                seconds.append(time.perf_counter() - start)
                r = dv.guidance_readout(lmix, x, c)
                g = dv.tilted_gap(jax.random.key(7 + seed), x, tilted)
                rows.append([float(q) for q in (*r, g.sw1, g.sw1_floor, g.tv, g.tv_floor)])
            m = np.mean(rows, axis=0)
            t = np.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
            print(f"{w:>3.0f} {name:<19} {m[0]:>10.3f} {m[1]:>8.3f} {m[2]:>6.2f} {m[3]:>6.3f} {m[4]:>6.3f} {m[5]:>6.3f} {m[6]:>6.3f} {m[7]:>6.3f} {t:>6.2f}")


if __name__ == "__main__":
    main()
