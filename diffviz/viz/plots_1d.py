r"""Chapter 2's figures: 1-D data diffusing, particle by particle, against the exact density.

What is drawn is *computed exactly* wherever the maths allows, so a histogram of simulated
particles can be compared by eye with the curve it should follow:

* with the shrink factor (the real DDPM step), mixture data stay a mixture:
  :func:`~diffviz.diffuse_mixture`;
* without it (the random walk :math:`x_t = x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t`) they
  stay a mixture too, with the same means and variances grown by :math:`\sum_{s\le t}
  \beta_s`: :func:`random_walk_mixture`.

Conventions: 1-D particles are ``(n,)`` or ``(n, 1)`` arrays, a trajectory is
``(T+1, n)`` or ``(T+1, n, 1)`` (entry ``t`` is :math:`x_t`, as returned by
:func:`~diffviz.run_forward_chain` with ``trajectory=True``). Artists whose data the tests
read back carry a ``gid`` (``"exact-density"``, ``"particles"``, ...). The rules every plot
module follows are in :mod:`diffviz.viz.style`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._forward import marginal_params
from diffviz._mixture import GaussianMixture, diffuse_mixture, mixture_log_prob
from diffviz._schedules import Schedule, constant_schedule
from diffviz.viz import player
from diffviz.viz.style import (
    EXACT,
    PARTICLES,
    REFERENCE,
    WRONG,
    _check_mixture_1d,
    _figure,
    _finite,
    _fmt,
    _hist_density,
    _host,
    _mixture_moments,
    _normal_pdf,
    _samples_1d,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_GRID_POINTS = 400

# --------------------------------------------------------------------------------------------
# Small helpers: argument checks and exact moments
# --------------------------------------------------------------------------------------------


def _trajectory_1d(name: str, trajectory, schedule: Schedule) -> np.ndarray:
    """A 1-D trajectory ``(steps+1, n)`` or ``(steps+1, n, 1)`` as float64 ``(steps+1, n)``."""
    arr = np.asarray(trajectory, dtype=np.float64)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name} must have shape (steps+1, n) or (steps+1, n, 1); got {np.shape(trajectory)}"
        )
    if arr.shape[0] > schedule.T + 1:
        raise ValueError(f"{name} has {arr.shape[0] - 1} steps but the schedule only has T = {schedule.T}")
    return _finite(name, arr)

def _int_t(t, T: int, *, lo: int = 0) -> int:
    return int(v.timestep("t", t, T, lo=lo))


def _marginal_moments(
    schedule: Schedule, mixture: GaussianMixture, drift: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact mean and variance of :math:`x_t` for every ``t`` in ``0..T``, each ``(T+1,)``.

    With drift: mean :math:`\sqrt{\bar\alpha_t}\,m_0`, variance :math:`\bar\alpha_t v_0 + 1 -
    \bar\alpha_t`. Without: mean :math:`m_0`, variance :math:`v_0 + \sum_{s \le t}\beta_s`.
    """
    m0, v0 = _mixture_moments(mixture)
    s = _host(schedule)
    if drift:
        return np.sqrt(s.alpha_bars) * m0, s.alpha_bars * v0 + s.one_minus_alpha_bars
    total = np.cumsum(s.betas)  # betas[0] = 0
    return np.full_like(total, m0), v0 + total


def _beta_text(schedule: Schedule, t: int) -> str:
    """``β = 0.03`` for a constant schedule, else the current ``βₜ`` (plain text, no mathtext)."""
    betas = np.asarray(schedule.betas)
    if np.all(betas[1:] == betas[1]):
        return f"β = {betas[1]:.3g}"
    return f"βₜ = {betas[max(t, 1)]:.3g}"


# --------------------------------------------------------------------------------------------
# Exact densities
# --------------------------------------------------------------------------------------------


