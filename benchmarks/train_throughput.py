"""Training throughput: diffviz (JAX) against a PyTorch reference of the same network.

The network is the "tiny-diffusion" 2-D setup: sinusoidal embeddings of size 128 for x, y
and t (input scale 25 for x and y), a Linear to 128, GELU, three residual blocks
``h + GELU(Linear(h))`` of width 128, and a Linear to 2; Adam with learning rate 1e-3;
the epsilon loss with T = 1000 and the linear schedule. The PyTorch version below is written
for this benchmark (eager mode, the usual training loop). Both sides draw every batch the
same way: random rows (with replacement) of one fixed array of 100,000 two-moons points.

Both sides are timed interleaved, round after round, so that a background load hits both
alike; the steps/s are the medians of the rounds, the ratio is the median of the per-round
ratios, with their range. Achieved GFLOP/s counts the matmul
FLOPs of forward + backward (3 x 2 x MACs per example) and is compared with this machine's
own float32 matmul rate (a 2048 x 2048 x 2048 product in JAX).

Run:  .venv/bin/python benchmarks/train_throughput.py [--rounds 5] [--batches 32 512 2048]
(the PyTorch side needs the optional ``bench`` extra: ``pip install -c constraints.txt -e .[bench]``;
without torch, or with ``--no-torch``, only the JAX side runs).

Devices: JAX computes on a GPU when it sees one (the ``gpu`` extra), and the PyTorch reference
runs on CUDA whenever ``torch.cuda.is_available()`` (a CUDA build of torch and a GPU), else on
all CPU cores. The first lines of the output name the CPU model and the device each side ran on.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from machine import describe

import diffviz as dv

CONFIG = dv.DenoiserConfig(dim=2, width=128, depth=3, time_dim=128, input_dim=128, input_scale=25.0)
MACS_PER_EXAMPLE = (2 * 128 + 128) * 128 + 3 * 128 * 128 + 128 * 2


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


class JaxRunner:
    def __init__(self, batch: int, steps: int, data: np.ndarray):
        schedule = dv.linear_schedule(1000)
        graphdef, params = dv.init_denoiser(jax.random.key(0), CONFIG)
        opt = optax.adam(1e-3)
        self.step = dv.make_train_step(graphdef, schedule, opt, ema_decay=0.999)
        self.state = dv.init_train_state(params, opt)
        self.batch, self.steps = batch, steps
        self.key = jax.random.key(1)
        self.data = jnp.asarray(data)
        self.run()  # compile

    def run(self) -> float:
        self.key, sub = jax.random.split(self.key)
        t0 = time.perf_counter()
        self.state, _ = dv.fit(sub, self.step, self.state, self.data, batch_size=self.batch, num_steps=self.steps, steps_per_call=self.steps, progress=False)
        jax.block_until_ready(self.state)  # on a GPU the steps run asynchronously
        return self.steps / (time.perf_counter() - t0)


def torch_device(torch) -> str:
    """'cuda' when this torch build sees a GPU, else 'cpu'."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchRunner:
    def __init__(self, batch: int, steps: int, data: np.ndarray):
        import torch
        from torch import nn

        torch.manual_seed(0)
        self.torch = torch
        self.device = torch.device(torch_device(torch))

        class Sinusoidal(nn.Module):
            def __init__(self, size, scale=1.0):
                super().__init__()
                half = size // 2
                self.register_buffer("freqs", scale * torch.exp(-math.log(1e4) * torch.arange(half) / (half - 1)))

            def forward(self, u):
                ang = u[:, None] * self.freqs[None, :]
                return torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)

        class Block(nn.Module):
            def __init__(self, w):
                super().__init__()
                self.lin = nn.Linear(w, w)

            def forward(self, h):
                return h + nn.functional.gelu(self.lin(h))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.ex, self.et = Sinusoidal(128, 25.0), Sinusoidal(128)
                self.inp = nn.Linear(3 * 128, 128)
                self.blocks = nn.Sequential(*[Block(128) for _ in range(3)])
                self.out = nn.Linear(128, 2)

            def forward(self, x, t):
                h = torch.cat([self.ex(x[:, 0]), self.ex(x[:, 1]), self.et(t.float())], dim=-1)
                return self.out(self.blocks(nn.functional.gelu(self.inp(h))))

        self.net = Net().to(self.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        betas = torch.linspace(1e-4, 0.02, 1000)
        self.abar = torch.cumprod(1 - betas, 0).to(self.device)
        self.batch, self.steps = batch, steps
        self.data = torch.from_numpy(data.copy()).to(self.device)  # a writable copy
        self.run()

    def sync(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def run(self) -> float:
        torch = self.torch
        self.sync()
        t0 = time.perf_counter()
        for _ in range(self.steps):
            x0 = self.data[torch.randint(0, self.data.shape[0], (self.batch,), device=self.device)]
            t = torch.randint(0, 1000, (self.batch,), device=self.device)
            eps = torch.randn_like(x0)
            a = self.abar[t][:, None]
            xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
            loss = torch.nn.functional.mse_loss(self.net(xt, t), eps)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.sync()
        return self.steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 512, 2048])
    parser.add_argument("--no-torch", action="store_true", help="time the JAX side only (also what happens without torch)")
    args = parser.parse_args()

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch is not installed (the bench extra): timing the JAX side only")
    if torch is not None and torch_device(torch) == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    print(describe())
    if torch is not None:
        threads = f", {torch.get_num_threads()} threads" if torch_device(torch) == "cpu" else f", {torch.cuda.get_device_name(0)}"
        print(f"torch {torch.__version__} on {torch_device(torch)}{threads}")
    peak = sgemm_gflops()
    data = np.array(dv.sample_moons(jax.random.key(2), 100_000))  # both sides draw batches from it
    print(f"float32 matmul rate (2048^3 in JAX): {peak:.0f} GFLOP/s")
    print(f"model: {dv.count_params(dv.init_denoiser(jax.random.key(0), CONFIG)[1])} parameters, {MACS_PER_EXAMPLE} MACs per example")
    print(f"{'batch':>6} {'jax steps/s':>12} {'torch steps/s':>14} {'ratio':>6} {'(range)':>11} {'jax GFLOP/s':>12} {'% of matmul':>11}")
    for batch in args.batches:
        steps = max(20, int(20_000 / batch ** 0.8))
        jr = JaxRunner(batch, steps, data)
        tr = TorchRunner(batch, max(10, steps // 4), data) if torch is not None else None
        j_rates, t_rates = [], []
        for _ in range(args.rounds):
            j_rates.append(jr.run())
            if tr is not None:
                t_rates.append(tr.run())
        j = statistics.median(j_rates)
        gflops = j * batch * 6 * MACS_PER_EXAMPLE / 1e9
        if tr is not None:
            t = statistics.median(t_rates)
            ratios = [a / b for a, b in zip(j_rates, t_rates)]  # round by round: both sides under the same load
            torch_cols = f"{t:>14.1f} {statistics.median(ratios):>6.2f} {f'{min(ratios):.2f}-{max(ratios):.2f}':>11}"
        else:
            torch_cols = f"{'-':>14} {'-':>6} {'-':>11}"
        print(f"{batch:>6} {j:>12.1f} {torch_cols} {gflops:>12.1f} {100 * gflops / peak:>10.0f}%")


if __name__ == "__main__":
    main()
