r"""Figures for the learning chapters (training, sampling, likelihood): pure functions.

Every function takes arrays (NumPy or JAX) and options and returns a new
:class:`matplotlib.figure.Figure`, built without ``pyplot``: nothing is registered globally,
nothing needs closing, nothing is shown as a side effect. Make the figure the last expression
of a notebook cell, or call ``fig.savefig(...)`` in a script.

These functions never train or sample: the notebook computes the numbers (which is where a
student should see them being computed) and the figure only draws them. So a test can hand a
figure known arrays and read back exactly what was drawn; artists whose data the tests read
carry a ``gid`` such as ``"raw"``, ``"smooth"``, ``"learned:10"`` or ``"path-0"``.

Shapes follow the rest of the package: 1-D points are ``(n,)`` or ``(n, 1)``, 2-D points
``(n, 2)``, and a trajectory has the time axis first, ``(steps+1, n, d)``, with entry ``i`` at
time ``ts[i]`` (increasing; entry 0 is the sample, the last entry the starting noise), the
layout of :func:`~diffviz.ddpm_sample` and :func:`~diffviz.ddim_sample` with
``trajectory=True``.

``matplotlib`` is imported inside the functions, so training code that never plots does not
pay for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture
from diffviz._player import evenly_spaced_steps, jshtml_player
from diffviz._plots import _figure, _floor_note  # one figure factory for every plot module

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The course palette (see diffviz._plots): samples light blue, exact answers dark red,
# references grey; the learned network in dark blue.
_SAMPLES = "#9ebfe0"
_EXACT = "#b2182b"
_LEARNED = "#2166ac"
_REFERENCE = "0.35"
_DATA = "0.6"

# --------------------------------------------------------------------------------------------
# Helpers: figures and argument checks
# --------------------------------------------------------------------------------------------


def _finite(name: str, arr: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


def _vector(name: str, x, *, min_len: int = 1) -> np.ndarray:
    """``(n,)`` or ``(n, 1)`` as a float64 vector ``(n,)``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] < min_len:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= {min_len}; got {np.shape(x)}")
    return _finite(name, arr)


def _points_2d(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 2) (2-D points); got {np.shape(x)}")
    return _finite(name, arr)


def _named(name: str, values) -> dict[str, object]:
    """A single array, or a mapping ``{label: array}``, as a non-empty dict."""
    if isinstance(values, Mapping):
        if not values:
            raise ValueError(f"{name} must hold at least one entry")
        return {str(k): val for k, val in values.items()}
    return {"": values}


def _trajectory(name: str, trajectory) -> np.ndarray:
    """A trajectory ``(steps+1, n)``, ``(steps+1, n, 1)`` or ``(steps+1, n, 2)`` as ``(steps+1, n, d)``."""
    arr = np.asarray(trajectory, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[1] < 1 or arr.shape[2] not in (1, 2):
        raise ValueError(
            f"{name} must have shape (steps+1, n), (steps+1, n, 1) or (steps+1, n, 2) with steps >= 1; "
            f"got {np.shape(trajectory)}"
        )
    return _finite(name, arr)


def _times(ts, length: int) -> np.ndarray:
    """The time of each trajectory row: ``ts`` checked (increasing ints), or ``0..length-1``."""
    if ts is None:
        return np.arange(length)
    out = np.asarray(ts)
    if out.shape != (length,) or not np.issubdtype(out.dtype, np.integer) or np.any(np.diff(out) <= 0):
        raise ValueError(f"ts must be {length} increasing integers, one per trajectory row; got {np.shape(ts)}")
    return out.astype(np.int64)


def _mixture_density(mixture: GaussianMixture, grid: np.ndarray) -> np.ndarray:
    """Density of a 1-D mixture at ``grid: (G,)``, in float64 NumPy (no JAX kernels compiled)."""
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)[:, 0]
    s = np.asarray(mixture.stds, np.float64)[:, 0]
    z = (grid[:, None] - mu[None, :]) / s[None, :]  # (G, K)
    return np.sum(w[None, :] * np.exp(-0.5 * z**2) / (s[None, :] * math.sqrt(2 * math.pi)), axis=1)


def _check_mixture_1d(mixture) -> GaussianMixture:
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture (e.g. diffviz.mixture_1d('bimodal'))")
    return mixture


