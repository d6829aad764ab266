"""Did a refactor change the speed? The same timings for two checkouts, interleaved, on one machine.

Speed figures on this project's machines are only ratios measured in one run (the CPU model and
its load change between sessions), so a reorganisation of the package is checked by timing the
old and the new code side by side: each round runs every case once under each checkout's
``diffviz`` (a subprocess with that checkout on ``PYTHONPATH``), alternating which goes first,
and the script prints the median time of each and the ratio new / old with its per-round range.

Cases (the package's public API only, which both checkouts share):
  * ``fit`` at batch 32 and at batch 2048: 1,000 training steps of chapter 6's 2-D model
    (steps/s; one compiled ``lax.scan`` call, compilation excluded);
  * ``ddpm_sample``: 10,000 points, 1000 steps (seconds, compilation excluded).

Run:  .venv/bin/python benchmarks/before_after.py OLD_CHECKOUT [NEW_CHECKOUT] [--rounds 5] [--cases fit_2048 ...]
(NEW_CHECKOUT defaults to this repository; make an old one with
``git worktree add --detach /tmp/old <commit>``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from machine import describe

ROOT = Path(__file__).resolve().parents[1]

# Runs inside a subprocess whose PYTHONPATH starts with one checkout; prints one JSON line.
CASE = r"""
import json, sys, time
import jax, jax.numpy as jnp, optax
import diffviz as dv
case = sys.argv[1]
config = dv.DenoiserConfig(dim=2, width=128, depth=3, time_dim=128, input_dim=128, input_scale=25.0)
schedule = dv.linear_schedule(1000)
graphdef, params = dv.init_denoiser(jax.random.key(0), config)
if case.startswith("fit"):
    batch, steps = int(case.split("_")[1]), 1000
    opt = optax.adam(1e-3)
    step = dv.make_train_step(graphdef, schedule, opt, ema_decay=0.999)
    state = dv.init_train_state(params, opt)
    data = dv.sample_moons(jax.random.key(3), 20_000)
    run = lambda k, s: dv.fit(k, step, s, data, batch_size=batch, num_steps=steps, steps_per_call=steps, progress=False)[0]
    state = jax.block_until_ready(run(jax.random.key(1), state))  # compile
    t0 = time.perf_counter()
    jax.block_until_ready(run(jax.random.key(2), state))
    print(json.dumps({"value": steps / (time.perf_counter() - t0), "unit": "steps/s", "file": dv.__file__}))
else:
    eps_fn = dv.model_eps_fn(graphdef, params)
    sample = lambda k: dv.ddpm_sample(k, eps_fn, schedule, (10_000, 2))
    jax.block_until_ready(sample(jax.random.key(1)))  # compile
    t0 = time.perf_counter()
    jax.block_until_ready(sample(jax.random.key(2)))
    print(json.dumps({"value": time.perf_counter() - t0, "unit": "s", "file": dv.__file__}))
"""

CASES = ("fit_32", "fit_2048", "ddpm_10k")


def measure(checkout: Path, case: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", CASE, case], cwd=checkout, env=env, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if not Path(result["file"]).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{case}: imported {result['file']}, not the checkout {checkout}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path, nargs="?", default=ROOT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    args = parser.parse_args()
    print(describe())
    print(f"old: {args.old}\nnew: {args.new}")
    print(f"{'case':>10} {'old':>10} {'new':>10} {'unit':>8} {'new/old':>8} {'(range)':>11}")
    for case in args.cases:
        values = {"old": [], "new": []}
        unit = ""
        for r in range(args.rounds):
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for which in order:
                result = measure(getattr(args, which), case)
                values[which].append(result["value"])
                unit = result["unit"]
        ratios = [n / o for n, o in zip(values["new"], values["old"])]
        old, new = statistics.median(values["old"]), statistics.median(values["new"])
        print(f"{case:>10} {old:>10.2f} {new:>10.2f} {unit:>8} {new / old:>8.3f} {f'{min(ratios):.2f}-{max(ratios):.2f}':>11}")


if __name__ == "__main__":
    main()
