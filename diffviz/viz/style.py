r"""What every figure of the course shares, written once: the palette, the figure factory,
number formats, the normal density and the argument checks of the plotting modules.

Every plotting module follows the same rules: a ``plot_*`` function is pure (parameters in, a
new :class:`matplotlib.figure.Figure` out), builds its figure with :func:`_figure` (never
through ``pyplot``: nothing is registered globally, nothing needs closing), labels every axis
and puts a ``gid`` on the artists whose data the tests read back. ``matplotlib`` is imported
inside the functions, so ``import diffviz`` stays cheap for code that never plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from diffviz._mixture import GaussianMixture
from diffviz._schedules import Schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# --------------------------------------------------------------------------------------------
# One palette for the whole course
# --------------------------------------------------------------------------------------------

PARTICLES = "#9ebfe0"  # simulated particles and samples: light blue
PARTICLES_DARK = "#2c6fad"  # particles that must stand out (a slice, bin means, 2-D samples)
EXACT = "#b2182b"  # exact answers (closed forms, true densities): dark red
REFERENCE = "0.35"  # reference curves, e.g. N(0, 1) where DDPM ends: grey
WRONG = "#e6820e"  # the seed post's (or another wrong) formula: orange
LEARNED = "#2166ac"  # what a network learned or sampled: dark blue
DATA = "0.6"  # training data drawn behind samples: light grey
# Chapter 10 puts a wrong version of the code next to its fix, in matplotlib's own red and blue,
# against the truth in black (and a Gaussian stand-in for the truth in orange).
WRONG_VERSION = "tab:red"
FIXED_VERSION = "tab:blue"
TRUTH = "black"
GAUSSIAN_STEP = "tab:orange"

# KL and SNR values below this are drawn at it on log axes: float32 cannot resolve them (1 - abar_T
# rounds to 1). The default of every figure that clips, and the live schedule explorer's floor.
KL_FLOOR = 1e-8

# --------------------------------------------------------------------------------------------
# Figures and texts
# --------------------------------------------------------------------------------------------


def _figure(figsize: tuple[float, float], *, dpi: float = 100) -> Figure:
    """A new Figure with constrained layout, not registered with ``pyplot``."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def _fmt(x: float) -> str:
    """A number in [0, 1] for a title: 3 decimals, or scientific notation when tiny (``4.0e-05``)."""
    return f"{x:.3f}" if x >= 0.01 or x == 0 else f"{x:.1e}"


def _floor_note(ax, floor: float) -> None:
    """On a log y axis whose values are clipped at ``floor``: a strip below the floor, where no
    curve runs, saying so (a curve drawn along the floor would otherwise read as a real value)."""
    ax.set_ylim(bottom=floor / 30)
    ax.text(0.98, 0.02, f"values below {floor:g} are drawn at {floor:g}", transform=ax.transAxes, ha="right",
            va="bottom", fontsize=7, color="0.4", gid="floor-note")  # fmt: skip


def _square(ax: Axes, lim: float, *, small: bool = False, centre: tuple[float, float] = (0.0, 0.0)) -> None:
    """A square 2-D panel on ``centre`` +- ``lim`` with equal aspect and labelled axes."""
    size = 7.5 if small else 9
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$", fontsize=size, labelpad=1)
    ax.set_ylabel("$x_2$", fontsize=size, labelpad=1)
    for c, set_lim, set_ticks in ((centre[0], ax.set_xlim, ax.set_xticks), (centre[1], ax.set_ylim, ax.set_yticks)):
        set_lim(c - lim, c + lim)
        set_ticks(range(math.ceil((c - lim) / 2) * 2, math.floor((c + lim) / 2) * 2 + 1, 2))  # even integers: fixed ticks, no tick search
    ax.tick_params(labelsize=size - 1.5, length=2, pad=1)


# --------------------------------------------------------------------------------------------
# Densities on the host (float64 NumPy: no JAX kernel compiled per t)
# --------------------------------------------------------------------------------------------


def _normal_pdf(x: np.ndarray, mean: float, var: float) -> np.ndarray:
    r"""The density of :math:`\mathcal N(\text{mean}, \text{var})` at ``x``."""
    return np.exp(-0.5 * (x - mean) ** 2 / var) / math.sqrt(2 * math.pi * var)