def random_walk_mixture(schedule: Schedule, mixture: GaussianMixture, t) -> GaussianMixture:
    r"""The exact marginal of the forward chain *without* the shrink factor, from mixture data.

    The random walk :math:`x_t = x_{t-1} + \sqrt{\beta_t}\,\varepsilon_t` only ever adds
    independent noise, so component :math:`k` keeps its mean and its variance grows:

    .. math::
        q^{\text{walk}}_t(x) = \sum_k w_k\, \mathcal N\Big(x;\ \mu_k,\ s_k^2 + \sum_{s=1}^t \beta_s\Big)

    (:math:`s_k^2 + t\beta` for a constant schedule). The total variance is
    :math:`\mathrm{Var}(x_0) + \sum_s \beta_s`: it grows without bound, unlike the DDPM chain
    (:func:`~diffviz.diffuse_mixture`), whose variance settles at 1.

    Args:
        schedule: the noise schedule.
        mixture: the data distribution, any dimension ``d``.
        t: an integer in ``0..T`` (concrete or traced).

    Returns:
        A :class:`~diffviz.GaussianMixture` with the same weights and means.
    """
    t = v.timestep("t", t, schedule.T)
    added = jnp.cumsum(schedule.betas)[t]  # scalar: sum of beta_1..beta_t
    return GaussianMixture(mixture.weights, mixture.means, jnp.sqrt(mixture.stds**2 + added))


def _marginal(schedule: Schedule, mixture: GaussianMixture, t, drift: bool) -> GaussianMixture:
    return diffuse_mixture(schedule, mixture, t) if drift else random_walk_mixture(schedule, mixture, t)


def _density(mixture: GaussianMixture, grid: np.ndarray) -> np.ndarray:
    """The mixture's density at 1-D points ``grid: (G,)``, as float64 ``(G,)``."""
    log_p = mixture_log_prob(mixture, jnp.asarray(grid, jnp.float32)[:, None])  # (G,)
    return np.exp(np.asarray(log_p, np.float64))


@functools.partial(jax.jit, static_argnames="drift")
def _marginal_densities(
    schedule: Schedule, mixture: GaussianMixture, grid: jax.Array, drift: bool
) -> jax.Array:
    """Exact densities at ``grid: (G,)`` for every ``t`` in ``0..T`` at once: ``(T+1, G)``.

    One compiled call per shape; a new beta (same ``T``) reuses it.
    """

    def one(t):
        return jnp.exp(mixture_log_prob(_marginal(schedule, mixture, t, drift), grid[:, None]))  # (G,)

    return jax.vmap(one)(jnp.arange(schedule.T + 1, dtype=jnp.int32))


def _auto_range(means: np.ndarray, variances: np.ndarray) -> tuple[float, float]:
    """An x-range that holds ``mean +- 4.5 std`` for every given moment, and at least [-4, 4]."""
    sd = np.sqrt(np.maximum(variances, 0.0))
    lo, hi = float(np.min(means - 4.5 * sd)), float(np.max(means + 4.5 * sd))
    return min(lo, -4.0), max(hi, 4.0)


def _grid(x_range: tuple[float, float]) -> np.ndarray:
    """Evaluation points (float32 values, so the plotted x are exactly the evaluated x)."""
    return np.linspace(x_range[0], x_range[1], _GRID_POINTS).astype(np.float32).astype(np.float64)


def _edges(x_range: tuple[float, float], bins: int | None) -> np.ndarray:
    """Histogram bin edges: ``bins`` bins, or by default bins about 0.1 wide (60 to 120 of them)."""
    if bins is None:
        bins = int(np.clip(math.ceil((x_range[1] - x_range[0]) / 0.1), 60, 120))
    bins = v.positive_int("bins", bins)
    return np.linspace(x_range[0], x_range[1], bins + 1)


# --------------------------------------------------------------------------------------------
# (a) One snapshot of a diffusing 1-D data set (shared by the figure, the scrubber, the widget)
# --------------------------------------------------------------------------------------------


