"""What a benchmark ran on: the CPU model and JAX's devices, printed at the top of its output.

JAX runs on a GPU by itself when one is there and the CUDA build of jaxlib is installed (the
``gpu`` extra, README "On a GPU"); nothing in the benchmarks picks a device. So every figure
is printed next to the device it came from.
"""

from __future__ import annotations

import os
import platform
from collections import Counter

import jax


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what the platform module says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def jax_devices() -> str:
    """JAX's devices: platform, count and kind, e.g. 'gpu: 1 x NVIDIA H100 80GB HBM3'."""
    devices = jax.devices()
    kinds = Counter(d.device_kind for d in devices)
    return f"{devices[0].platform}: " + ", ".join(f"{n} x {kind}" for kind, n in kinds.items())


def describe() -> str:
    """One line: CPU model and cores, the JAX version and the devices it computes on."""
    return f"cpu: {cpu_model()}, {os.cpu_count()} cores; jax {jax.__version__} on {jax_devices()}"


if __name__ == "__main__":
    print(describe())
