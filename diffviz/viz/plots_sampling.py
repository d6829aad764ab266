r"""Chapter 7's figures: samples against the data, reverse paths, and quality against steps.

These functions never sample: they draw arrays the notebook computed. Shapes follow the rest of
the package: 1-D points are ``(n,)`` or ``(n, 1)``, 2-D points ``(n, 2)``, and a trajectory has
the time axis first, ``(steps+1, n, d)``, with entry ``i`` at time ``ts[i]`` (increasing; entry
0 is the sample, the last entry the starting noise), the layout of :func:`~diffviz.ddpm_sample`
and :func:`~diffviz.ddim_sample` with ``trajectory=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture
from diffviz.viz import player
from diffviz.viz.style import (
    DATA,
    EXACT,
    LEARNED,
    PARTICLES,
    REFERENCE,
    _check_mixture_1d,
    _figure,
    _finite,
    _hist_density,
    _mixture_density_np,
    _mixture_moments,
    _named,
    _points_2d,
    _samples_1d,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    runs = {k: _samples_1d("samples", val) for k, val in _named("samples", samples).items()}
    bins = v.positive_int("bins", bins)
    edges = np.linspace(x_range[0], x_range[1], bins + 1)
    grid = np.linspace(x_range[0], x_range[1], 400)
    density = _mixture_density_np(mixture, None, 0, grid[:, None])
    _, data_var = _mixture_moments(mixture)
    fig = _figure((panel_size[0] * len(runs), panel_size[1]))
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    heights_all = []
    for ax, (name, x) in zip(axes, runs.items(), strict=True):
        heights = _hist_density(x, edges)
        heights_all.append(heights.max())
        ax.stairs(heights, edges, fill=True, color=PARTICLES, label=f"{x.shape[0]:,} samples", gid=f"samples:{name}")
        ax.plot(grid, density, color=EXACT, lw=1.8, label=r"data density $p(x_0)$", gid=f"density:{name}")
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
    panels = [("data", data, DATA, "data")]
    panels += [(f"samples:{k}" if k else "samples", x, LEARNED, k or "samples") for k, x in sets.items()]
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
        ax.scatter(final[:, 0], final[:, 1], s=3, color=PARTICLES, alpha=0.7, lw=0, label="other samples $x_0$",
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
    rows = player.evenly_spaced_steps(traj.shape[0] - 1, num_frames)[::-1]  # noise first
    points = traj[:, :max_points]
    fig = _figure(figsize, dpi=dpi)
    ax = fig.add_subplot()
    if data is not None:
        data = _points_2d("data", data)
        ax.scatter(data[:, 0], data[:, 1], s=2, color=DATA, alpha=0.3, lw=0, label="data")
    xlim, ylim = _limits(points[0], whole=data, margin=0.15)
    scatter = ax.scatter(points[rows[0], :, 0], points[rows[0], :, 1], s=3, color=LEARNED, lw=0, label="samples")
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
    return player.jshtml_player(fig, draw, len(rows), interval_ms=interval_ms, alt=alt)


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
        s, q = _samples_1d("num_steps", steps), _samples_1d("values", values)
        if s.shape != q.shape:
            raise ValueError(f"results[{name!r}]: num_steps and values must have the same length; got {s.shape}, {q.shape}")
        ax.plot(s, q, marker=markers[i % len(markers)], ms=6, lw=1.5, color=f"C{i % 10}", label=name, gid=f"quality:{name}")
    if floor is not None:
        ax.axhline(float(floor), color=REFERENCE, ls="--", lw=1.2, label=f"noise floor: data vs data ({float(floor):.3g})", gid="floor")
    ax.set_xscale("log")
    ax.set_ylim(0, None)
    ax.set_xlabel("sampling steps = network evaluations (log scale)")
    ax.set_ylabel(metric_label)
    ax.set_title(title or "Sample quality against sampling cost (lower is better)", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return fig