def _hist_density(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram heights as a density of *all* of ``x`` (points outside the edges included)."""
    counts, _ = np.histogram(x, edges)
    return counts / (x.shape[0] * np.diff(edges))


def _host(schedule: Schedule) -> Schedule:
    """The schedule's arrays as float64 NumPy arrays.

    Plotting code indexes schedules at many different ``t``; indexing a JAX array with a new
    Python int, or slicing it to a new length, compiles a fresh little kernel each time
    (tens of milliseconds). One copy to the host avoids all of that.
    """
    return Schedule(*(np.asarray(a, np.float64) for a in schedule))


def _diffused_np(mixture: GaussianMixture, schedule: Schedule | None, t: int):
    """Weights ``(K,)``, means and stds ``(K, d)`` of :math:`q_t` as float64 NumPy arrays.

    The parameters of :func:`~diffviz.diffuse_mixture`, computed on the host: plotting code
    visits many ``t`` and a JAX call per ``t`` would compile a small kernel each time.
    """
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)
    sd = np.asarray(mixture.stds, np.float64)
    if schedule is None:
        return w, mu, sd
    abar = float(np.asarray(schedule.alpha_bars, np.float64)[t])
    noise = float(np.asarray(schedule.one_minus_alpha_bars, np.float64)[t])
    return w, math.sqrt(abar) * mu, np.sqrt(abar * sd**2 + noise)


def _mixture_density_np(mixture: GaussianMixture, schedule: Schedule | None, t: int, points: np.ndarray) -> np.ndarray:
    r"""The density of :math:`q_t` (of the data itself when ``schedule`` is None) at ``points: (m, d)``.

    Float64 NumPy: :math:`\sum_k w_k \prod_i \mathcal N(x_i; m_{ki}, s_{ki}^2)`, the formula of
    :func:`~diffviz.mixture_log_prob` for the parameters of :func:`~diffviz.diffuse_mixture`.
    """
    w, mu, sd = _diffused_np(mixture, schedule, t)
    z = (points[:, None, :] - mu[None, :, :]) / sd[None, :, :]  # (m, K, d)
    log_comp = np.log(w)[None, :] - np.sum(0.5 * z**2 + np.log(sd)[None, :, :] + 0.5 * math.log(2 * math.pi), axis=2)
    top = np.max(log_comp, axis=1, keepdims=True)  # (m, 1): log-sum-exp, stable far from the data
    return np.exp(top[:, 0]) * np.sum(np.exp(log_comp - top), axis=1)


def _mixture_moments(mixture: GaussianMixture) -> tuple[float, float]:
    """Mean and variance of a 1-D mixture (law of total variance)."""
    w = np.asarray(mixture.weights, np.float64)  # (K,)
    mu = np.asarray(mixture.means, np.float64)[:, 0]  # (K,)
    s = np.asarray(mixture.stds, np.float64)[:, 0]  # (K,)
    mean = float(np.sum(w * mu))
    return mean, float(np.sum(w * (s**2 + mu**2)) - mean**2)


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _finite(name: str, arr: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


def _positive(name: str, x) -> float:
    value = float(x)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {x!r}")
    return value


def _samples_1d(name: str, x, *, min_n: int = 1) -> np.ndarray:
    """1-D points ``(n,)`` or ``(n, 1)``, ``n >= min_n``, as a finite float64 vector ``(n,)``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] < min_n:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= {min_n} (1-D points); got {np.shape(x)}")
    return _finite(name, arr)


def _points_2d(name: str, x) -> np.ndarray:
    """``(n, 2)`` points, ``n >= 1``, as a finite float64 array."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 2) (2-D points); got {np.shape(x)}")
    return _finite(name, arr)


def _named(name: str, values) -> dict[str, object]:
    """A single array, or a mapping ``{label: array}``, as a non-empty dict (``{"": array}`` for one)."""
    if isinstance(values, Mapping):
        if not values:
            raise ValueError(f"{name} must hold at least one entry")
        return {str(k): val for k, val in values.items()}
    return {"": values}


def _check_mixture_1d(mixture) -> GaussianMixture:
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture (e.g. diffviz.mixture_1d('bimodal'))")
    return mixture


def _check_mixture_2d(mixture) -> GaussianMixture:
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 2:
        raise ValueError("mixture must be a 2-D GaussianMixture (e.g. diffviz.eight_gaussians_mixture())")
    return mixture