class _SnapshotPanel:
    """The artists of one snapshot on an Axes, and a cheap :meth:`show` that moves them to a new t.

    The static figure, the jshtml scrubber and the slider widget all draw through this class,
    so a test of :func:`plot_diffusion_snapshot` also covers what the widget shows.
    """

    def __init__(
        self,
        ax: Axes,
        *,
        grid: np.ndarray,
        edges: np.ndarray,
        y_max: float,
        n_particles: int,
        drift: bool,
        compact: bool = False,
    ):
        self.ax, self.grid, self.edges = ax, grid, edges
        small = 7 if compact else 8
        self.hist = ax.stairs(
            np.zeros(edges.shape[0] - 1), edges, fill=True, color=PARTICLES,
            label=f"{n_particles:,} particles", gid="particles",
        )  # fmt: skip
        (self.reference,) = ax.plot(
            grid, _normal_pdf(grid, 0.0, 1.0), ls="--", lw=1.1, color=REFERENCE,
            label=r"$\mathcal{N}(0, 1)$, where DDPM ends", gid="standard-normal",
        )  # fmt: skip
        exact_label = r"exact density $q(x_t)$" if drift else "exact density (random walk)"
        (self.exact,) = ax.plot(
            grid, np.zeros_like(grid), lw=1.8, color=EXACT, label=exact_label, gid="exact-density"
        )
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0.0, y_max)
        ax.set_xlabel(r"particle position $x_t$", fontsize=small + 1)
        ax.set_ylabel("density (per unit of $x$)", fontsize=small + 1)
        ax.tick_params(labelsize=small)
        self.title = ax.set_title(" ", fontsize=small + 1 if compact else 10)
        self.stats = ax.text(
            0.015, 0.975, "", transform=ax.transAxes, ha="left", va="top", fontsize=small - 0.5,
            family="monospace", gid="stats",
        )  # fmt: skip
        self.legend = None
        if not compact:  # below the axes, where the bars never cover it; two rows if narrow
            ncols = 3 if ax.figure.get_figwidth() >= 6 else 2
            self.legend = ax.figure.legend(loc="outside lower center", ncols=ncols, fontsize=small, frameon=False)

    @property
    def dynamic_artists(self) -> tuple:
        """Artists that change with t, in drawing order (the widget blits exactly these)."""
        return (self.hist, self.reference, self.exact, self.stats, self.title)

    def show(self, x_t: np.ndarray, density: np.ndarray, title: str, stats: str) -> None:
        self.hist.set_data(_hist_density(x_t, self.edges))
        self.exact.set_ydata(density)
        self.title.set_text(title)
        self.stats.set_text(stats)


def _snapshot_texts(
    schedule: Schedule, t: int, drift: bool, x_t: np.ndarray, variance: float
) -> tuple[str, str]:
    """Title (parameters) and the numbers box (simulated vs exact variance) of one snapshot."""
    # Plain Unicode, not mathtext: a title that changes with every t would be re-parsed each
    # time (~40 ms), more than the whole rest of a slider redraw.
    beta = _beta_text(schedule, t)
    if drift:
        title = f"{beta},  t = {t},  ᾱₜ = {_fmt(float(np.asarray(schedule.alpha_bars)[t]))}"
    else:
        added = float(np.sum(np.asarray(schedule.betas, np.float64)[: t + 1]))
        title = f"random walk (no shrink): {beta},  t = {t},  Σβₛ = {added:.3g}"
    stats = f"variance of xₜ\n  particles {np.var(x_t):8.3f}\n  exact     {variance:8.3f}"
    return title, stats


