"""Class-conditional 8x8 digits with classifier-free guidance: training time, class accuracy, diversity.

Trains the conditional denoiser (``DenoiserConfig(..., num_classes=10)``) on chapter 9's
training split with label dropout, samples every class at several guidance scales with DDIM,
and asks an independent classifier (scikit-learn's logistic regression, fitted on the real
training digits, checked on the held-out ones) which digit each sample shows. Prints, per
guidance scale ``w``: the share of samples classified as the asked-for digit, and the
diversity (mean pairwise Euclidean distance between samples of one class, averaged over the
classes, in model units; the real held-out digits' figure is printed beside it).

    .venv/bin/python benchmarks/digits_cfg.py                       # the recipe (benchmarks/README.md)
    .venv/bin/python benchmarks/digits_cfg.py --seeds 3 --scales 0 1 3 7 --figure /tmp/cfg.png
    .venv/bin/python benchmarks/digits_cfg.py --steps 3000 --lr 3e-3   # a longer run
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from machine import describe

import diffviz as dv


def split():
    pixels, labels = dv.load_digits()
    order = jax.random.permutation(jax.random.split(jax.random.key(9), 7)[0], pixels.shape[0])  # chapter 9's split (key_split)
    return (pixels[order[300:]], labels[order[300:]]), (pixels[order[:300]], labels[order[:300]])


def classifier(train, held_out):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000, C=1.0)
    clf.fit(np.asarray(train[0]), np.asarray(train[1]))
    return clf, float(clf.score(np.asarray(held_out[0]), np.asarray(held_out[1])))


def diversity(x, labels, num_classes=10):
    """Mean pairwise distance within each class, averaged over the classes."""
    x, labels = np.asarray(x, np.float64), np.asarray(labels)
    out = []
    for k in range(num_classes):
        xs = x[labels == k]
        if len(xs) < 2:
            continue
        d = np.sqrt(((xs[:, None] - xs[None]) ** 2).sum(-1))
        out.append(d[np.triu_indices(len(xs), 1)].mean())
    return float(np.mean(out))


def train_model(args, seed, train):
    schedule = dv.linear_schedule(1000)
    config = dv.DenoiserConfig(dim=64, width=args.width, depth=args.depth, time_dim=64, num_classes=10)
    graphdef, params = dv.init_denoiser(jax.random.key(1000 + seed), config)
    optimizer = dv.adam(dv.warmup_cosine(args.lr, min(200, args.steps // 10), args.steps))
    loss = dv.conditional_eps_objective(schedule, num_classes=10, p_uncond=args.p_uncond)
    step = dv.make_train_step(graphdef, schedule, optimizer, ema_decay=args.ema, loss=loss)
    state = dv.init_train_state(params, optimizer)
    t0, c0 = time.perf_counter(), time.process_time()
    state, losses = dv.fit(
        jax.random.key(2000 + seed), step, state, train, batch_size=args.batch, num_steps=args.steps,
        steps_per_call=args.steps_per_call, progress=False,
    )  # fmt: skip
    jax.block_until_ready(state.ema_params)
    return graphdef, state.ema_params, schedule, time.perf_counter() - t0, time.process_time() - c0, losses


def sample_sweep(key, graphdef, params, schedule, scales, per_class, num_steps):
    """``(S, 10 * per_class, 64)``: for each scale, ``per_class`` digits of every class (class-major).

    Every scale uses the same key, so row ``i`` starts from the same noise at every ``w``
    (one compilation: the labels and the scale are traced arguments of the predictor).
    """
    labels = jnp.repeat(jnp.arange(10), per_class)
    out = [
        dv.ddim_sample(key, dv.cfg_eps_fn(graphdef, params, labels, w), schedule, (labels.shape[0], 64),
                       num_steps=num_steps, clip_x0=(-1.0, 1.0))
        for w in scales
    ]  # fmt: skip
    return np.asarray(jnp.stack(out)), np.asarray(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--ema", type=float, default=0.995)
    parser.add_argument("--p-uncond", type=float, default=0.1)
    parser.add_argument("--steps-per-call", type=int, default=500)
    parser.add_argument("--ddim-steps", type=int, default=50)
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.0, 1.0, 3.0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--figure", default=None, help="save a samples-by-class grid (PNG) of the first seed")
    args = parser.parse_args()
    print(describe())
    print("load average:", os.getloadavg())
    train, held_out = split()
    clf, clf_acc = classifier(train, held_out)
    print(f"classifier (logistic regression on the {train[0].shape[0]} training digits): held-out accuracy {clf_acc:.3f}")
    print(f"diversity of the real held-out digits (mean within-class pairwise distance): {diversity(*held_out):.2f}")
    print(f"recipe: {args.steps} steps, batch {args.batch}, width {args.width}, depth {args.depth}, lr {args.lr}, "
          f"EMA {args.ema}, p_uncond {args.p_uncond}; DDIM {args.ddim_steps} steps, x0 clipped to [-1, 1]")  # fmt: skip
    for seed in range(args.seeds):
        graphdef, params, schedule, wall, cpu, losses = train_model(args, seed, train)
        t0 = time.perf_counter()
        x, labels = sample_sweep(jax.random.key(3000 + seed), graphdef, params, schedule, args.scales, args.per_class, args.ddim_steps)
        sample_wall = time.perf_counter() - t0
        print(f"seed {seed}: training {wall:.1f} s wall ({cpu:.1f} s CPU, compilation included), final loss "
              f"{losses[-200:].mean():.4f}; sampling {x.shape[0] * x.shape[1]} digits {sample_wall:.1f} s; "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        for s, xs in zip(args.scales, x):
            acc = float(np.mean(clf.predict(xs) == labels))
            print(f"   w = {s:4.1f}: class accuracy {acc:.3f}   diversity {diversity(xs, labels):.2f}")
        if args.figure and seed == 0:
            m = min(args.per_class, 4)
            grid = x.reshape(len(args.scales), 10, args.per_class, 64)[:, :, :m].transpose(1, 0, 2, 3)  # (10, S, m, 64)
            fig = dv.plot_guidance_sweep(grid, args.scales, title=f"{args.steps} steps: classes by row, guidance scale by column group")
            fig.savefig(args.figure, dpi=80)

if __name__ == "__main__":
    main()
