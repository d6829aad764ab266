r"""Figures for the course: pure functions, parameters in, a ``matplotlib`` Figure out.

Every ``plot_*`` function builds a fresh :class:`matplotlib.figure.Figure` (never through
``pyplot``, so nothing is registered globally and nothing needs closing) and returns it. In a
notebook the returned figure is shown by making it the last expression of a cell or with
``IPython.display.display(fig)``; in a script, ``fig.savefig("name.png")``.

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
read back carry a ``gid`` (``"exact-density"``, ``"particles"``, ...).

``matplotlib`` is imported inside the functions, not at the top of the module: training and
sampling code that never plots then does not pay for it when it runs ``import diffviz``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._forward import marginal_params, prior_kl
from diffviz._mixture import GaussianMixture, diffuse_mixture, mixture_log_prob
from diffviz._player import evenly_spaced_steps, jshtml_player
from diffviz._schedules import Schedule, constant_schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# One palette for the whole course: particles in light blue, exact answers in dark red,
# the N(0, 1) that DDPM aims for in grey, the seed post's formula in orange.
_PARTICLES = "#9ebfe0"
_EXACT = "#b2182b"
_REFERENCE = "0.35"
_SEED = "#e6820e"
_GRID_POINTS = 400

# --------------------------------------------------------------------------------------------
# Small helpers: argument checks and exact moments
# --------------------------------------------------------------------------------------------


def _figure(figsize: tuple[float, float], *, dpi: float = 100) -> Figure:
    """A new Figure with constrained layout, not registered with ``pyplot``."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def _particles_1d(name: str, x) -> np.ndarray:
    """1-D particles ``(n,)`` or ``(n, 1)`` as a float64 vector ``(n,)``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) (1-D particles); got {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


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
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


def _check_mixture_1d(mixture: GaussianMixture) -> None:
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture (e.g. diffviz.mixture_1d('bimodal'))")


def _int_t(t, T: int, *, lo: int = 0) -> int:
    return int(v.timestep("t", t, T, lo=lo))


def _mixture_moments(mixture: GaussianMixture) -> tuple[float, float]:
    """Mean and variance of a 1-D mixture (law of total variance)."""
    w = np.asarray(mixture.weights, np.float64)  # (K,)
    mu = np.asarray(mixture.means, np.float64)[:, 0]  # (K,)
    s = np.asarray(mixture.stds, np.float64)[:, 0]  # (K,)
    mean = float(np.sum(w * mu))
    return mean, float(np.sum(w * (s**2 + mu**2)) - mean**2)


def _host(schedule: Schedule) -> Schedule:
    """The schedule's arrays as float64 NumPy arrays.

    Plotting code indexes schedules at many different ``t``; indexing a JAX array with a new
    Python int, or slicing it to a new length, compiles a fresh little kernel each time
    (tens of milliseconds). One copy to the host avoids all of that.
    """
    return Schedule(*(np.asarray(a, np.float64) for a in schedule))


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


def _fmt(x: float) -> str:
    """A number in [0, 1] for a title: 3 decimals, or scientific notation when tiny."""
    return f"{x:.3f}" if x >= 0.01 or x == 0 else f"{x:.2e}"


# KL and SNR values below this are drawn at it on log axes: float32 cannot resolve them (1 - abar_T
# rounds to 1). The default of every figure that clips, and the live schedule explorer's floor.
KL_FLOOR = 1e-8


def _floor_note(ax, floor: float) -> None:
    """On a log y axis whose values are clipped at ``floor``: a strip below the floor, where no
    curve runs, saying so (a curve drawn along the floor would otherwise read as a real value)."""
    ax.set_ylim(bottom=floor / 30)
    ax.text(0.98, 0.02, f"values below {floor:g} are drawn at {floor:g}", transform=ax.transAxes, ha="right",
            va="bottom", fontsize=7, color="0.4", gid="floor-note")  # fmt: skip


def _fmt_kl(kl: float, floor: float = KL_FLOOR) -> str:
    return f"< {floor:g}" if kl < floor else f"= {kl:.2g}"


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


def _heights(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram heights as a density of *all* particles (those outside the range included)."""
    counts, _ = np.histogram(x, edges)
    return counts / (x.shape[0] * np.diff(edges))