def plot_diffusion_snapshot(
    x_t,
    mixture: GaussianMixture,
    schedule: Schedule,
    t,
    *,
    drift: bool = True,
    bins: int | None = None,
    x_range: tuple[float, float] | None = None,
    y_max: float | None = None,
    figsize: tuple[float, float] = (6.4, 3.6),
) -> Figure:
    r"""A histogram of particles at step ``t`` with the exact density they should follow.

    The red curve is :math:`q(x_t)`, the data distribution pushed through ``t`` forward steps
    (:func:`~diffviz.diffuse_mixture`); with ``drift=False`` it is the random walk's exact
    density instead (:func:`random_walk_mixture`). The dashed curve is
    :math:`\mathcal N(0, 1)`, where the DDPM chain is headed. A box in the corner compares the
    particles' variance with the exact one.

    Args:
        x_t: particles at step ``t``, ``(n,)`` or ``(n, 1)``; e.g. entry ``t`` of
            ``run_forward_chain(key, schedule, x0, trajectory=True, drift=drift)``.
        mixture: the 1-D data distribution the particles started from.
        schedule: the schedule that was simulated.
        t: the step, an integer in ``0..T``.
        drift: whether the particles were simulated with the :math:`\sqrt{1-\beta_t}` shrink.
        bins: number of histogram bins; default: about 0.1 wide, 60 to 120 bins.
        x_range: ``(lo, hi)`` of the x axis; default: the exact mean :math:`\pm 4.5` std,
            and at least :math:`[-4, 4]`.
        y_max: top of the y axis; default: a little above the highest curve or bar.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes.
    """
    x = _samples_1d("x_t", x_t)
    _check_mixture_1d(mixture)
    t = _int_t(t, schedule.T)
    means, variances = _marginal_moments(schedule, mixture, drift)
    x_range = _auto_range(means[t : t + 1], variances[t : t + 1]) if x_range is None else x_range
    grid, edges = _grid(x_range), _edges(x_range, bins)
    density = _density(_marginal(schedule, mixture, t, drift), grid)
    if y_max is None:
        y_max = 1.2 * max(density.max(), _hist_density(x, edges).max(), _normal_pdf(0.0, 0.0, 1.0))
    fig = _figure(figsize)
    panel = _SnapshotPanel(
        fig.add_subplot(), grid=grid, edges=edges, y_max=y_max, n_particles=x.shape[0], drift=drift
    )
    panel.show(x, density, *_snapshot_texts(schedule, t, drift, x, variances[t]))
    return fig


def plot_snapshot_grid(
    trajectories: Mapping[float, object],
    mixture: GaussianMixture,
    ts: Sequence[int],
    *,
    drift: bool = True,
    bins: int | None = None,
    panel_size: tuple[float, float] = (2.7, 2.1),
) -> Figure:
    r"""Small multiples: one row per :math:`\beta`, one column per step ``t``.

    A static stand-in for the sliders (a rendered book has no kernel): each panel is a
    snapshot as in :func:`plot_diffusion_snapshot`, for a constant-:math:`\beta` chain.

    Args:
        trajectories: ``{beta: trajectory}``; each trajectory ``(T+1, n)`` or ``(T+1, n, 1)``
            was simulated with ``constant_schedule(beta, T)``.
        mixture: the 1-D data distribution.
        ts: the steps to show (each ``<= T`` of every trajectory).
        drift: whether the chains were simulated with the shrink factor.
        bins: histogram bins per panel; default about 0.1 wide, 60 to 120 bins.
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(trajectories) * len(ts)`` Axes.
    """
    _check_mixture_1d(mixture)
    if not trajectories or not ts:
        raise ValueError("trajectories and ts must both be non-empty")
    rows, cols = len(trajectories), len(ts)
    fig = _figure((panel_size[0] * cols, panel_size[1] * rows + 0.4))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, (beta, trajectory) in enumerate(trajectories.items()):
        n_steps = np.shape(trajectory)[0] - 1
        schedule = constant_schedule(float(beta), max(n_steps, 1))
        traj = _trajectory_1d("trajectory", trajectory, schedule)
        steps = [_int_t(t, n_steps) for t in ts]
        means, variances = _marginal_moments(schedule, mixture, drift)
        x_range = _auto_range(means[steps], variances[steps])
        grid, edges = _grid(x_range), _edges(x_range, bins)
        for j, t in enumerate(steps):
            density = _density(_marginal(schedule, mixture, t, drift), grid)
            y_max = 1.2 * max(density.max(), _hist_density(traj[t], edges).max(), _normal_pdf(0.0, 0.0, 1.0))
            panel = _SnapshotPanel(
                axes[i, j], grid=grid, edges=edges, y_max=y_max, n_particles=traj.shape[1],
                drift=drift, compact=True,
            )  # fmt: skip
            title, _ = _snapshot_texts(schedule, t, drift, traj[t], variances[t])
            if not drift:  # the long random-walk title does not fit a small panel
                title = rf"$\beta = {float(beta):.3g}$, $t = {t}$, Var $= {variances[t]:.2f}$"
            panel.show(traj[t], density, title, f"var {np.var(traj[t]):.2f}\n(exact {variances[t]:.2f})")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    kind = r"with the $\sqrt{1-\beta}$ shrink (DDPM)" if drift else "without the shrink (random walk)"
    layout = r"Rows: $\beta$" if rows > 1 else rf"$\beta = {float(next(iter(trajectories))):.3g}$"
    fig.suptitle(rf"{layout}; columns: step $t$; {kind}", fontsize=10)
    return fig


