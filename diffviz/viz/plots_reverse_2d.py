r"""Chapter 5's figures: the reverse process in 2-D, its exact fields, samples and paths.

For Gaussian-mixture data the score :math:`\nabla\log q_t`, the optimal noise prediction
:math:`\varepsilon^*` and the optimal denoiser :math:`E[x_0 \mid x_t]` are all known in closed
form (:mod:`diffviz._mixture`): :func:`plot_score_field` draws them as arrows, and
:func:`score_field_scrubber_html` is the score-field explorer (:mod:`diffviz.viz.widgets_2d`)
as a kernel-free player; both explorer and player draw through :class:`_FieldPanel`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture, mixture_score, optimal_denoiser, optimal_eps
from diffviz._schedules import Schedule
from diffviz.viz import player
from diffviz.viz.plots_2d import (
    _LIM,
    _alpha_bar,
    _data_density_grid,
    _grid,
    _mass_contours,
    _step_title,
    _steps,
    _trajectory_2d,
    density_grid,
)
from diffviz.viz.style import (
    EXACT,
    PARTICLES_DARK,
    REFERENCE,
    _check_mixture_2d,
    _figure,
    _fmt,
    _points_2d,
    _positive,
    _square,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_FIELDS = ("score", "eps", "denoiser")

# --------------------------------------------------------------------------------------------
# Reverse process: vector fields, samples, paths
# --------------------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames="field")
def _field_kernel(schedule: Schedule, mixture: GaussianMixture, x: jax.Array, t: jax.Array, field: str) -> jax.Array:
    """One exact field at points ``x: (m, 2)``; compiled once per shape and field, ``t`` traced."""
    if field == "score":
        return mixture_score(schedule, mixture, x, t)
    if field == "eps":
        return optimal_eps(schedule, mixture, x, t)
    return optimal_denoiser(schedule, mixture, x, t) - x


def _check_field(field: str) -> None:
    if field not in _FIELDS:
        raise ValueError(f"field must be one of {', '.join(map(repr, _FIELDS))}; got {field!r}")


def _field_on_grid(mixture: GaussianMixture, schedule: Schedule, t, field: str = "score", *, lim: float = 3.0,
                   grid_size: int = 17) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    r"""One of the exact fields of a diffused 2-D mixture at the points of a square grid.

    ``field`` is ``"score"`` (:math:`\nabla_x\log q_t(x)`, :func:`~diffviz.mixture_score`),
    ``"eps"`` (the optimal noise prediction :math:`\varepsilon^*(x, t)`,
    :func:`~diffviz.optimal_eps`, ``t >= 1``) or ``"denoiser"`` (the displacement
    :math:`E[x_0 \mid x_t = x] - x`, from :func:`~diffviz.optimal_denoiser`).

    Returns:
        ``(points, vectors)``, both ``(G*G, 2)`` float64; points as in :func:`density_grid`.
    """
    _check_mixture_2d(mixture)
    _check_field(field)
    t = v.timestep("t", t, schedule.T, lo=1 if field == "eps" else 0)
    _, pts = _grid(lim, grid_size)
    vec = _field_kernel(schedule, mixture, jnp.asarray(pts, jnp.float32), jnp.asarray(t, jnp.int32), field)
    return pts, np.asarray(vec, np.float64)


_FIELD_TEXT = {
    "score": (r"score $\nabla_x \log q_t(x)$", "|score|"),
    "eps": (r"noise prediction $\varepsilon^*(x, t)$", "|ε*|"),
    "denoiser": (r"denoiser: arrow from $x$ to $E[x_0 \mid x_t = x]$ (true length, red dot)", "length"),
}


def plot_score_field(
    mixture: GaussianMixture,
    schedule: Schedule,
    ts: Sequence[int],
    *,
    field: str = "score",
    lim: float = 3.0,
    grid_size: int = 17,
    show_density: bool = True,
    panel_size: tuple[float, float] = (2.9, 3.0),
) -> Figure:
    r"""Arrows of an exact field of the diffused mixture, one panel per ``t``, over :math:`q_t`.

    * ``"score"``: :math:`\nabla_x \log q_t(x)`, the direction in which the density grows
      fastest. It points towards the data.
    * ``"eps"``: :math:`\varepsilon^*(x, t) = -\sqrt{1-\bar\alpha_t}\,\nabla_x \log q_t(x)`,
      the best guess of the noise in :math:`x`. It points *away* from the data: it is the
      noise that, removed, moves the point towards the data.
    * ``"denoiser"``: the arrow from :math:`x` to :math:`E[x_0 \mid x_t = x]`, drawn at its
      true length (Tweedie: :math:`E[x_0\mid x_t] = (x_t + (1-\bar\alpha_t)\nabla\log q_t(x_t))
      /\sqrt{\bar\alpha_t}`).

    Score and noise arrows are scaled *per panel* (their size changes by orders of magnitude
    with ``t``): the longest arrow of a panel is one grid spacing long, and its true length is
    printed in the title. The quiver data are the exact field values, unscaled.

    Args:
        mixture: the 2-D data distribution.
        schedule: the noise schedule.
        ts: the time steps, one panel each (``>= 1`` for ``"eps"``).
        field: ``"score"``, ``"eps"`` or ``"denoiser"``.
        lim: half-width of the panels and the arrow grid.
        grid_size: arrows per axis.
        show_density: shade :math:`q_t` underneath.
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(ts)`` Axes; the quiver of panel ``t`` has
        ``gid == f"field:{t}"`` (its ``X, Y, U, V`` are the grid points and the vectors).
    """
    _check_mixture_2d(mixture)
    _check_field(field)
    steps = _steps(ts, schedule.T, lo=1 if field == "eps" else 0)
    fig = _figure((panel_size[0] * len(steps), panel_size[1] + 0.35))
    axes = fig.subplots(1, len(steps), squeeze=False)[0]
    name, size_word = _FIELD_TEXT[field]
    spacing = 2 * lim / (grid_size - 1)
    for ax, t in zip(axes, steps, strict=True):
        if show_density:
            xs, density = density_grid(mixture, schedule, t, lim=lim, grid_size=101)
            ax.contourf(xs, xs, density, levels=12, cmap="Blues", alpha=0.75, antialiased=True)
        pts, vec = _field_on_grid(mixture, schedule, t, field, lim=lim, grid_size=grid_size)
        longest = float(np.max(np.hypot(vec[:, 0], vec[:, 1])))
        if field == "denoiser":  # true length: thin arrows, and a dot where each one lands
            ax.quiver(pts[:, 0], pts[:, 1], vec[:, 0], vec[:, 1], angles="xy", scale_units="xy", scale=1.0,
                      color="0.3", alpha=0.55, width=0.003, headwidth=4, headlength=5, gid=f"field:{t}")  # fmt: skip
            ax.scatter(pts[:, 0] + vec[:, 0], pts[:, 1] + vec[:, 1], s=9, color=EXACT, zorder=3, lw=0,
                       gid=f"denoised:{t}")  # fmt: skip
        else:  # rescaled per panel: the longest arrow is one grid spacing
            ax.quiver(pts[:, 0], pts[:, 1], vec[:, 0], vec[:, 1], angles="xy", scale_units="xy",
                      scale=max(longest, 1e-12) / spacing, color=EXACT, width=0.006, headwidth=3.5,
                      headlength=4, gid=f"field:{t}")  # fmt: skip
        _square(ax, lim, small=True)
        ax.set_title(f"{_step_title(t, _alpha_bar(schedule, t))}\nlongest arrow: {size_word} = {longest:.3g}",
                     fontsize=8)  # fmt: skip
    fig.suptitle(f"Exact {name} of the diffused data" + (", over the density $q_t$" if show_density else ""),
                 fontsize=10)  # fmt: skip
    return fig


# Plain Unicode (no mathtext): these titles change with every frame or slider move.
_FIELD_LABELS = {
    "score": "score ∇log qₜ (points uphill on qₜ)",
    "eps": "noise ε* (points downhill on qₜ)",
    "denoiser": "denoiser: x → E[x₀ | xₜ = x]",
}


class _FieldPanel:
    """Arrows of one exact field on a grid, over the data's contours, with optional particles.

    :meth:`show` moves the arrows (and particles) to a new ``t`` or field. The score-field
    explorer and its scrubbable counterpart both draw through this class. Score and noise
    arrows are rescaled so the longest is one grid spacing; denoiser arrows have their true
    length and end at :math:`E[x_0 \\mid x_t = x]` (dots).
    """

    def __init__(self, ax: Axes, mixture: GaussianMixture, points: np.ndarray, *, lim: float, spacing: float,
                 with_particles: bool, compact: bool = False):  # fmt: skip
        self.points, self.spacing = points, spacing
        xs, density = _data_density_grid(mixture, lim, 121)
        _mass_contours(ax, xs, density, (0.5, 0.9, 0.99), gid="density", labels=False, color="0.6")
        self.particles = ax.scatter([], [], s=2 if compact else 3, color=PARTICLES_DARK, alpha=0.5, lw=0)
        self.particles.set_visible(with_particles)
        zeros = np.zeros(points.shape[0])
        self.quiver = ax.quiver(points[:, 0], points[:, 1], zeros, zeros, angles="xy", scale_units="xy", scale=1.0,
                                color=EXACT, width=0.005, headwidth=3.5, headlength=4)  # fmt: skip
        self.landing = ax.scatter(points[:, 0], points[:, 1], s=6 if compact else 8, color=EXACT, lw=0, zorder=3)
        _square(ax, lim, small=compact)
        self.title = ax.set_title(" \n ", fontsize=8 if compact else 9)
        self.compact = compact

    @property
    def dynamic_artists(self) -> tuple:
        return (self.particles, self.quiver, self.landing, self.title)

    def show(self, field: str, t: int, vectors: np.ndarray, abar: float, particles: np.ndarray | None = None) -> None:
        """Draw ``vectors: (G*G, 2)``, the exact ``field`` at step ``t``, and the particles at ``t``."""
        longest = float(np.max(np.hypot(vectors[:, 0], vectors[:, 1])))
        self.quiver.set_UVC(vectors[:, 0], vectors[:, 1])
        if field == "denoiser":
            self.quiver.scale, self.quiver.width = 1.0, 0.0025
            self.quiver.set_color("0.35")
            self.landing.set_offsets(self.points + vectors)
            self.landing.set_visible(True)
            what = f"true length, longest {longest:.3g}" if self.compact else f"arrows at true length (longest {longest:.3g})"
        else:
            self.quiver.scale, self.quiver.width = max(longest, 1e-12) / self.spacing, 0.005
            self.quiver.set_color(EXACT)
            self.landing.set_visible(False)
            what = f"rescaled, longest {longest:.3g}" if self.compact else f"arrows rescaled; longest = {longest:.3g}"
        if particles is not None:
            self.particles.set_offsets(particles)
        note = "  (ε* undefined at t = 0)" if field == "eps" and t == 0 else ""
        self.title.set_text(f"{_FIELD_LABELS[field]}\nt = {t}, ᾱₜ = {_fmt(abar)}: {what}{note}")


def score_field_scrubber_html(
    mixture: GaussianMixture,
    schedule: Schedule,
    ts: Sequence[int],
    *,
    fields: Sequence[str] = ("score", "denoiser"),
    trajectory=None,
    lim: float = 3.0,
    grid_size: int = 15,
    panel_size: tuple[float, float] = (3.3, 3.5),
    dpi: float = 90,
    interval_ms: int = 300,
) -> str:
    r"""HTML of a self-contained player that scrubs ``t`` through the exact fields of a 2-D mixture.

    The kernel-free counterpart of :func:`~diffviz.score_field_explorer`: one panel per field
    in ``fields`` side by side (instead of its dropdown), each drawn as in the explorer, and
    one frame per step in ``ts``. With a trajectory (e.g. a reverse run from
    :func:`~diffviz.ddpm_sample` with ``trajectory=True``) its particles at each ``t`` are
    drawn on every panel. The fields are evaluated now (:func:`~diffviz.mixture_score`,
    :func:`~diffviz.optimal_eps`, :func:`~diffviz.optimal_denoiser`) and the frames embedded
    as PNG in a ``FuncAnimation(...).to_jshtml()`` player; show it with
    ``IPython.display.HTML(...)``. Each panel adds about 50 kB per frame: two panels, 12 frames
    and 2,000 particles make about 1.2 MB of HTML.

    Args:
        mixture: a 2-D :class:`~diffviz.GaussianMixture`.
        schedule: the noise schedule.
        ts: the steps, one frame each, in the order given (pass them decreasing to follow
            a reverse run from noise to data); ``>= 1`` when ``"eps"`` is in ``fields``.
        fields: which of ``"score"``, ``"eps"`` and ``"denoiser"`` to draw, one panel each.
            The default leaves out ``"eps"``: its rescaled arrows are the score's, reversed
            (:math:`\varepsilon^* = -\sqrt{1-\bar\alpha_t}\,\nabla\log q_t`).
        trajectory: optional ``(T+1, n, 2)`` particles, entry ``t`` at step ``t``.
        lim: half-width of the panels and the arrow grid.
        grid_size: arrows per axis.
        panel_size, dpi: size of one panel (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    _check_mixture_2d(mixture)
    fields = [fields] if isinstance(fields, str) else list(fields)
    if not fields or len(set(fields)) != len(fields):
        raise ValueError(f"fields must name at least one field, each once; got {fields!r}")
    for field in fields:
        _check_field(field)
    steps = _steps(ts, schedule.T, lo=1 if "eps" in fields else 0)
    if len(steps) < 2 or len(set(steps)) != len(steps):
        raise ValueError(f"ts must hold at least 2 distinct time steps (one frame each); got {steps}")
    traj = None if trajectory is None else _trajectory_2d("trajectory", trajectory)
    if traj is not None and traj.shape[0] != schedule.T + 1:
        raise ValueError(f"trajectory must have T + 1 = {schedule.T + 1} steps; got {traj.shape[0]}")
    grid_size = v.positive_int("grid_size", grid_size, minimum=2)
    lim = _positive("lim", lim)
    _, points = _grid(lim, grid_size)
    x = jnp.asarray(points, jnp.float32)
    vectors = {
        (field, t): np.asarray(_field_kernel(schedule, mixture, x, jnp.asarray(t, jnp.int32), field), np.float64)
        for field in fields
        for t in steps
    }  # fmt: skip
    fig = _figure((panel_size[0] * len(fields), panel_size[1]), dpi=dpi)
    axes = fig.subplots(1, len(fields), squeeze=False)[0]
    spacing = 2 * lim / (grid_size - 1)
    panels = [_FieldPanel(ax, mixture, points, lim=lim, spacing=spacing, with_particles=traj is not None, compact=True)
              for ax in axes]  # fmt: skip

    def draw(i: int):
        t = steps[i]
        abar = float(np.asarray(schedule.alpha_bars)[t])
        for field, panel in zip(fields, panels, strict=True):
            panel.show(field, t, vectors[field, t], abar, None if traj is None else traj[t])
        return tuple(a for panel in panels for a in panel.dynamic_artists)

    words = {"score": "the score", "denoiser": "the denoiser (the expected clean point)", "eps": "the optimal noise prediction"}
    alt = (f"Player with a slider over the step t, {len(steps)} frames from t = {steps[0]} to {steps[-1]}: "
           f"{' and '.join(words.get(f, f) for f in fields)} of a 2-D Gaussian mixture at that t, drawn as arrows "
           "on a grid over the mixture's contours" + (", with the particles of a reverse run at that t." if traj is not None else "."))
    return player.jshtml_player(fig, draw, len(steps), interval_ms=interval_ms, alt=alt)


def plot_samples_on_density(
    samples,
    data,
    *,
    mixture: GaussianMixture | None = None,
    labels: tuple[str, str] = ("data", "samples"),
    lim: float = _LIM,
    panel_size: tuple[float, float] = (3.2, 3.3),
) -> Figure:
    r"""Data and generated samples side by side on identical axes (and the data density, if known).

    Args:
        samples: ``(n, 2)`` generated points.
        data: ``(m, 2)`` points from the data distribution.
        mixture: if given, contours of its density (50%, 90%, 99% of the mass) on both panels.
        labels: panel titles for the data and the samples.
        lim: half-width of both panels.
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with two Axes; scatters with ``gid`` ``"data"`` and ``"samples"``.
    """
    samples, data = _points_2d("samples", samples), _points_2d("data", data)
    fig = _figure((2 * panel_size[0], panel_size[1]))
    axes = fig.subplots(1, 2)
    for ax, x, label, gid, colour in zip(axes, (data, samples), labels, ("data", "samples"),
                                         (REFERENCE, PARTICLES_DARK), strict=True):  # fmt: skip
        if mixture is not None:  # thin, but over the points: under them the dense 50% contour was hidden
            xs, density = _data_density_grid(mixture, lim, 161)
            _mass_contours(ax, xs, density, (0.5, 0.9, 0.99), gid=f"density:{gid}", labels=False, width=0.6, zorder=4)
        ax.scatter(x[:, 0], x[:, 1], s=3, color=colour, alpha=0.6, lw=0, rasterized=True, gid=gid, zorder=3)
        _square(ax, lim)
        ax.set_title(f"{label} ({x.shape[0]:,} points)", fontsize=10)
    if mixture is not None:
        fig.suptitle("red: exact data density, contours holding 50%, 90%, 99% of the mass", fontsize=9)
    return fig


def plot_2d_paths(
    trajectory,
    *,
    num_paths: int = 8,
    every: int = 10,
    mixture: GaussianMixture | None = None,
    lim: float = _LIM,
    figsize: tuple[float, float] = (4.6, 4.4),
    title: str | None = None,
) -> Figure:
    r"""The paths of a few particles in the plane, coloured by time step.

    Each path joins :math:`x_S, x_{S-	ext{every}}, \dots, x_0` of one particle (every
    ``every``-th step, so a path of 1,000 jittery steps stays readable; ``every=1`` draws all).
    For a reverse run it goes from the starting noise (hollow circle) to the sample (filled
    dot). The colour runs from light (large ``t``) to dark (``t = 0``).

    Args:
        trajectory: ``(S, n, 2)``, entry ``t`` is :math:`x_t`.
        num_paths: how many particles to draw (the first ones).
        every: draw the state at every ``every``-th step (always including ``t = 0`` and the
            last step).
        mixture: if given, contours of the data density :math:`q_0` underneath.
        lim: half-width of the panel.
        figsize: figure size in inches.
        title: an optional title.

    Returns:
        A new Figure with one Axes; path ``i`` is a ``LineCollection`` with
        ``gid == f"path:{i}"`` whose segments join the drawn steps, from ``t = 0`` upwards.
    """
    from matplotlib.collections import LineCollection

    traj = _trajectory_2d("trajectory", trajectory)
    num_paths = min(v.positive_int("num_paths", num_paths), traj.shape[1])
    every = v.positive_int("every", every)
    last = traj.shape[0] - 1
    steps = np.unique(np.concatenate([np.arange(0, last + 1, every), [last]]))  # increasing, from 0
    fig = _figure(figsize)
    ax = fig.add_subplot()
    if mixture is not None:
        xs, density = _data_density_grid(mixture, lim, 161)
        _mass_contours(ax, xs, density, (0.5, 0.9, 0.99), gid="density", labels=False, width=0.6)
    shade = steps[1:] / max(last, 1)  # segment k joins steps[k] and steps[k+1]: near t = 0 dark, near T light
    for i in range(num_paths):
        pts = traj[steps, i, :]  # (len(steps), 2)
        segments = np.stack([pts[:-1], pts[1:]], axis=1)  # (len(steps) - 1, 2, 2)
        lc = LineCollection(segments, array=shade, cmap="viridis", linewidths=1.1, alpha=0.85, gid=f"path:{i}")
        lc.set_clim(0.0, 1.0)
        ax.add_collection(lc)
        ax.plot(*pts[-1], "o", ms=5, mfc="white", mec="0.25", mew=0.9, zorder=4)
        ax.plot(*pts[0], "o", ms=5, color="k", zorder=4)
    ax.plot([], [], "o", ms=5, mfc="white", mec="0.25", label=f"start, t = {last}")
    ax.plot([], [], "o", ms=5, color="k", label="end, t = 0")
    _square(ax, lim)
    ax.legend(fontsize=8, loc="upper right", frameon=True, framealpha=0.85)
    stride = f", every {every}th step" if every > 1 else ""
    ax.set_title(title or f"{num_paths} particle paths{stride} (light: early in the run)", fontsize=9)
    return fig