def _smoothed(losses: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Trailing moving average: ``(steps, means)``; the mean of steps ``s-window+1..s`` at step ``s``."""
    kernel = np.full(window, 1.0 / window)
    means = np.convolve(losses, kernel, mode="valid")  # (n - window + 1,)
    return np.arange(window, losses.shape[0] + 1), means


# --------------------------------------------------------------------------------------------
# Training: loss curves and the learned noise prediction
# --------------------------------------------------------------------------------------------


def plot_loss_curve(
    losses,
    *,
    smooth: int | None = 100,
    floor: float | None = None,
    floor_label: str = "lowest possible loss",
    log_y: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 3.4),
) -> Figure:
    r"""The training loss against the step, raw (faint) and as a moving average.

    The loss of one step is measured on one random batch with random ``t`` and noise, so it
    jumps around a lot; the moving average over ``smooth`` steps shows the trend. The
    average at step ``s`` is the mean of steps ``s - smooth + 1, ..., s`` (a trailing window,
    so it never looks ahead).

    Args:
        losses: the per-step losses ``(n,)`` returned by :func:`~diffviz.fit` (step ``i`` of
            the array is training step ``i + 1``), or ``{label: losses}`` for several runs.
        smooth: moving-average window in steps (clipped to the run length); ``None`` or 1
            draws the raw losses only.
        floor: draw a horizontal line here, e.g. the loss of the exact
            :math:`\varepsilon^*` (no network can do better on average).
        floor_label: the legend text of that line.
        log_y: a logarithmic loss axis.
        title: the axes title (default: a description of the smoothing).
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Artists: ``"raw"`` / ``"smooth"`` for a single run,
        ``"raw:{label}"`` / ``"smooth:{label}"`` for several, and ``"floor"``.
    """
    runs = {k: _vector("losses", val) for k, val in _named("losses", losses).items()}
    if smooth is not None:
        smooth = v.positive_int("smooth", smooth)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(runs.items()):
        suffix = f":{name}" if name else ""
        color = f"C{i % 10}" if name else _LEARNED
        steps = np.arange(1, values.shape[0] + 1)
        raw_label = f"{name}: every step" if name else "loss of each step (one batch)"
        ax.plot(steps, values, lw=0.6, alpha=0.3, color=color, label=raw_label, gid=f"raw{suffix}")
        if smooth is not None and smooth > 1:
            window = min(smooth, values.shape[0])
            s_steps, means = _smoothed(values, window)
            label = f"{name}: mean of {window} steps" if name else f"moving average over {window} steps"
            ax.plot(s_steps, means, lw=1.8, color=color, label=label, gid=f"smooth{suffix}")
    if floor is not None:
        ax.axhline(float(floor), color=_EXACT, ls="--", lw=1.2, label=f"{floor_label} ({float(floor):.3f})", gid="floor")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(r"loss $\| \varepsilon - \hat\varepsilon_\theta \|^2$ (per dim)")
    ax.set_title(title if title is not None else "Training loss", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    return fig


class _EpsPanel:
    """The artists of one "learned vs exact noise prediction" panel; :meth:`show` moves them.

    The static small multiples and the slider widget both draw through this class, so the
    tests of :func:`plot_eps_vs_exact` also cover what the widget shows.
    """

    def __init__(self, ax: Axes, x: np.ndarray, *, y_range: tuple[float, float], with_density: bool, compact: bool):
        self.ax, self.x = ax, x
        small = 7 if compact else 8
        self.density = None
        if with_density:
            (self.density,) = ax.fill(
                np.concatenate([x[:1], x, x[-1:]]), np.zeros(x.shape[0] + 2), color="0.85", lw=0,
                label=r"where $x_t$ lives: $q(x_t)$ (scaled)", gid="density",
            )  # fmt: skip
        (self.exact,) = ax.plot(x, np.zeros_like(x), color=_EXACT, lw=2.0, label=r"exact $\varepsilon^*(x, t)$")
        (self.learned,) = ax.plot(
            x, np.zeros_like(x), color=_LEARNED, lw=1.4, ls="--", label=r"network $\hat\varepsilon_\theta(x, t)$"
        )
        ax.axhline(0.0, color="0.75", lw=0.6)
        ax.set_xlim(x[0], x[-1])
        ax.set_ylim(*y_range)
        ax.set_xlabel(r"noisy point $x_t$", fontsize=small + 1)
        ax.set_ylabel(r"predicted noise", fontsize=small + 1)
        ax.tick_params(labelsize=small)
        self.title = ax.set_title(" ", fontsize=small + 1 if compact else 10)
        self.y_range = y_range

    def show(self, t: int, learned: np.ndarray, exact: np.ndarray, density: np.ndarray | None) -> float:
        """Draw step ``t``; returns the RMS error shown in the title."""
        self.exact.set_gid(f"exact:{t}")
        self.learned.set_gid(f"learned:{t}")
        self.exact.set_ydata(exact)
        self.learned.set_ydata(learned)
        sq = (learned - exact) ** 2
        if density is not None and self.density is not None:
            lo, hi = self.y_range
            height = lo + 0.9 * (hi - lo) * density / max(float(density.max()), 1e-300)
            xy = np.column_stack(
                [np.concatenate([self.x[:1], self.x, self.x[-1:]]), np.concatenate([[lo], height, [lo]])]
            )
            self.density.set_xy(xy)
            rms = float(np.sqrt(np.sum(density * sq) / np.sum(density)))
            self.title.set_text(f"t = {t}:  RMS error under q(xₜ) = {rms:.3f}")
        else:
            rms = float(np.sqrt(np.mean(sq)))
            self.title.set_text(f"t = {t}:  RMS error = {rms:.3f}")
        return rms

    @property
    def dynamic_artists(self) -> tuple:
        extra = () if self.density is None else (self.density,)
        return extra + (self.exact, self.learned, self.title)


def _eps_inputs(x, learned, exact, ts, densities):
    """Check and reshape the arguments of the eps figures: x ``(G,)``, the rest ``(K, G)``."""
    grid = _vector("x", x, min_len=2)
    ts = [int(t) for t in ts]
    if not ts:
        raise ValueError("ts must hold at least one step")
    out = []
    for name, arr in (("learned", learned), ("exact", exact), ("densities", densities)):
        if arr is None:
            out.append(None)
            continue
        a = np.asarray(arr, np.float64)
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        if a.shape != (len(ts), grid.shape[0]):
            raise ValueError(
                f"{name} must have shape (len(ts), len(x)) = {(len(ts), grid.shape[0])} "
                f"(or with a trailing 1); got {np.shape(arr)}"
            )
        out.append(_finite(name, a))
    learned, exact, densities = out
    if densities is not None and np.any(densities < 0):
        raise ValueError("densities must be >= 0")
    return grid, learned, exact, ts, densities


def _eps_y_range(learned: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    top = 1.1 * float(max(np.max(np.abs(exact)), np.max(np.abs(learned)), 1.0))
    return -top, top


def plot_eps_vs_exact(
    x,
    learned,
    exact,
    ts: Sequence[int],
    *,
    densities=None,
    ncols: int | None = None,
    panel_size: tuple[float, float] = (3.0, 2.5),
) -> Figure:
    r"""Small multiples: the network's noise prediction against the exact one, one panel per ``t``.

    Each panel draws :math:`\hat\varepsilon_\theta(x, t)` (dashed) and the exact
    :math:`\varepsilon^*(x, t) = E[\varepsilon \mid x_t = x]` (solid) along a grid of ``x``,
    for 1-D data. With ``densities`` (the diffused data density :math:`q_t(x)` on the same
    grid), a grey silhouette shows where noisy points actually fall, and the RMS error in the
    title is weighted by it: an error where :math:`q_t` is tiny is never seen in training and
    hardly matters for sampling.

    Args:
        x: the grid, ``(G,)`` or ``(G, 1)``.
        learned: network predictions ``(len(ts), G)`` or ``(len(ts), G, 1)``; row ``k`` at
            step ``ts[k]``.
        exact: the exact :math:`\varepsilon^*` (:func:`~diffviz.optimal_eps`), same shape.
        ts: the steps, one per row.
        densities: optional :math:`q_t(x)` on the grid, ``(len(ts), G)``.
        ncols: panels per row (default: up to 3).
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(ts)`` Axes. Artists ``"learned:{t}"`` and ``"exact:{t}"``.
    """
    grid, learned, exact, ts, densities = _eps_inputs(x, learned, exact, ts, densities)
    ncols = min(len(ts), 3) if ncols is None else v.positive_int("ncols", ncols)
    nrows = math.ceil(len(ts) / ncols)
    fig = _figure((panel_size[0] * ncols, panel_size[1] * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    y_range = _eps_y_range(learned, exact)
    for k, t in enumerate(ts):
        panel = _EpsPanel(axes[k], grid, y_range=y_range, with_density=densities is not None, compact=True)
        panel.show(t, learned[k], exact[k], None if densities is None else densities[k])
    for ax in axes[len(ts) :]:
        fig.delaxes(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    fig.suptitle(r"Learned noise prediction vs the exact $\varepsilon^* = E[\varepsilon \mid x_t]$", fontsize=10)
    return fig


def eps_scrubber_html(
    x,
    learned,
    exact,
    ts: Sequence[int],
    *,
    densities=None,
    figsize: tuple[float, float] = (6.0, 3.4),
    dpi: float = 90,
    interval_ms: int = 250,
) -> str:
    r"""HTML of a self-contained player that scrubs ``t`` through learned vs exact noise predictions.

    The kernel-free counterpart of :func:`~diffviz.eps_explorer`, with the same arguments:
    one frame per step in ``ts``, each the explorer's picture (:math:`\hat\varepsilon_\theta`
    dashed, :math:`\varepsilon^*` solid, :math:`q_t` as a grey silhouette, the weighted RMS
    error in the title) on fixed axes. The frames are rendered now and embedded as PNG in a
    ``FuncAnimation(...).to_jshtml()`` player, so it works in the rendered book. Show it with
    ``IPython.display.HTML(...)``. At the defaults 38 frames make about 1.1 MB of HTML.

    Args:
        x: the grid ``(G,)`` or ``(G, 1)``.
        learned: network predictions ``(len(ts), G)`` (or with a trailing 1).
        exact: :math:`\varepsilon^*` on the same grid, same shape.
        ts: the steps, one frame per row, in the order given (distinct, at least 2).
        densities: optional :math:`q_t(x)` on the grid, ``(len(ts), G)``.
        figsize, dpi: frame size (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    grid, learned, exact, ts, densities = _eps_inputs(x, learned, exact, ts, densities)
    if len(ts) < 2 or len(set(ts)) != len(ts):
        raise ValueError(f"ts must hold at least 2 distinct steps (one frame each); got {list(ts)}")
    fig = _figure(figsize, dpi=dpi)
    ax = fig.add_subplot()
    panel = _EpsPanel(ax, grid, y_range=_eps_y_range(learned, exact), with_density=densities is not None, compact=False)
    ax.legend(fontsize=8, frameon=False, loc="upper left")

    def draw(k: int):
        panel.show(ts[k], learned[k], exact[k], None if densities is None else densities[k])
        return panel.dynamic_artists

    alt = (f"Player with a slider over the step t, {len(ts)} frames from t = {ts[0]} to {ts[-1]}: the network's noise "
           "prediction (dashed) and the exact optimal noise prediction (solid) against x"
           + (", over a grey silhouette of the density of x_t" if densities is not None else "")
           + ", with their weighted RMS difference in the title.")
    return jshtml_player(fig, draw, len(ts), interval_ms=interval_ms, alt=alt)


def plot_eps_error_by_t(
    ts,
    errors,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (6.0, 3.6),
) -> Figure:
    r"""RMS error of a noise predictor against the step ``t`` (both axes logarithmic).

    Args:
        ts: the steps ``(K,)`` (integers >= 1).
        errors: the RMS errors ``(K,)``, or ``{label: errors}`` to compare (say, at
            initialisation and after training).
        title: the axes title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes; artists ``"error"`` or ``"error:{label}"``.
    """
    t = _vector("ts", ts)
    if np.any(t < 1):
        raise ValueError("ts must be steps >= 1 (the axis is logarithmic)")
    fig = _figure(figsize)
    ax = fig.add_subplot()
    for i, (name, err) in enumerate(_named("errors", errors).items()):
        e = _vector("errors", err)
        if e.shape != t.shape:
            raise ValueError(f"errors{f'[{name!r}]' if name else ''} must have the shape of ts {t.shape}; got {e.shape}")
        gid = f"error:{name}" if name else "error"
        ax.plot(t, e, marker="o", ms=4, lw=1.5, color=f"C{i % 10}", label=name or None, gid=gid)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"time step $t$ (log scale)")
    ax.set_ylabel(r"RMS of $\hat\varepsilon_\theta - \varepsilon^*$")
    ax.set_title(title or r"Error of the learned noise prediction, step by step", fontsize=10)
    if any(_named("errors", errors)):
        ax.legend(fontsize=8, frameon=False)
    return fig