def snapshot_scrubber_html(
    trajectory,
    mixture: GaussianMixture,
    schedule: Schedule,
    *,
    drift: bool = True,
    num_frames: int = 40,
    bins: int | None = None,
    figsize: tuple[float, float] = (5.2, 3.0),
    dpi: float = 90,
    interval_ms: int = 200,
) -> str:
    r"""HTML of a self-contained player that scrubs ``t`` (works without a kernel).

    The frames (snapshots as in :func:`plot_diffusion_snapshot`, on fixed axes) are
    rendered now and embedded as PNG in a ``FuncAnimation(...).to_jshtml()`` player with a
    slider and buttons. Show it with ``IPython.display.HTML(...)``. At the defaults (40 frames
    of 5.2 x 3.0 inches at 72 dpi) the HTML is about 1.2 MB.

    Args:
        trajectory: ``(T+1, n)`` or ``(T+1, n, 1)``, from ``run_forward_chain(...,
            trajectory=True)``.
        mixture: the 1-D data distribution the chain started from.
        schedule: the schedule that was simulated.
        drift: whether the chain was simulated with the shrink factor.
        num_frames: at most this many frames, at evenly spaced steps from 0 to T (both
            included; repeated steps after rounding are dropped).
        bins: histogram bins; default about 0.1 wide, 60 to 120 bins.
        figsize, dpi: frame size (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    _check_mixture_1d(mixture)
    traj = _trajectory_1d("trajectory", trajectory, schedule)
    num_frames = v.positive_int("num_frames", num_frames, minimum=2)
    steps = player.evenly_spaced_steps(traj.shape[0] - 1, num_frames)
    means, variances = _marginal_moments(schedule, mixture, drift)
    x_range = _auto_range(means[steps], variances[steps])
    grid, edges = _grid(x_range), _edges(x_range, bins)
    densities = np.asarray(_marginal_densities(schedule, mixture, jnp.asarray(grid, jnp.float32), drift))
    y_max = 1.2 * max(densities[steps].max(), max(_hist_density(traj[t], edges).max() for t in steps))
    fig = _figure(figsize, dpi=dpi)
    panel = _SnapshotPanel(
        fig.add_subplot(), grid=grid, edges=edges, y_max=y_max, n_particles=traj.shape[1], drift=drift
    )

    def draw(i: int):
        t = int(steps[i])
        panel.show(traj[t], densities[t], *_snapshot_texts(schedule, t, drift, traj[t], variances[t]))
        return panel.dynamic_artists

    alt = (f"Player with a slider over the step t, {len(steps)} frames from t = {steps[0]} to {steps[-1]}: "
           f"a histogram of {traj.shape[1]:,} particles of a 1-D forward chain at that t, with the exact "
           "density of x_t drawn over it as a curve.")
    return player.jshtml_player(fig, draw, len(steps), interval_ms=interval_ms, alt=alt)


# --------------------------------------------------------------------------------------------
# (b) Particle paths: the Brownian-motion picture
# --------------------------------------------------------------------------------------------


def plot_particle_paths(
    trajectory,
    schedule: Schedule,
    mixture: GaussianMixture,
    *,
    drift: bool = True,
    num_paths: int = 6,
    num_background: int = 200,
    figsize: tuple[float, float] = (7.0, 3.6),
) -> Figure:
    r"""A few particles followed step by step, over a faint crowd and the exact spread.

    Each coloured line is one particle's path :math:`x_0, x_1, \dots`: a jagged random walk,
    the discrete cousin of Brownian motion. The shaded band is the exact mean :math:`\pm 2`
    standard deviations of :math:`x_t` over the whole data set; the dotted lines at
    :math:`\pm 2` are the same band for :math:`\mathcal N(0, 1)`.

    Args:
        trajectory: ``(steps+1, n)`` or ``(steps+1, n, 1)`` with ``steps <= T``.
        schedule: the schedule that was simulated.
        mixture: the 1-D data distribution the particles started from (for the band).
        drift: whether the chain was simulated with the shrink factor.
        num_paths: how many particles to highlight (the first ones).
        num_background: how many more to draw faintly (0 for none).
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes.
    """
    _check_mixture_1d(mixture)
    traj = _trajectory_1d("trajectory", trajectory, schedule)
    num_paths = v.positive_int("num_paths", num_paths)
    num_background = v.positive_int("num_background", num_background, minimum=0)
    steps = np.arange(traj.shape[0])
    means, variances = _marginal_moments(schedule, mixture, drift)
    mean, sd = means[steps], np.sqrt(variances[steps])
    fig = _figure(figsize)
    ax = fig.add_subplot()
    ax.fill_between(
        steps, mean - 2 * sd, mean + 2 * sd, color=EXACT, alpha=0.12, lw=0,
        label=r"exact mean $\pm$ 2 std of $x_t$", gid="exact-band",
    )  # fmt: skip
    background = traj[:, num_paths : num_paths + num_background]
    if background.shape[1]:
        lines = ax.plot(steps, background, color="0.55", lw=0.5, alpha=0.25)
        lines[0].set_label(f"{background.shape[1]} more particles")
    for i in range(min(num_paths, traj.shape[1])):
        ax.plot(steps, traj[:, i], lw=1.4, color=f"C{i % 10}", gid=f"path-{i}")
    reference_label = r"$\pm 2$: 95% band of $\mathcal{N}(0, 1)$"
    for y in (-2.0, 2.0):
        ax.axhline(y, ls=":", lw=1.0, color=REFERENCE, label=reference_label if y > 0 else None)
    ax.set_xlim(0, steps[-1])
    ax.set_xlabel(r"time step $t$")
    ax.set_ylabel(r"particle position $x_t$")
    kind = r"shrink $\sqrt{1-\beta}$ on (DDPM)" if drift else "no shrink (random walk)"
    shown = min(num_paths, traj.shape[1])
    ax.set_title(rf"{shown} particle paths: {_beta_text(schedule, 1)}, $T = {steps[-1]}$, {kind}", fontsize=10)
    fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=3)
    return fig


# --------------------------------------------------------------------------------------------
# (c) The closed form against the simulated chain (and the seed post's formula)
# --------------------------------------------------------------------------------------------


def plot_closed_form_check(
    samples,
    x0: float,
    beta: float,
    t: int,
    *,
    bins: int = 60,
    figsize: tuple[float, float] = (6.6, 3.8),
) -> Figure:
    r"""Simulated chain vs the closed form vs the seed post's formula, from one start ``x0``.

    ``samples`` are :math:`x_t` after ``t`` steps of a constant-:math:`\beta` chain, every
    particle started at the same ``x0``. Two curves are drawn on the histogram:

    * the closed form :math:`\mathcal N(\sqrt{\bar\alpha_t}\,x_0,\ 1-\bar\alpha_t)`,
      :math:`\bar\alpha_t = (1-\beta)^t` (from :func:`~diffviz.marginal_params`);
    * the seed post's :math:`\mathcal N(\sqrt{\alpha^t}\,x_0,\ (1-\alpha)^t)`: the same mean,
      but variance :math:`\beta^t`, which *shrinks* with t. For ``t >= 2`` it is a spike far
      taller than the axes; its height is written next to an arrow.

    Args:
        samples: ``(n,)`` or ``(n, 1)`` chain samples at step ``t``.
        x0: the common starting point (a number).
        beta: the constant per-step variance, in (0, 1).
        t: the number of steps taken, an integer >= 1.
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes.
    """
    x = _samples_1d("samples", samples)
    x0 = float(x0)
    schedule = constant_schedule(beta, v.positive_int("t", t))  # also checks that beta is in (0, 1)
    beta, t = float(beta), schedule.T
    mean, std = (float(a) for a in marginal_params(schedule, jnp.float32(x0), t))
    var = std**2
    # float64 from the given beta: the seed curve is so narrow that float32 rounding would move it
    seed_mean, seed_var = math.sqrt((1.0 - beta) ** t) * x0, beta**t
    lo, hi = mean - 5 * std, mean + 5 * std
    # A regular grid plus a fine one across the seed curve's narrow peak, so it is drawn at all.
    fine = seed_mean + math.sqrt(seed_var) * np.linspace(-5, 5, 101)
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 600), fine[(fine > lo) & (fine < hi)]]))
    edges = np.linspace(lo, hi, bins + 1)
    heights = _hist_density(x, edges)
    correct, seed = _normal_pdf(grid, mean, var), _normal_pdf(grid, seed_mean, seed_var)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    runs = f"simulated chain ({x.shape[0]:,} runs)"
    ax.stairs(heights, edges, fill=True, color=PARTICLES, label=runs, gid="particles")
    ax.plot(grid, correct, color=EXACT, lw=2, gid="closed-form",
            label=r"closed form $\mathcal{N}(\sqrt{\bar\alpha_t}\,x_0,\ 1-\bar\alpha_t)$")  # fmt: skip
    ax.plot(grid, seed, color=WRONG, lw=1.5, ls="-", gid="seed-formula",
            label=r"seed post's variance $(1-\alpha)^t$, around $\sqrt{\alpha^t}\,x_0$")  # fmt: skip
    y_top = 1.35 * max(correct.max(), heights.max())
    ax.set_ylim(0, y_top)
    ax.set_xlim(lo, hi)
    if seed.max() > y_top:
        ax.annotate(
            f"seed curve: a spike {seed.max():.3g} high\n" + rf"(variance $\beta^t$ = {seed_var:.2g})",
            xy=(seed_mean, 0.9 * y_top), xytext=(seed_mean + 1.4 * std, 0.55 * y_top),
            fontsize=8, color=WRONG, arrowprops={"arrowstyle": "->", "color": WRONG},
        )  # fmt: skip
    stats = (
        f"             mean    variance\n"
        f"simulated {np.mean(x):7.3f} {np.var(x):10.3g}\n"
        f"closed    {mean:7.3f} {var:10.3g}\n"
        f"seed      {seed_mean:7.3f} {seed_var:10.3g}"
    )
    ax.text(
        0.015, 0.975, stats, transform=ax.transAxes, ha="left", va="top", fontsize=7.5, family="monospace",
        gid="stats",
    )  # fmt: skip
    ax.set_xlabel(rf"$x_t$ after $t = {t}$ steps from $x_0 = {x0:g}$")
    ax.set_ylabel("density (per unit of $x$)")
    abar_t = np.asarray(schedule.alpha_bars)[t]
    ax.set_title(rf"$\beta = {beta:.3g}$, $t = {t}$: $\bar\alpha_t = (1-\beta)^t = {abar_t:.3f}$", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig
