r"""Chapter 6's figures: the training loss, and the learned noise prediction against the exact one.

These functions never train: the notebook computes the numbers (which is where a student
should see them being computed) and the figure only draws them, so a test can hand a figure
known arrays and read back exactly what was drawn (gids such as ``"raw"``, ``"smooth"``,
``"learned:10"``). :func:`plot_eps_vs_exact`, :func:`eps_scrubber_html` and the live
explorer (:mod:`diffviz.viz.widgets_learning`) all draw through :class:`_EpsPanel`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz.viz import player
from diffviz.viz.style import EXACT, LEARNED, _figure, _finite, _named, _samples_1d

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
    runs = {k: _samples_1d("losses", val) for k, val in _named("losses", losses).items()}
    if smooth is not None:
        smooth = v.positive_int("smooth", smooth)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(runs.items()):
        suffix = f":{name}" if name else ""
        color = f"C{i % 10}" if name else LEARNED
        steps = np.arange(1, values.shape[0] + 1)
        raw_label = f"{name}: every step" if name else "loss of each step (one batch)"
        ax.plot(steps, values, lw=0.6, alpha=0.3, color=color, label=raw_label, gid=f"raw{suffix}")
        if smooth is not None and smooth > 1:
            window = min(smooth, values.shape[0])
            s_steps, means = _smoothed(values, window)
            label = f"{name}: mean of {window} steps" if name else f"moving average over {window} steps"
            ax.plot(s_steps, means, lw=1.8, color=color, label=label, gid=f"smooth{suffix}")
    if floor is not None:
        ax.axhline(float(floor), color=EXACT, ls="--", lw=1.2, label=f"{floor_label} ({float(floor):.3f})", gid="floor")
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
        (self.exact,) = ax.plot(x, np.zeros_like(x), color=EXACT, lw=2.0, label=r"exact $\varepsilon^*(x, t)$")
        (self.learned,) = ax.plot(
            x, np.zeros_like(x), color=LEARNED, lw=1.4, ls="--", label=r"network $\hat\varepsilon_\theta(x, t)$"
        )
        self.zero = ax.axhline(0.0, color="0.75", lw=0.6)
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
    grid = _samples_1d("x", x, min_n=2)
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
    return player.jshtml_player(fig, draw, len(ts), interval_ms=interval_ms, alt=alt)


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
    t = _samples_1d("ts", ts)
    if np.any(t < 1):
        raise ValueError("ts must be steps >= 1 (the axis is logarithmic)")
    fig = _figure(figsize)
    ax = fig.add_subplot()
    for i, (name, err) in enumerate(_named("errors", errors).items()):
        e = _samples_1d("errors", err)
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