# --------------------------------------------------------------------------------------------
# Sampling: samples against data, reverse paths, an animation, quality against steps
# --------------------------------------------------------------------------------------------


def plot_sample_histograms(
    samples: Mapping[str, object],
    mixture: GaussianMixture,
    *,
    x_range: tuple[float, float] = (-3.0, 3.0),
    bins: int = 80,
    panel_size: tuple[float, float] = (3.4, 2.8),
) -> Figure:
    r"""1-D samples against the data density: one panel per sampler.

    Each panel shows a histogram of the samples (as a density) and the exact data density
    :math:`p(x_0)`; the title compares the samples' variance with the data's.

    Args:
        samples: ``{label: samples}``, each ``(n,)`` or ``(n, 1)``.
        mixture: the 1-D data distribution.
        x_range: the x axis; samples outside it still count in the density's normalisation.
        bins: histogram bins over ``x_range``.
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(samples)`` Axes. Artists ``"samples:{label}"`` (the
        histogram) and ``"density:{label}"`` (the exact curve).
    """
    _check_mixture_1d(mixture)
    runs = {k: _vector("samples", val) for k, val in _named("samples", samples).items()}
    bins = v.positive_int("bins", bins)
    edges = np.linspace(x_range[0], x_range[1], bins + 1)
    grid = np.linspace(x_range[0], x_range[1], 400)
    density = _mixture_density(mixture, grid)
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)[:, 0]
    s = np.asarray(mixture.stds, np.float64)[:, 0]
    data_var = float(np.sum(w * (s**2 + mu**2)) - np.sum(w * mu) ** 2)
    fig = _figure((panel_size[0] * len(runs), panel_size[1]))
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    heights_all = []
    for ax, (name, x) in zip(axes, runs.items(), strict=True):
        counts, _ = np.histogram(x, edges)
        heights = counts / (x.shape[0] * np.diff(edges))
        heights_all.append(heights.max())
        ax.stairs(heights, edges, fill=True, color=_SAMPLES, label=f"{x.shape[0]:,} samples", gid=f"samples:{name}")
        ax.plot(grid, density, color=_EXACT, lw=1.8, label=r"data density $p(x_0)$", gid=f"density:{name}")
        ax.set_xlim(*x_range)
        ax.set_xlabel(r"sample $x_0$")
        ax.set_ylabel("density")
        ax.set_title(f"{name}\nvariance {np.var(x):.4f} (data {data_var:.4f})", fontsize=9)
    top = 1.15 * max(max(heights_all), density.max())
    for ax in axes:
        ax.set_ylim(0, top)
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    return fig


def _limits(
    *arrays: np.ndarray, whole: np.ndarray | None = None, margin: float = 0.05
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Shared x and y limits holding the 0.5%..99.5% range of the given 2-D point sets (a few
    runaway samples far out do not shrink the picture) and every point of ``whole`` (the data)."""
    stacked = np.concatenate(arrays, axis=0)
    lo = np.percentile(stacked, 0.5, axis=0)
    hi = np.percentile(stacked, 99.5, axis=0)
    if whole is not None:
        lo, hi = np.minimum(lo, whole.min(axis=0)), np.maximum(hi, whole.max(axis=0))
    pad = margin * (hi - lo) + 1e-9
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def plot_samples_vs_data(
    samples,
    data,
    *,
    max_points: int = 3000,
    point_size: float = 2.0,
    panel_size: tuple[float, float] = (3.2, 3.0),
) -> Figure:
    r"""2-D samples next to data: one scatter panel for the data, one per set of samples.

    All panels share the same axis limits, so shapes can be compared directly. The limits hold
    every data point and the middle 99% of the samples (each coordinate's 0.5-99.5 percentiles),
    so that a few runaway samples far out do not shrink the picture; a panel's title says how
    many of its points lie beyond the axes.

    Args:
        samples: ``(n, 2)`` generated points, or ``{label: (n, 2)}`` for several samplers.
        data: ``(m, 2)`` data points.
        max_points: at most this many points per panel (the first ones) are drawn.
        point_size: marker size.
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``1 + len(samples)`` Axes. Artists ``"data"`` and ``"samples"``
        (one set) or ``"samples:{label}"``.
    """
    sets = {k: _points_2d("samples", val) for k, val in _named("samples", samples).items()}
    data = _points_2d("data", data)
    max_points = v.positive_int("max_points", max_points)
    xlim, ylim = _limits(*sets.values(), whole=data)
    panels = [("data", data, _DATA, "data")]
    panels += [(f"samples:{k}" if k else "samples", x, _LEARNED, k or "samples") for k, x in sets.items()]
    fig = _figure((panel_size[0] * len(panels), panel_size[1]))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (gid, x, color, title) in zip(axes, panels, strict=True):
        shown = x[:max_points]
        ax.scatter(shown[:, 0], shown[:, 1], s=point_size, color=color, alpha=0.6, lw=0, gid=gid)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        inside = (shown[:, 0] >= xlim[0]) & (shown[:, 0] <= xlim[1]) & (shown[:, 1] >= ylim[0]) & (shown[:, 1] <= ylim[1])
        outside = int(np.sum(~inside))
        beyond = f"\n{outside:,} of them beyond the axes" if outside else ""
        ax.set_title(f"{title} ({shown.shape[0]:,} points){beyond}", fontsize=9)
    return fig


def plot_reverse_paths(
    trajectory,
    *,
    ts=None,
    num_paths: int = 8,
    num_background: int = 200,
    data=None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    r"""Paths of single samples through the reverse process, from noise to data.

    For 1-D samples the paths are drawn against time, with time running from :math:`T` on
    the left to 0 on the right (the order in which the sampler visits it). For 2-D samples
    the paths are drawn in the plane: a circle marks the start :math:`x_T`, a dot the end
    :math:`x_0`, over the final samples (and the data, if given) in the background.

    Args:
        trajectory: ``(steps+1, n)``, ``(steps+1, n, 1)`` or ``(steps+1, n, 2)``; row ``i``
            is the state at time ``ts[i]`` (row 0 the sample, the last row the noise), as
            returned with ``trajectory=True``.
        ts: the time of each row, increasing integers; default ``0..steps`` (DDPM). For a
            DDIM trajectory pass ``[0, *ddim_timesteps(T, num_steps)]``.
        num_paths: how many samples to follow (the first ones).
        num_background: 1-D: how many more paths to draw faintly; 2-D: how many final
            samples to scatter behind the paths.
        data: optional 2-D data points ``(m, 2)`` drawn in grey behind everything.
        figsize: figure size in inches (default depends on the dimension).

    Returns:
        A new Figure with one Axes. Artists ``"path-{i}"``: for 1-D, x data = ``ts`` and
        y data = the path; for 2-D, x and y data = the path's two coordinates.
    """
    traj = _trajectory("trajectory", trajectory)
    times = _times(ts, traj.shape[0])
    num_paths = v.positive_int("num_paths", num_paths)
    num_background = v.positive_int("num_background", num_background, minimum=0)
    shown = min(num_paths, traj.shape[1])
    if traj.shape[2] == 1:
        fig = _figure(figsize or (7.0, 3.6))
        ax = fig.add_subplot()
        background = traj[:, shown : shown + num_background, 0]
        if background.shape[1]:
            lines = ax.plot(times, background, color="0.6", lw=0.5, alpha=0.3)
            lines[0].set_label(f"{background.shape[1]} more samples")
        for i in range(shown):
            ax.plot(times, traj[:, i, 0], lw=1.4, color=f"C{i % 10}", gid=f"path-{i}")
        ax.set_xlim(times[-1], times[0])  # sampling runs from t = T (left) to t = 0 (right)
        ax.set_xlabel(r"time step $t$ (sampling runs from left to right: $T \to 0$)")
        ax.set_ylabel(r"sample position $x_t$")
        if background.shape[1]:
            ax.legend(fontsize=8, frameon=False, loc="upper left")
        ax.set_title(f"{shown} reverse paths from noise ($t = {times[-1]}$) to samples ($t = 0$)", fontsize=10)
        return fig
    fig = _figure(figsize or (5.0, 4.6))
    ax = fig.add_subplot()
    sets = [traj[0], traj[-1]]
    if data is not None:
        data = _points_2d("data", data)
        ax.scatter(data[:, 0], data[:, 1], s=7, color="0.55", alpha=0.45, lw=0, label="data", gid="data")
    final = traj[0, shown : shown + num_background]
    if final.shape[0]:
        ax.scatter(final[:, 0], final[:, 1], s=3, color=_SAMPLES, alpha=0.7, lw=0, label="other samples $x_0$",
                   gid="samples")  # fmt: skip
    for i in range(shown):
        color = f"C{i % 10}"
        ax.plot(traj[:, i, 0], traj[:, i, 1], lw=0.9, color=color, alpha=0.85, gid=f"path-{i}")
        ax.plot(traj[-1, i, 0], traj[-1, i, 1], "o", mfc="none", mec=color, ms=6)
        ax.plot(traj[0, i, 0], traj[0, i, 1], "o", color=color, ms=4)
    ax.plot([], [], "o", mfc="none", mec="k", ms=6, label=f"start $x_{{{times[-1]}}}$ (noise)")
    ax.plot([], [], "o", color="k", ms=4, label="end $x_0$ (sample)")
    xlim, ylim = _limits(*sets, whole=data)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    fig.legend(fontsize=7, frameon=False, loc="outside lower center", ncols=2, markerscale=2)
    ax.set_title(f"{shown} reverse paths from $t = {times[-1]}$ to $t = 0$", fontsize=10)
    return fig


def reverse_animation_html(
    trajectory,
    *,
    ts=None,
    num_frames: int = 30,
    data=None,
    max_points: int = 1500,
    figsize: tuple[float, float] = (3.6, 3.6),
    dpi: float = 90,
    interval_ms: int = 150,
) -> str:
    r"""HTML of a self-contained player showing 2-D samples travel from noise to data.

    The frames (a scatter of :math:`x_t` at evenly spaced rows of the trajectory, from the
    noise to the samples) are rendered now and embedded as PNG in a
    ``FuncAnimation(...).to_jshtml()`` player with its own slider and buttons: it works in a
    rendered book without a kernel. Show it with ``IPython.display.HTML(...)``. Axis limits
    are fixed for the whole animation (those of the samples and the data, so the starting
    noise may spill over the edge). Chapter 7's 27 frames of 3.6 x 3.6 inches at the default
    90 dpi make about 0.4 MB of HTML.

    Args:
        trajectory: ``(steps+1, n, 2)``, row ``i`` at time ``ts[i]`` (row 0 the sample).
        ts: the time of each row (increasing integers); default ``0..steps``.
        num_frames: at most this many frames (rows rounded to integers; repeats dropped),
            an integer >= 2.
        data: optional data points ``(m, 2)`` drawn in grey in every frame.
        max_points: at most this many samples are drawn (the first ones).
        figsize, dpi: frame size and resolution: they set the size of the HTML.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    traj = _trajectory("trajectory", trajectory)
    if traj.shape[2] != 2:
        raise ValueError(f"trajectory must hold 2-D points, shape (steps+1, n, 2); got {np.shape(trajectory)}")
    times = _times(ts, traj.shape[0])
    num_frames = v.positive_int("num_frames", num_frames, minimum=2)
    max_points = v.positive_int("max_points", max_points)
    rows = evenly_spaced_steps(traj.shape[0] - 1, num_frames)[::-1]  # noise first
    points = traj[:, :max_points]
    fig = _figure(figsize, dpi=dpi)
    ax = fig.add_subplot()
    if data is not None:
        data = _points_2d("data", data)
        ax.scatter(data[:, 0], data[:, 1], s=2, color=_DATA, alpha=0.3, lw=0, label="data")
    xlim, ylim = _limits(points[0], whole=data, margin=0.15)
    scatter = ax.scatter(points[rows[0], :, 0], points[rows[0], :, 1], s=3, color=_LEARNED, lw=0, label="samples")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$", fontsize=8)
    ax.set_ylabel("$x_2$", fontsize=8)
    ax.tick_params(labelsize=7)
    title = ax.set_title(" ", fontsize=9)

    def draw(i: int):
        row = rows[i]
        scatter.set_offsets(points[row])
        title.set_text(f"t = {times[row]}" + ("  (noise)" if row == traj.shape[0] - 1 else "  (samples)" if row == 0 else ""))
        return scatter, title

    alt = (f"Player with a slider, {len(rows)} frames from t = {times[rows[0]]} (Gaussian noise) to t = {times[rows[-1]]} "
           f"(the samples): a scatter of {points.shape[1]:,} 2-D points as the sampler carries them from noise towards "
           "the data" + (", drawn faintly behind them." if data is not None else "."))
    return jshtml_player(fig, draw, len(rows), interval_ms=interval_ms, alt=alt)


def plot_quality_vs_steps(
    results: Mapping[str, tuple[object, object]],
    *,
    floor: float | None = None,
    metric_label: str = "sliced Wasserstein-1 to fresh data",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 3.8),
) -> Figure:
    r"""Sample quality against the number of network evaluations, one line per sampler.

    Args:
        results: ``{label: (num_steps, values)}``; both sequences of the same length (a
            single point is drawn as a marker).
        floor: the data-vs-data value of the metric at the same sample size
            (:func:`~diffviz.noise_floor`): no sampler can be expected to go below it.
        metric_label: the y-axis label.
        title: the axes title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes (log x); artists ``"quality:{label}"`` and ``"floor"``.
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty mapping {label: (num_steps, values)}")
    fig = _figure(figsize)
    ax = fig.add_subplot()
    markers = "osD^v<>"
    for i, (name, (steps, values)) in enumerate(results.items()):
        s, q = _vector("num_steps", steps), _vector("values", values)
        if s.shape != q.shape:
            raise ValueError(f"results[{name!r}]: num_steps and values must have the same length; got {s.shape}, {q.shape}")
        ax.plot(s, q, marker=markers[i % len(markers)], ms=6, lw=1.5, color=f"C{i % 10}", label=name, gid=f"quality:{name}")
    if floor is not None:
        ax.axhline(float(floor), color=_REFERENCE, ls="--", lw=1.2, label=f"noise floor: data vs data ({float(floor):.3g})", gid="floor")
    ax.set_xscale("log")
    ax.set_ylim(0, None)
    ax.set_xlabel("sampling steps = network evaluations (log scale)")
    ax.set_ylabel(metric_label)
    ax.set_title(title or "Sample quality against sampling cost (lower is better)", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return fig


# --------------------------------------------------------------------------------------------
# Likelihood: the bound and its parts
# --------------------------------------------------------------------------------------------


def plot_bound_comparison(
    values: Mapping[str, float],
    *,
    errors: Mapping[str, float] | None = None,
    reference: float | None = None,
    reference_label: str = "exact NLL",
    dim: int = 1,
    title: str | None = None,
    figsize: tuple[float, float] = (6.6, 3.8),
) -> Figure:
    r"""A bar chart of negative log-likelihoods (or bounds on them), in nats and bits/dim.

    Args:
        values: ``{label: nats}``, one bar each (an average per example).
        errors: optional ``{label: standard error}``, drawn as error bars.
        reference: a horizontal line, e.g. the exact NLL; a bound should sit above it.
        reference_label: the legend text of that line.
        dim: the data dimension, for the bits-per-dimension axis on the right
            (:math:`\text{bits/dim} = \text{nats} / (d \ln 2)`).
        title: the axes title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes (and a secondary y axis in bits/dim). Artists: the bars
        carry ``gid`` ``"bar:{label}"``, the line ``"reference"``.
    """
    if not isinstance(values, Mapping) or not values:
        raise ValueError("values must be a non-empty mapping {label: nats}")
    dim = v.positive_int("dim", dim)
    names = list(values)
    heights = np.array([float(values[k]) for k in names])
    _finite("values", heights)
    yerr = None
    if errors is not None:
        yerr = np.array([float(errors.get(k, 0.0)) for k in names])
    fig = _figure(figsize)
    ax = fig.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(names))]
    bars = ax.bar(np.arange(len(names)), heights, yerr=yerr, color=colors, alpha=0.8, capsize=4, width=0.6)
    for bar, name, h in zip(bars.patches, names, heights, strict=True):
        bar.set_gid(f"bar:{name}")
        ax.annotate(f"{h:.3f}", (bar.get_x() + bar.get_width() / 2, h), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    if reference is not None:
        ax.axhline(float(reference), color=_EXACT, ls="--", lw=1.4, label=f"{reference_label} ({float(reference):.3f})", gid="reference")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set_xlabel("estimate")
    ax.set_ylabel("negative log-likelihood [nats]")
    scale = dim * math.log(2.0)
    secondary = ax.secondary_yaxis("right", functions=(lambda n: n / scale, lambda b: b * scale))
    secondary.set_ylabel("[bits per dimension]")
    top = float(np.max(heights + (0 if yerr is None else yerr)))
    ax.set_ylim(min(0.0, float(heights.min())) * 1.1, max(top, reference or 0.0) * 1.2)
    ax.set_title(title or "Bounds on the negative log-likelihood (lower is tighter)", fontsize=10)
    return fig


def plot_bound_terms(
    ts,
    terms,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (10.0, 3.6),
) -> Figure:
    r"""Where the bound comes from: the terms :math:`L_{t-1}` against ``t``, and their running share.

    Left: each term :math:`L_{t-1} = E\,\mathrm{KL}(q(x_{t-1}\mid x_t, x_0)\,\|\,
    p_\theta(x_{t-1}\mid x_t))` in nats, on log-log axes. Right: the cumulative share
    :math:`\sum_{s \le t} L_{s-1} / \sum_{s} L_{s-1}`, the fraction of the diffusion part of
    the bound contributed by steps up to ``t``.

    Args:
        ts: the steps ``(K,)``, increasing integers >= 2 (the KL terms; the decoder term at
            ``t = 1`` is a log-density, not a KL, and is reported separately).
        terms: ``(K,)`` nats per step, or ``{label: (K,)}`` to compare; values must be >= 0
            (each is an expected KL divergence).
        title: the figure title.
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes. Artists ``"terms"``/``"cumulative"`` or
        ``"terms:{label}"``/``"cumulative:{label}"``.
    """
    t = _vector("ts", ts)
    if np.any(t < 2) or np.any(np.diff(t) <= 0):
        raise ValueError("ts must be increasing steps >= 2 (the KL terms L_{t-1})")
    runs = _named("terms", terms)
    fig = _figure(figsize)
    ax_terms, ax_share = fig.subplots(1, 2)
    for i, (name, values) in enumerate(runs.items()):
        vals = _vector("terms", values)
        if vals.shape != t.shape:
            raise ValueError(f"terms{f'[{name!r}]' if name else ''} must have the shape of ts {t.shape}; got {vals.shape}")
        if np.any(vals < 0):
            raise ValueError("terms must be >= 0 (expected KL divergences)")
        suffix = f":{name}" if name else ""
        style = {"color": f"C{i % 10}", "ls": ("-", "--", ":", "-.")[i % 4], "label": name or None}
        ax_terms.plot(t, vals, lw=2.0 if style["ls"] == ":" else 1.2, gid=f"terms{suffix}", **style)  # dots need weight
        share = np.cumsum(vals) / max(float(np.sum(vals)), 1e-300)
        ax_share.plot(t, share, lw=2.2 if style["ls"] == ":" else 1.6, gid=f"cumulative{suffix}", **style)
    ax_terms.set_xscale("log")
    ax_terms.set_yscale("log")
    ax_terms.set_xlabel(r"time step $t$ (log scale)")
    ax_terms.set_ylabel(r"$L_{t-1}$ [nats]")
    ax_terms.set_title(r"One term per step: $E\,\mathrm{KL}(q(x_{t-1}|x_t,x_0)\,\|\,p_\theta(x_{t-1}|x_t))$", fontsize=9)
    ax_share.set_xscale("log")
    ax_share.set_ylim(0, 1.02)
    ax_share.set_xlabel(r"time step $t$ (log scale)")
    ax_share.set_ylabel(r"share of $\Sigma_t\, L_{t-1}$ from steps $\leq t$")
    ax_share.set_title("Running share of the diffusion terms", fontsize=9)
    for y in (0.5, 0.9):
        ax_share.axhline(y, color="0.8", lw=0.7, ls=":")
    if any(runs):
        ax_share.legend(fontsize=8, frameon=False, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_bound_vs_T(
    T_values,
    bounds: Mapping[str, object],
    *,
    nll: float | None = None,
    floor: float = 1e-6,
    figsize: tuple[float, float] = (10.0, 3.6),
) -> Figure:
    r"""The bound and its prior term :math:`L_T` against the number of steps ``T``.

    Args:
        T_values: the chain lengths ``(K,)``.
        bounds: ``{label: terms}`` where ``terms`` has attributes ``prior``, ``diffusion``
            and ``decoder``, each ``(K,)`` (a :class:`~diffviz.BoundTerms` of arrays,
            averaged over the data, one entry per ``T``).
        nll: the exact negative log-likelihood, drawn as a line on the left.
        floor: prior terms below this are drawn at ``floor`` (log axis).
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes: the total bound (left) and :math:`L_T =
        \mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0, I))` on a log scale (right). Artists
        ``"total:{label}"``, ``"prior:{label}"`` and ``"nll"``.
    """
    T = _vector("T_values", T_values)
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("bounds must be a non-empty mapping {label: BoundTerms of arrays}")
    fig = _figure(figsize)
    ax_total, ax_prior = fig.subplots(1, 2)
    for i, (name, terms) in enumerate(bounds.items()):
        parts = []
        for part in ("prior", "diffusion", "decoder"):
            if not hasattr(terms, part):
                raise ValueError(f"bounds[{name!r}] must have attributes prior, diffusion and decoder (a BoundTerms)")
            arr = _vector(f"bounds[{name!r}].{part}", getattr(terms, part))
            if arr.shape != T.shape:
                raise ValueError(f"bounds[{name!r}].{part} must have the shape of T_values {T.shape}; got {arr.shape}")
            parts.append(arr)
        prior, diffusion, decoder = parts
        color = f"C{i % 10}"
        ax_total.plot(T, prior + diffusion + decoder, marker="o", ms=4, color=color, label=name, gid=f"total:{name}")
        ax_prior.plot(T, np.maximum(prior, floor), marker="o", ms=4, color=color, label=name, gid=f"prior:{name}")
    if nll is not None:
        ax_total.axhline(float(nll), color=_EXACT, ls="--", lw=1.2, label=f"exact NLL ({float(nll):.3f})", gid="nll")
    for ax in (ax_total, ax_prior):
        ax.set_xscale("log")
        ax.set_xlabel(r"number of steps $T$ (log scale)")
        ax.legend(fontsize=8, frameon=False)
    ax_total.set_ylabel("bound on $-\\log p(x_0)$ [nats]")
    ax_total.set_title(r"Total bound $L_T + \Sigma_t\, L_{t-1} + L_0$", fontsize=9)
    ax_prior.set_yscale("log")
    _floor_note(ax_prior, floor)
    ax_prior.set_ylabel(r"$L_T$ [nats] (log scale)")
    ax_prior.set_title(r"Prior term $L_T = \mathrm{KL}(q(x_T|x_0)\,\|\,\mathcal{N}(0,1))$", fontsize=9)
    return fig