def _standard_normal(grid: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi)


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
            np.zeros(edges.shape[0] - 1), edges, fill=True, color=_PARTICLES,
            label=f"{n_particles:,} particles", gid="particles",
        )  # fmt: skip
        (self.reference,) = ax.plot(
            grid, _standard_normal(grid), ls="--", lw=1.1, color=_REFERENCE,
            label=r"$\mathcal{N}(0, 1)$, where DDPM ends", gid="standard-normal",
        )  # fmt: skip
        exact_label = r"exact density $q(x_t)$" if drift else "exact density (random walk)"
        (self.exact,) = ax.plot(
            grid, np.zeros_like(grid), lw=1.8, color=_EXACT, label=exact_label, gid="exact-density"
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
        self.hist.set_data(_heights(x_t, self.edges))
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
    x = _particles_1d("x_t", x_t)
    _check_mixture_1d(mixture)
    t = _int_t(t, schedule.T)
    means, variances = _marginal_moments(schedule, mixture, drift)
    x_range = _auto_range(means[t : t + 1], variances[t : t + 1]) if x_range is None else x_range
    grid, edges = _grid(x_range), _edges(x_range, bins)
    density = _density(_marginal(schedule, mixture, t, drift), grid)
    if y_max is None:
        y_max = 1.2 * max(density.max(), _heights(x, edges).max(), _standard_normal(0.0))
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
            y_max = 1.2 * max(density.max(), _heights(traj[t], edges).max(), _standard_normal(0.0))
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
    steps = evenly_spaced_steps(traj.shape[0] - 1, num_frames)
    means, variances = _marginal_moments(schedule, mixture, drift)
    x_range = _auto_range(means[steps], variances[steps])
    grid, edges = _grid(x_range), _edges(x_range, bins)
    densities = np.asarray(_marginal_densities(schedule, mixture, jnp.asarray(grid, jnp.float32), drift))
    y_max = 1.2 * max(densities[steps].max(), max(_heights(traj[t], edges).max() for t in steps))
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
    return jshtml_player(fig, draw, len(steps), interval_ms=interval_ms, alt=alt)


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
        steps, mean - 2 * sd, mean + 2 * sd, color=_EXACT, alpha=0.12, lw=0,
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
        ax.axhline(y, ls=":", lw=1.0, color=_REFERENCE, label=reference_label if y > 0 else None)
    ax.set_xlim(0, steps[-1])
    ax.set_xlabel(r"time step $t$")
    ax.set_ylabel(r"particle position $x_t$")
    kind = r"shrink $\sqrt{1-\beta}$ on (DDPM)" if drift else "no shrink (random walk)"
    shown = min(num_paths, traj.shape[1])
    ax.set_title(rf"{shown} particle paths: {_beta_text(schedule, 1)}, $T = {steps[-1]}$, {kind}", fontsize=10)
    fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=3)
    return fig


# --------------------------------------------------------------------------------------------
# (c), (d) Schedules and how far x_T is from N(0, 1)
# --------------------------------------------------------------------------------------------


def plot_schedules(
    schedules: Mapping[str, Schedule], *, figsize: tuple[float, float] = (11.0, 3.4)
) -> Figure:
    r"""Three views of each schedule against ``t``: :math:`\bar\alpha_t`, SNR, :math:`1-\bar\alpha_t`.

    :math:`\bar\alpha_t` is the fraction of the data's *variance* still present in
    :math:`x_t` (the signal is scaled by :math:`\sqrt{\bar\alpha_t}`), :math:`1 - \bar\alpha_t`
    the variance of the noise, and :math:`\mathrm{SNR}(t) = \bar\alpha_t / (1-\bar\alpha_t)`
    their ratio, on a log scale because it spans many decades. ``t = 0`` (infinite SNR) is
    left out.

    Args:
        schedules: ``{label: schedule}``, e.g. ``{"linear": linear_schedule(1000)}``.
        figsize: figure size in inches.

    Returns:
        A new Figure with three Axes.
    """
    if not schedules:
        raise ValueError("schedules must hold at least one schedule")
    fig = _figure(figsize)
    ax_abar, ax_snr, ax_noise = fig.subplots(1, 3)
    for name, s in schedules.items():
        t = np.arange(1, s.T + 1)
        h = _host(s)
        abar, noise = h.alpha_bars[1:], h.one_minus_alpha_bars[1:]
        ax_abar.plot(t, abar, label=name, gid=f"alpha_bar:{name}")
        ax_snr.semilogy(t, abar / noise, label=name, gid=f"snr:{name}")
        ax_noise.plot(t, noise, label=name, gid=f"noise:{name}")
    ax_abar.set_title(r"signal kept: $\bar\alpha_t$", fontsize=10)
    ax_abar.set_ylabel(r"$\bar\alpha_t$ (fraction of data variance left)")
    ax_snr.set_title(r"signal-to-noise ratio $\bar\alpha_t / (1-\bar\alpha_t)$", fontsize=10)
    ax_snr.set_ylabel("SNR (log scale)")
    ax_noise.set_title(r"noise variance $1 - \bar\alpha_t$", fontsize=10)
    ax_noise.set_ylabel(r"$1-\bar\alpha_t$ (variance of the noise)")
    for ax in (ax_abar, ax_snr, ax_noise):
        ax.set_xlabel(r"time step $t$")
    for ax in (ax_abar, ax_noise):
        ax.set_ylim(-0.02, 1.02)
    ax_abar.legend(fontsize=8, frameon=False)
    Ts = sorted({s.T for s in schedules.values()})
    fig.suptitle("Noise schedules, " + ", ".join(f"T = {T}" for T in Ts), fontsize=11)
    return fig


def _end_of_chain(schedule: Schedule) -> Schedule:
    r"""A one-step schedule that lands where ``schedule`` lands at ``t = T``.

    A single step with :math:`\beta_1 = 1 - \bar\alpha_T` has :math:`\bar\alpha_1 =
    \bar\alpha_T`: the closed form says the two are the same distribution given :math:`x_0`.
    Its arrays always have shape ``(2,)``, so :func:`prior_kl` compiles once for every ``T``
    (a new ``T`` would otherwise mean a new array shape and a fresh compilation each time).
    """
    abar = np.asarray(schedule.alpha_bars, np.float32)[[0, -1]]  # (2,): t = 0 and t = T
    noise = np.asarray(schedule.one_minus_alpha_bars, np.float32)[[0, -1]]  # (2,)
    noise, abar = jnp.asarray(noise), jnp.asarray(abar)
    return Schedule(betas=noise, alpha_bars=abar, one_minus_alpha_bars=noise)  # beta_1 = 1 - alpha_bar_T


def _x0_vector(x0) -> jax.Array:
    x0 = v.data_array("x0", x0)
    return x0.reshape(-1) if x0.ndim else x0[None]


def _kl_at_end(schedule: Schedule, x0: jax.Array) -> float:
    """``prior_kl(schedule, x0)`` (at t = T), computed through :func:`_end_of_chain`."""
    return float(prior_kl(_end_of_chain(schedule), x0))


# prior_kl of many one-step schedules (all of shape (2,)) in one compiled call.
_prior_kls = jax.jit(jax.vmap(prior_kl, in_axes=(0, None)))


def _kl_versus_T(fn: Callable[[int], Schedule], T_values: np.ndarray, x0: jax.Array) -> np.ndarray:
    """``_kl_at_end(fn(T), x0)`` for every ``T`` in ``T_values``, as float64 ``(len(T_values),)``."""
    ends = [_end_of_chain(fn(int(T))) for T in T_values]
    stacked = Schedule(*(jnp.asarray(np.stack(parts)) for parts in zip(*ends, strict=True)))  # fields (len(T_values), 2)
    return np.asarray(_prior_kls(stacked, x0), np.float64)


def plot_prior_kl(
    schedule_fns: Mapping[str, Callable[[int], Schedule]],
    T_values: Sequence[int],
    *,
    x0=1.0,
    marks: Sequence[tuple[str, int]] = (),
    floor: float = KL_FLOOR,
    figsize: tuple[float, float] = (6.6, 4.0),
) -> Figure:
    r"""How far the end of the chain is from pure noise: KL against the number of steps T.

    For each ``T`` the schedule ``fn(T)`` is built and
    :math:`\mathrm{KL}(q(x_T \mid x_0)\,\|\,\mathcal N(0, I))` is computed with
    :func:`~diffviz.prior_kl`. Sampling starts from :math:`\mathcal N(0, I)`, so a KL far from
    0 means T is too small for that schedule. Because the KL is linear in :math:`x_0^2`, the
    value for :math:`x_0 = 1` is also the average over unit-variance data.

    Args:
        schedule_fns: ``{label: T -> Schedule}``, e.g. ``{"linear": linear_schedule,
            "cosine": cosine_schedule}``.
        T_values: the numbers of steps to try (integers >= 1).
        x0: the starting point (a number or one example).
        marks: ``(label, T)`` pairs to circle and annotate with :math:`\bar\alpha_T` and the KL.
        floor: KL values below this (float32 cannot resolve them: :math:`1-\bar\alpha_T`
            rounds to 1) are drawn at ``floor``.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes (log-log).
    """
    if not schedule_fns:
        raise ValueError("schedule_fns must hold at least one schedule")
    T_values = np.array([v.positive_int("T", int(T)) for T in T_values])
    x0 = _x0_vector(x0)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    for name, fn in schedule_fns.items():
        kl = _kl_versus_T(fn, T_values, x0)
        ax.loglog(T_values, np.maximum(kl, floor), marker="o", ms=3, lw=1.5, label=name, gid=f"kl:{name}")
    for name, T in marks:
        s = schedule_fns[name](int(T))
        kl = _kl_at_end(s, x0)
        ax.plot([T], [max(kl, floor)], "o", ms=10, mfc="none", mec="k", gid=f"mark:{name}:{T}")
        ax.annotate(
            rf"{name}, $T = {T}$: $\bar\alpha_T = {np.asarray(s.alpha_bars)[-1]:.2f}$, KL $= {kl:.2f}$ nats",
            (T, max(kl, floor)), xytext=(12, -4), textcoords="offset points", fontsize=8,
        )  # fmt: skip
    ax.axhline(floor, color="0.7", lw=0.8, ls=":")
    _floor_note(ax, floor)
    ax.set_xlabel(r"number of steps $T$ (log scale)")
    ax.set_ylabel(r"KL$(q(x_T \mid x_0)\,\|\,\mathcal{N}(0,1))$ [nats]")
    shown = float(x0[0]) if x0.shape[0] == 1 else f"a {x0.shape[0]}-dim point"
    ax.set_title(rf"How far $x_T$ is from pure noise, $x_0 = {shown}$", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return fig


def plot_schedule_grid(
    schedule_fns: Mapping[str, Callable[[int], Schedule]],
    T_values: Sequence[int],
    *,
    x0=1.0,
    panel_size: tuple[float, float] = (3.4, 3.8),
) -> Figure:
    r"""Small multiples over T: :math:`\bar\alpha_t` against :math:`t/T`, one panel per T.

    The static counterpart of the schedule explorer: each legend entry gives
    :math:`\bar\alpha_T` and :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))`.

    Args:
        schedule_fns: ``{label: T -> Schedule}``.
        T_values: one panel per value.
        x0: the starting point for the KL (a number or one example).
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(T_values)`` Axes.
    """
    if not schedule_fns or not T_values:
        raise ValueError("schedule_fns and T_values must both be non-empty")
    x0 = _x0_vector(x0)
    fig = _figure((panel_size[0] * len(T_values), panel_size[1]))
    axes = fig.subplots(1, len(T_values), squeeze=False)[0]
    for ax, T in zip(axes, T_values, strict=True):
        T = v.positive_int("T", int(T))
        for name, fn in schedule_fns.items():
            s = fn(T)
            t = np.arange(T + 1)
            abar_T, kl = np.asarray(s.alpha_bars)[-1], _kl_at_end(s, x0)
            label = rf"{name}: $\bar\alpha_T$ = {abar_T:.2g}, KL {_fmt_kl(kl)}"
            ax.plot(t / T, np.asarray(s.alpha_bars, np.float64), label=label, gid=f"alpha_bar:{name}:{T}")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"fraction of the chain $t/T$")
        ax.set_ylabel(r"$\bar\alpha_t$")
        ax.set_title(rf"$T = {T}$", fontsize=10)
        ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    title = r"Signal left, $\bar\alpha_t$, for several $T$ (legend: value at $t=T$ and KL in nats)"
    fig.suptitle(title, fontsize=10)
    return fig


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plain_powers_of_ten(axis) -> None:
    """Label a log axis ``10⁻⁴, 10⁻², ...`` in plain Unicode (no mathtext), decades only, no minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    def label(value: float, _pos) -> str:
        exponent = round(math.log10(value)) if value > 0 else None
        if exponent is None or not math.isclose(value, 10.0**exponent, rel_tol=1e-6):
            return ""
        return "10" + str(exponent).translate(_SUPERSCRIPTS)

    axis.set_major_locator(LogLocator(base=10, numticks=8))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())
    axis.set_minor_locator(NullLocator())  # ~8 unlabelled ticks per decade cost more to draw than the curves


def schedule_scrubber_html(
    schedule_fns: Mapping[str, Callable[[int], Schedule]],
    T_values: Sequence[int],
    *,
    x0=1.0,
    num_T: int = 25,
    floor: float = KL_FLOOR,
    figsize: tuple[float, float] = (10.5, 3.5),
    dpi: float = 90,
    interval_ms: int = 400,
) -> str:
    r"""HTML of a self-contained player that scrubs the number of steps ``T`` (works without a kernel).

    The kernel-free counterpart of :func:`~diffviz.schedule_explorer`: instead of a dropdown,
    every schedule is drawn in every frame, in its own colour. One frame per value of
    ``T_values``, each with the explorer's three panels: :math:`\bar\alpha_t` (solid) and
    :math:`1-\bar\alpha_t` (dashed) against ``t``, the SNR on a log scale, and
    :math:`\mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0,1))` against T (fixed curves, computed
    with :func:`~diffviz.prior_kl`) with the current T marked. The frames are rendered now and
    embedded as PNG in a ``FuncAnimation(...).to_jshtml()`` player; show it with
    ``IPython.display.HTML(...)``. Sixteen frames at the defaults make about 0.65 MB of HTML.

    Args:
        schedule_fns: ``{label: T -> Schedule}``, e.g. ``{"linear": linear_schedule}``.
        T_values: the numbers of steps, one frame each, in the order given (distinct
            integers >= 1, at least 2).
        x0: the starting point for the KL (a number or one example).
        num_T: points on each KL curve (log-spaced over the range of ``T_values``).
        floor: KL and SNR values below this are drawn at ``floor`` (log axes).
        figsize, dpi: frame size (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    if not isinstance(schedule_fns, Mapping) or not schedule_fns:
        raise ValueError("schedule_fns must be a non-empty mapping {label: T -> Schedule}")
    Ts = [v.positive_int("T_values", T) for T in np.asarray(T_values).ravel().tolist()]
    if len(Ts) < 2 or len(set(Ts)) != len(Ts):
        raise ValueError(f"T_values must hold at least 2 distinct numbers of steps (one frame each); got {Ts}")
    num_T = v.positive_int("num_T", num_T, minimum=2)
    if not (math.isfinite(float(floor)) and float(floor) > 0):
        raise ValueError(f"floor must be a finite number > 0; got {floor!r}")
    x0 = _x0_vector(x0)
    names = list(schedule_fns)
    hosts = {(name, T): _host(schedule_fns[name](T)) for name in names for T in Ts}  # every frame's schedules
    kl_at = {(name, T): kl for name in names for T, kl in zip(Ts, _kl_versus_T(schedule_fns[name], Ts, x0), strict=True)}
    curve_T = np.unique(np.concatenate([np.round(np.geomspace(min(Ts), max(Ts), num_T)), Ts]).astype(int))
    snr_all = np.concatenate([h.alpha_bars[1:] / h.one_minus_alpha_bars[1:] for h in hosts.values()])
    snr_top = 3 * float(snr_all.max())

    fig = _figure(figsize, dpi=dpi)
    ax_var, ax_snr, ax_kl = fig.subplots(1, 3)
    signal, noise, snr, marks = {}, {}, {}, {}
    for i, name in enumerate(names):
        colour = f"C{i % 10}"
        (signal[name],) = ax_var.plot([], [], color=colour, lw=1.6, label=name, gid=f"alpha_bar:{name}")
        (noise[name],) = ax_var.plot([], [], color=colour, lw=1.0, ls="--", gid=f"noise:{name}")
        (snr[name],) = ax_snr.semilogy([], [], color=colour, lw=1.4, gid=f"snr:{name}")
        kls = _kl_versus_T(schedule_fns[name], curve_T, x0)
        ax_kl.loglog(curve_T, np.maximum(kls, floor), color=colour, marker="o", ms=2.5, lw=1.2, gid=f"kl:{name}")
        (marks[name],) = ax_kl.plot([], [], "o", ms=8, color=colour, mec="k", mew=0.6, gid=f"mark:{name}")
    now = ax_kl.axvline(Ts[0], color="0.3", lw=0.8, ls=":")
    for axis in (ax_snr.yaxis, ax_kl.xaxis, ax_kl.yaxis):  # after semilogy/loglog, which reset them
        _plain_powers_of_ten(axis)  # mathtext tick labels would be typeset again on every frame
    # Plain Unicode, not mathtext, in every text of the player: the labels would otherwise be
    # typeset again for every frame saved.
    ax_var.set(xlabel="time step t", ylabel="variance fraction", ylim=(-0.02, 1.02))
    ax_var.set_title("signal ᾱₜ (solid), noise 1 − ᾱₜ (dashed)", fontsize=9, y=1.0)
    ax_snr.set(xlabel="time step t", ylabel="SNR (log scale)")
    ax_snr.set_title("signal-to-noise ratio ᾱₜ / (1 − ᾱₜ)", fontsize=9, y=1.0)
    ax_kl.set(xlabel="number of steps T (log scale)", ylabel="KL [nats]")
    for ax in (ax_snr, ax_kl):
        _floor_note(ax, floor)
    ax_snr.set_ylim(top=snr_top)
    ax_kl.set_title("KL(chain's end ‖ N(0, 1)); dots: this T", fontsize=9, y=1.0)
    legend = fig.legend(handles=list(signal.values()), loc="outside lower center", ncols=min(len(names), 3),
                        fontsize=8, frameon=False)  # fmt: skip
    suptitle = fig.suptitle(" ", fontsize=10)

    def draw(i: int):
        T = Ts[i]
        t = np.arange(1, T + 1)
        for name, text in zip(names, legend.get_texts(), strict=True):
            h = hosts[name, T]
            abar, rest = h.alpha_bars[1:], h.one_minus_alpha_bars[1:]
            signal[name].set_data(t, abar)
            noise[name].set_data(t, rest)
            snr[name].set_data(t, np.maximum(abar / rest, floor))
            marks[name].set_data([T], [max(kl_at[name, T], floor)])
            text.set_text(f"{name}:  ᾱ at t = T: {_fmt(float(h.alpha_bars[-1]))},  KL {_fmt_kl(kl_at[name, T], floor)}")
        for ax in (ax_var, ax_snr):
            ax.set_xlim(0, T + 1)
        now.set_xdata([T, T])
        suptitle.set_text(f"A chain of T = {T} steps (legend: ᾱ and the KL in nats at its end)")
        return (*signal.values(), *noise.values(), *snr.values(), *marks.values(), now, suptitle, legend)

    alt = (f"Player with a slider over the number of steps T, {len(Ts)} frames from T = {Ts[0]} to {Ts[-1]}, for the "
           f"schedules {', '.join(names)}: three panels, alpha-bar (solid) and 1 minus alpha-bar (dashed) against t, the "
           "signal-to-noise ratio on a log scale, and the KL divergence from q(x_T given x_0) to the standard normal "
           "against T with the current T marked.")
    return jshtml_player(fig, draw, len(Ts), interval_ms=interval_ms, alt=alt)


# --------------------------------------------------------------------------------------------
# (e) The closed form against the simulated chain (and the seed post's formula)
# --------------------------------------------------------------------------------------------


def _normal_pdf(x: np.ndarray, mean: float, var: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2 / var) / math.sqrt(2 * math.pi * var)


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
    x = _particles_1d("samples", samples)
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
    heights = _heights(x, edges)
    correct, seed = _normal_pdf(grid, mean, var), _normal_pdf(grid, seed_mean, seed_var)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    runs = f"simulated chain ({x.shape[0]:,} runs)"
    ax.stairs(heights, edges, fill=True, color=_PARTICLES, label=runs, gid="particles")
    ax.plot(grid, correct, color=_EXACT, lw=2, gid="closed-form",
            label=r"closed form $\mathcal{N}(\sqrt{\bar\alpha_t}\,x_0,\ 1-\bar\alpha_t)$")  # fmt: skip
    ax.plot(grid, seed, color=_SEED, lw=1.5, ls="-", gid="seed-formula",
            label=r"seed post's variance $(1-\alpha)^t$, around $\sqrt{\alpha^t}\,x_0$")  # fmt: skip
    y_top = 1.35 * max(correct.max(), heights.max())
    ax.set_ylim(0, y_top)
    ax.set_xlim(lo, hi)
    if seed.max() > y_top:
        ax.annotate(
            f"seed curve: a spike {seed.max():.3g} high\n" + rf"(variance $\beta^t$ = {seed_var:.2g})",
            xy=(seed_mean, 0.9 * y_top), xytext=(seed_mean + 1.4 * std, 0.55 * y_top),
            fontsize=8, color=_SEED, arrowprops={"arrowstyle": "->", "color": _SEED},
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
