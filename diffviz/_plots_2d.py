r"""Figures for the 2-D chapters, the Gaussian toolkit and the reverse process.

The same rules as :mod:`diffviz._plots`: every ``plot_*`` function is pure (parameters in, a
new :class:`matplotlib.figure.Figure` out), builds its figure without ``pyplot`` (nothing is
registered globally, nothing needs closing), labels every axis, and draws 2-D data on square
panels with equal aspect. Artists whose data the tests read back carry a ``gid``.

Exact answers come from :mod:`diffviz._mixture`: for Gaussian-mixture data the diffused
density :math:`q_t`, its score :math:`\nabla\log q_t`, the optimal noise prediction
:math:`\varepsilon^*` and the optimal denoiser :math:`E[x_0 \mid x_t]` are all known in
closed form, so a figure can put the truth next to simulated particles.

Conventions: 2-D particles are ``(n, 2)`` arrays; a trajectory is ``(S, n, 2)`` whose entry
``t`` is :math:`x_t` (the layout of :func:`~diffviz.run_forward_chain` and
:func:`~diffviz.ddpm_sample` with ``trajectory=True``: entry 0 is the data, or the samples).

``matplotlib`` is imported inside the functions, so ``import diffviz`` stays cheap for code
that never plots.
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
from diffviz._mixture import (
    GaussianMixture,
    mixture_score,
    optimal_denoiser,
    optimal_eps,
)
from diffviz._player import evenly_spaced_steps, jshtml_player
from diffviz._plots import _figure  # one figure factory for every plot module
from diffviz._schedules import Schedule

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The course palette (the same colours as diffviz._plots): particles light blue, exact answers
# dark red, reference curves grey, the seed post's (or a wrong) formula orange.
_PARTICLES = "#9ebfe0"
_PARTICLES_DARK = "#2c6fad"
_EXACT = "#b2182b"
_REFERENCE = "0.35"
_WRONG = "#e6820e"
_LIM = 3.5  # half-width of the square 2-D panels: unit-scale data and N(0, I) both fit
_FIELDS = ("score", "eps", "denoiser")

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _points_2d(name: str, x) -> np.ndarray:
    """``(n, 2)`` points as a finite float64 array."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 2) (2-D points); got {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


def _trajectory_2d(name: str, trajectory) -> np.ndarray:
    """A ``(S, n, 2)`` trajectory as a finite float32 array (float32: what JAX produced)."""
    arr = np.asarray(trajectory, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (steps+1, n, 2); got {np.shape(trajectory)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


def _trajectories(trajectories) -> dict[str, np.ndarray]:
    """``{label: (S, n, 2)}`` from a mapping, or ``{"": array}`` from a single trajectory."""
    if isinstance(trajectories, Mapping):
        if not trajectories:
            raise ValueError("trajectories must hold at least one trajectory")
        return {str(k): _trajectory_2d(f"trajectories[{k!r}]", a) for k, a in trajectories.items()}
    return {"": _trajectory_2d("trajectory", trajectories)}


def _schedule_per_row(schedules, rows: Sequence[str]) -> dict[str, Schedule | None]:
    if schedules is None or isinstance(schedules, Schedule):
        return {r: schedules for r in rows}
    missing = [r for r in rows if r not in schedules]
    if missing:
        raise ValueError(f"schedules has no entry for {missing}")
    return {r: schedules[r] for r in rows}


def _check_mixture_2d(mixture) -> None:
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 2:
        raise ValueError("mixture must be a 2-D GaussianMixture (e.g. diffviz.eight_gaussians_mixture())")


def _steps(ts, T: int, *, lo: int = 0) -> list[int]:
    if len(ts) == 0:
        raise ValueError("ts must hold at least one time step")
    return [int(v.timestep("t", t, T, lo=lo)) for t in ts]


def _alpha_bar(schedule: Schedule | None, t: int) -> float | None:
    return None if schedule is None else float(np.asarray(schedule.alpha_bars)[t])


def _fmt(x: float) -> str:
    """A number in [0, 1] for a title: 3 decimals, or scientific notation when tiny."""
    return f"{x:.3f}" if x >= 0.01 or x == 0 else f"{x:.1e}"


def _step_title(t: int, abar: float | None) -> str:
    # Plain Unicode, not mathtext: titles that change every frame stay cheap to draw.
    return f"t = {t}" if abar is None else f"t = {t},  ᾱₜ = {_fmt(abar)}"


def _square(ax: Axes, lim: float, *, small: bool = False, centre: tuple[float, float] = (0.0, 0.0)) -> None:
    """Square panel on ``centre`` +- ``lim`` with equal aspect and labelled axes."""
    size = 7.5 if small else 9
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$", fontsize=size, labelpad=1)
    ax.set_ylabel("$x_2$", fontsize=size, labelpad=1)
    for c, set_lim, set_ticks in ((centre[0], ax.set_xlim, ax.set_xticks), (centre[1], ax.set_ylim, ax.set_yticks)):
        set_lim(c - lim, c + lim)
        set_ticks(range(math.ceil((c - lim) / 2) * 2, math.floor((c + lim) / 2) * 2 + 1, 2))  # even integers: fixed ticks, no tick search
    ax.tick_params(labelsize=size - 1.5, length=2, pad=1)


def _start_colours(x0) -> np.ndarray:
    """RGBA colours ``(n, 4)`` by the angle of each point around the origin (a cyclic map).

    Colouring every particle by where it *starts* lets a figure show how the noise mixes
    the data: at small ``t`` the colours stay sorted around the shape, at large ``t`` they
    are scrambled.
    """
    from matplotlib import colormaps

    x0 = _points_2d("x0", x0)
    angle = (np.arctan2(x0[:, 1], x0[:, 0]) + np.pi) / (2 * np.pi)  # (n,) in [0, 1]
    return colormaps["hsv"](angle)


def _grid(lim: float, grid_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates ``(G,)`` and points ``(G*G, 2)``, row-major with x varying fastest.

    The coordinates are float32 values stored as float64, so what is plotted is exactly where
    the (float32) JAX functions were evaluated.
    """
    grid_size = v.positive_int("grid_size", grid_size, minimum=2)
    xs = np.linspace(-lim, lim, grid_size).astype(np.float32).astype(np.float64)
    gx, gy = np.meshgrid(xs, xs)  # (G, G): gx[i, j] = xs[j], gy[i, j] = xs[i]
    return xs, np.stack([gx.ravel(), gy.ravel()], axis=1)


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


def density_grid(mixture: GaussianMixture, schedule: Schedule, t, *, lim: float = _LIM, grid_size: int = 161):
    r"""The exact diffused density :math:`q_t` of a 2-D mixture on a square grid.

    Args:
        mixture: the 2-D data distribution.
        schedule: the noise schedule.
        t: an integer in ``0..T``.
        lim: the grid covers :math:`[-\text{lim}, \text{lim}]^2`.
        grid_size: points per axis, ``G``.

    Returns:
        ``(xs, density)``: the ``(G,)`` coordinates ``np.linspace(-lim, lim, G)`` (rounded to
        float32) and the ``(G, G)`` float64 density, ``density[i, j]`` at
        :math:`(x_s[j], x_s[i])` (rows are :math:`x_2`, as ``contour`` expects).
    """
    _check_mixture_2d(mixture)
    t = int(v.timestep("t", t, schedule.T))
    return _data_density_grid(mixture, lim, grid_size, schedule=schedule, t=t)


def _data_density_grid(mixture: GaussianMixture, lim: float, grid_size: int, *, schedule: Schedule | None = None,
                       t: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(xs, density)`` on the grid of :func:`density_grid`; the data density when ``schedule`` is None."""
    _check_mixture_2d(mixture)
    xs, pts = _grid(lim, grid_size)
    density = _mixture_density_np(mixture, schedule, t, pts)
    return xs, density.reshape(xs.shape[0], xs.shape[0])


def _hdr_levels(density, cell_area: float, masses: Sequence[float]) -> np.ndarray:
    r"""Density levels whose contours enclose the given probability masses ("highest density regions").

    The region :math:`\{x : q(x) \ge c\}` holds mass :math:`m` when :math:`c` is chosen by
    sorting the grid values from the top and accumulating ``value * cell_area`` until
    :math:`m` of the total (the grid's own total, so a little mass outside the grid does not
    bias the levels) is reached.

    Args:
        density: grid values, any shape.
        cell_area: the area of one grid cell.
        masses: probabilities in (0, 1), e.g. ``(0.5, 0.9, 0.99)``.

    Returns:
        The levels, ``(len(masses),)``, in the order of ``masses`` (a larger mass gives a
        lower level).
    """
    values = np.sort(np.asarray(density, np.float64).ravel())[::-1]
    cumulative = np.cumsum(values) * cell_area
    cumulative /= cumulative[-1]
    levels = []
    for m in masses:
        if not 0.0 < float(m) < 1.0:
            raise ValueError(f"masses must lie in (0, 1); got {m!r}")
        levels.append(values[min(int(np.searchsorted(cumulative, float(m))), values.shape[0] - 1)])
    return np.asarray(levels)


def _mass_contours(ax: Axes, xs: np.ndarray, density: np.ndarray, masses: Sequence[float], *, gid: str, labels: bool,
                   color: str = _EXACT, width: float = 1.0, zorder: float = 2.0):  # fmt: skip
    """Contour lines of ``density`` enclosing ``masses``; returns the ContourSet."""
    cell = float(xs[1] - xs[0]) ** 2
    levels = _hdr_levels(density, cell, masses)
    order = np.argsort(levels)  # contour wants increasing levels
    levels, masses = levels[order], np.asarray(masses)[order]
    keep = np.concatenate([[True], np.diff(levels) > 0])  # (a flat density can repeat a level)
    levels, masses = levels[keep], masses[keep]
    # Lowest level (largest mass) thin and dashed, highest (smallest mass) thick and solid.
    widths = width * np.linspace(0.8, 1.8, levels.shape[0])
    styles = ["--" if i == 0 and levels.shape[0] > 1 else "-" for i in range(levels.shape[0])]
    cs = ax.contour(xs, xs, density, levels=levels, colors=color, linewidths=widths, linestyles=styles, zorder=zorder)
    cs.set_gid(gid)
    if labels:  # proxy lines for a legend, largest mass first
        for m, w, style in sorted(zip(masses, widths, styles, strict=True), reverse=True):
            ax.plot([], [], color=color, lw=w, ls=style, label=f"{m:.0%} of the mass inside")
    return cs


# --------------------------------------------------------------------------------------------
# 2-D forward process: small multiples, contours, animation, SNR
# --------------------------------------------------------------------------------------------


def plot_2d_snapshot_grid(
    trajectories,
    ts: Sequence[int],
    *,
    schedules: Schedule | Mapping[str, Schedule] | None = None,
    lim: float = _LIM,
    point_size: float = 1.5,
    colour_by_start: bool = True,
    panel_size: tuple[float, float] = (2.05, 2.15),
    title: str | None = None,
) -> Figure:
    r"""Small multiples: one row per trajectory, one column per time step ``t``.

    The static counterpart of the 2-D explorer (a rendered book has no kernel). Each panel is
    a scatter plot of :math:`x_t` on the square :math:`[-\text{lim}, \text{lim}]^2`.

    Args:
        trajectories: ``{row label: (S, n, 2) trajectory}`` (or one trajectory); entry ``t``
            of each is :math:`x_t`.
        ts: the columns, time steps ``< S`` (in the order given: pass them decreasing to
            show a reverse process running from noise to data).
        schedules: a :class:`~diffviz.Schedule` shared by all rows, or ``{row label:
            schedule}``; when given, titles show :math:`\bar\alpha_t`.
        lim: half-width of every panel.
        point_size: scatter marker size.
        colour_by_start: colour each particle by the angle of its position at entry 0
            (the data, or the final samples), so mixing is visible; else one colour.
        panel_size: size of one panel in inches.
        title: an optional figure title.

    Returns:
        A new Figure with ``rows * len(ts)`` Axes; the scatter of row ``r`` at step ``t``
        has ``gid == f"particles:{r}:{t}"``.
    """
    rows = _trajectories(trajectories)
    per_row = _schedule_per_row(schedules, list(rows))
    n_rows, n_cols = len(rows), len(ts)
    if n_cols == 0:
        raise ValueError("ts must hold at least one time step")
    fig = _figure((panel_size[0] * n_cols, panel_size[1] * n_rows + (0.3 if title else 0.0)))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i, (label, traj) in enumerate(rows.items()):
        steps = _steps(ts, traj.shape[0] - 1)
        colours = _start_colours(traj[0]) if colour_by_start else _PARTICLES_DARK
        for j, t in enumerate(steps):
            ax = axes[i, j]
            ax.scatter(traj[t, :, 0], traj[t, :, 1], s=point_size, c=colours, lw=0, alpha=0.7,
                       rasterized=True, gid=f"particles:{label}:{t}")  # fmt: skip
            _square(ax, lim, small=True)
            ax.set_title(_step_title(t, _alpha_bar(per_row[label], t)), fontsize=8)
            if j == 0 and label:
                ax.set_ylabel(f"{label}\n$x_2$", fontsize=8.5)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_density_contours(
    mixture: GaussianMixture,
    schedule: Schedule,
    ts: Sequence[int],
    *,
    trajectory=None,
    masses: Sequence[float] = (0.5, 0.9, 0.99),
    lim: float = _LIM,
    grid_size: int = 161,
    panel_size: tuple[float, float] = (2.7, 2.8),
) -> Figure:
    r"""The exact diffused density :math:`q_t` of a 2-D mixture as contours, one panel per ``t``.

    The contours are highest-density regions: the innermost encloses ``masses[0]`` of the
    probability, and so on (see :func:`_hdr_levels`); they are computed from the density on a
    ``grid_size`` by ``grid_size`` grid over :math:`[-\text{lim}, \text{lim}]^2`
    (:func:`density_grid`). If a trajectory simulated from the same mixture is given, its
    particles at each ``t`` are drawn underneath: about ``masses[k]`` of them should fall
    inside contour ``k``, and the share that does is printed in the corner.

    Args:
        mixture: the 2-D data distribution (e.g. :func:`~diffviz.eight_gaussians_mixture`).
        schedule: the noise schedule.
        ts: time steps in ``0..T``, one panel each.
        trajectory: optional ``(S, n, 2)`` particles, entry ``t`` at step ``t``.
        masses: probability masses for the contours, each in (0, 1).
        lim: half-width of the panels and of the grid.
        grid_size: grid points per axis.
        panel_size: size of one panel in inches.

    Returns:
        A new Figure with ``len(ts)`` Axes. The contour set of panel ``t`` has
        ``gid == f"density:{t}"``, the particles ``gid == f"particles:{t}"``.
    """
    _check_mixture_2d(mixture)
    steps = _steps(ts, schedule.T)
    traj = None if trajectory is None else _trajectory_2d("trajectory", trajectory)
    fig = _figure((panel_size[0] * len(steps), panel_size[1] + 0.35))
    axes = fig.subplots(1, len(steps), squeeze=False)[0]
    for ax, t in zip(axes, steps, strict=True):
        if traj is not None:
            x = traj[t]
            ax.scatter(x[:, 0], x[:, 1], s=1.5, color=_PARTICLES_DARK, alpha=0.35, lw=0, rasterized=True,
                       gid=f"particles:{t}")  # fmt: skip
        xs, density = density_grid(mixture, schedule, t, lim=lim, grid_size=grid_size)
        _mass_contours(ax, xs, density, masses, gid=f"density:{t}", labels=ax is axes[0])
        title = _step_title(t, _alpha_bar(schedule, t))
        if traj is not None:
            # Share of particles inside each contour: look up q_t at each particle exactly. It
            # goes under the title: a box in the panel would cover the widest contour.
            at_particles = _mixture_density_np(mixture, schedule, t, traj[t].astype(np.float64))
            levels = _hdr_levels(density, float(xs[1] - xs[0]) ** 2, masses)
            inside = [float(np.mean(at_particles >= lv)) for lv in levels]
            title += "\nparticles inside: " + ", ".join(f"{s:.0%}" for s in inside)
        _square(ax, lim, small=True)
        ax.set_title(title, fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    what = "Exact density $q_t$ of the diffused mixture: contours enclosing a given probability mass"
    fig.suptitle(what + (",\nover simulated particles (under each title: the share of particles inside each contour)" if traj is not None else ""),
                 fontsize=9.5)  # fmt: skip
    return fig


def diffusion_2d_animation_html(
    trajectories,
    *,
    schedule: Schedule | None = None,
    ts: Sequence[int] | None = None,
    num_frames: int = 30,
    lim: float = _LIM,
    point_size: float = 1.5,
    panel_size: tuple[float, float] = (2.3, 2.6),
    dpi: float = 90,
    interval_ms: int = 150,
) -> str:
    r"""HTML of a self-contained player of 2-D particles diffusing (works without a kernel).

    One panel per trajectory, side by side; every frame moves all panels to the same ``t``.
    The frames are rendered now and embedded as PNG in a ``FuncAnimation(...).to_jshtml()``
    player. Show it with ``IPython.display.HTML(...)``. Four panels of 800 particles and 24
    frames (chapter 4) make about 0.65 MB of HTML.

    Args:
        trajectories: ``{label: (S, n, 2)}`` (or one trajectory), all with the same ``S``.
        schedule: when given, frame titles show :math:`\bar\alpha_t` too.
        ts: the time steps to show, in order; default ``num_frames`` steps evenly spaced
            from 0 to ``S - 1`` (repeats after rounding dropped).
        num_frames: the number of frames when ``ts`` is not given (an int >= 2).
        lim: half-width of every panel.
        point_size: scatter marker size.
        panel_size, dpi: size of one panel (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    rows = _trajectories(trajectories)
    lengths = {a.shape[0] for a in rows.values()}
    if len(lengths) != 1:
        raise ValueError(f"all trajectories must have the same number of steps; got lengths {sorted(lengths)}")
    T = lengths.pop() - 1
    if ts is None:
        num_frames = v.positive_int("num_frames", num_frames, minimum=2)
        steps = [int(t) for t in evenly_spaced_steps(T, num_frames)]
    else:
        steps = _steps(ts, T)
    fig = _figure((panel_size[0] * len(rows), panel_size[1]), dpi=dpi)
    axes = fig.subplots(1, len(rows), squeeze=False)[0]
    scatters = []
    for ax, (label, traj) in zip(axes, rows.items(), strict=True):
        sc = ax.scatter(traj[0, :, 0], traj[0, :, 1], s=point_size, c=_start_colours(traj[0]), lw=0, alpha=0.7)
        scatters.append(sc)
        _square(ax, lim, small=True)
        if label:
            ax.set_title(label, fontsize=8)
    suptitle = fig.suptitle(" ", fontsize=9)

    def draw(i: int):
        t = steps[i]
        for sc, traj in zip(scatters, rows.values(), strict=True):
            sc.set_offsets(traj[t])
        suptitle.set_text(_step_title(t, _alpha_bar(schedule, t)))
        return (*scatters, suptitle)

    names = ", ".join(label for label in rows if label)
    alt = (f"Player with a slider over the step t, {len(steps)} frames from t = {steps[0]} to {steps[-1]}: "
           f"{len(rows)} scatter plot{'s' if len(rows) > 1 else ''} of 2-D particles{f' ({names})' if names else ''}, "
           "all at the same t, each particle coloured by where it started.")
    return jshtml_player(fig, draw, len(steps), interval_ms=interval_ms, alt=alt)


def snr_crossings(schedule: Schedule, feature_sizes: Sequence[float]) -> dict[float, int | None]:
    r"""For each feature size :math:`d`, the first ``t`` with :math:`\mathrm{SNR}(t) < 1/d^2`.

    Divide :math:`x_t = \sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon` by
    :math:`\sqrt{\bar\alpha_t}`: the same picture, rescaled, is :math:`x_0 + \varepsilon /
    \sqrt{\mathrm{SNR}(t)}`, the data blurred by noise of standard deviation
    :math:`1/\sqrt{\mathrm{SNR}(t)}`. Details of size :math:`d` drown once that exceeds
    :math:`d`, i.e. once :math:`\mathrm{SNR}(t) < 1/d^2`.

    Returns:
        ``{d: t}``, with ``None`` where the chain never gets that noisy.
    """
    snr = np.asarray(schedule.alpha_bars, np.float64)[1:] / np.asarray(schedule.one_minus_alpha_bars, np.float64)[1:]
    out: dict[float, int | None] = {}
    for d in feature_sizes:
        if not float(d) > 0:
            raise ValueError(f"feature sizes must be > 0; got {d!r}")
        below = np.nonzero(snr < 1.0 / float(d) ** 2)[0]
        out[float(d)] = int(below[0]) + 1 if below.size else None
    return out


def plot_snr_thresholds(
    schedules: Mapping[str, Schedule],
    feature_sizes: Sequence[float] = (0.1, 0.3, 1.0),
    *,
    figsize: tuple[float, float] = (7.0, 3.8),
) -> Figure:
    r"""When does structure of a given size drown? SNR against ``t`` with the thresholds :math:`1/d^2`.

    Each horizontal line is the SNR below which details of size :math:`d` are buried in the
    noise (see :func:`snr_crossings`); each marker is where a schedule crosses it.

    Args:
        schedules: ``{label: schedule}``.
        feature_sizes: sizes :math:`d` in data units (the toy data have unit scale).
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. The SNR curve of ``name`` has ``gid == f"snr:{name}"``,
        a crossing marker ``gid == f"crossing:{name}:{d:g}"``.
    """
    if not schedules:
        raise ValueError("schedules must hold at least one schedule")
    fig = _figure(figsize)
    ax = fig.add_subplot()
    T_max = 1
    for i, (name, s) in enumerate(schedules.items()):
        t = np.arange(1, s.T + 1)
        T_max = max(T_max, s.T)
        snr = np.asarray(s.alpha_bars, np.float64)[1:] / np.asarray(s.one_minus_alpha_bars, np.float64)[1:]
        ax.semilogy(t, snr, color=f"C{i}", lw=1.8, label=name, gid=f"snr:{name}")
        for d, t_cross in snr_crossings(s, feature_sizes).items():
            if t_cross is not None:
                ax.plot([t_cross], [snr[t_cross - 1]], "o", ms=6, mfc="white", mec=f"C{i}", mew=1.5,
                        gid=f"crossing:{name}:{d:g}")  # fmt: skip
                ax.annotate(f"{t_cross}", (t_cross, snr[t_cross - 1]), xytext=(4, 4), textcoords="offset points",
                            fontsize=7, color=f"C{i}")  # fmt: skip
    for d in feature_sizes:
        ax.axhline(1.0 / d**2, color=_REFERENCE, lw=0.8, ls=":")
    # The thresholds are named on a second scale on the right, outside the curves and markers.
    sizes = ax.secondary_yaxis("right")
    sizes.set_yticks([1.0 / d**2 for d in feature_sizes], [f"d = {d:g}" for d in feature_sizes], fontsize=8)
    sizes.minorticks_off()
    sizes.set_ylabel("details of size d drown below SNR = 1/d²", fontsize=8)
    ax.set_xlim(0, T_max)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel(r"SNR$(t) = \bar\alpha_t / (1-\bar\alpha_t)$ (log scale)")
    ax.set_title("Signal-to-noise ratio and the size of what it can still show", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return fig


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
            ax.scatter(pts[:, 0] + vec[:, 0], pts[:, 1] + vec[:, 1], s=9, color=_EXACT, zorder=3, lw=0,
                       gid=f"denoised:{t}")  # fmt: skip
        else:  # rescaled per panel: the longest arrow is one grid spacing
            ax.quiver(pts[:, 0], pts[:, 1], vec[:, 0], vec[:, 1], angles="xy", scale_units="xy",
                      scale=max(longest, 1e-12) / spacing, color=_EXACT, width=0.006, headwidth=3.5,
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
        self.particles = ax.scatter([], [], s=2 if compact else 3, color=_PARTICLES_DARK, alpha=0.5, lw=0)
        self.particles.set_visible(with_particles)
        zeros = np.zeros(points.shape[0])
        self.quiver = ax.quiver(points[:, 0], points[:, 1], zeros, zeros, angles="xy", scale_units="xy", scale=1.0,
                                color=_EXACT, width=0.005, headwidth=3.5, headlength=4)  # fmt: skip
        self.landing = ax.scatter(points[:, 0], points[:, 1], s=6 if compact else 8, color=_EXACT, lw=0, zorder=3)
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
            self.quiver.set_color(_EXACT)
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
    return jshtml_player(fig, draw, len(steps), interval_ms=interval_ms, alt=alt)


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
                                         (_REFERENCE, _PARTICLES_DARK), strict=True):  # fmt: skip
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


# --------------------------------------------------------------------------------------------
# 1-D pictures: Gaussian facts, the bimodal mixture, the posterior, conditional means
# --------------------------------------------------------------------------------------------


def _normal_pdf(x: np.ndarray, mean: float, var: float) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2 / var) / math.sqrt(2 * math.pi * var)


def _samples_1d(name: str, x) -> np.ndarray:
    arr = np.asarray(x, np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= 2; got {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")
    return arr


def _positive(name: str, x) -> float:
    value = float(x)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {x!r}")
    return value


def plot_gaussian_fact(
    samples,
    mean: float,
    variance: float,
    *,
    title: str = "",
    xlabel: str = "$x$",
    compare: tuple[str, float, float] | None = None,
    bins: int = 60,
    figsize: tuple[float, float] = (5.6, 3.3),
) -> Figure:
    r"""A histogram of samples against the Gaussian a formula predicts for them.

    Used for the Gaussian facts of chapter 1: draw samples the long way (add, scale,
    marginalise, ...) and compare with :math:`\mathcal N(\text{mean}, \text{variance})` from
    the formula. A box compares the sample mean and variance with the formula's.

    Args:
        samples: ``(n,)`` or ``(n, 1)``.
        mean, variance: the formula's prediction (a *variance*, not a standard deviation).
        title: the panel title.
        xlabel: the x-axis label.
        compare: optional ``(label, mean, variance)`` of a second, dashed curve (e.g. a wrong
            formula).
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes; the histogram has ``gid == "samples"``, the formula curve
        ``"formula"``, the optional second curve ``"compare"``.
    """
    x = _samples_1d("samples", samples)
    mean, variance = float(mean), _positive("variance", variance)
    sd = math.sqrt(variance)
    lo, hi = min(mean - 4.5 * sd, np.percentile(x, 0.2)), max(mean + 4.5 * sd, np.percentile(x, 99.8))
    if compare is not None:
        c_sd = math.sqrt(_positive("compare variance", compare[2]))
        lo, hi = min(lo, compare[1] - 4 * c_sd), max(hi, compare[1] + 4 * c_sd)
    edges = np.linspace(lo, hi, v.positive_int("bins", bins) + 1)
    counts, _ = np.histogram(x, edges)
    heights = counts / (x.shape[0] * np.diff(edges))
    grid = np.linspace(lo, hi, 400)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    ax.stairs(heights, edges, fill=True, color=_PARTICLES, label=f"{x.shape[0]:,} samples", gid="samples")
    ax.plot(grid, _normal_pdf(grid, mean, variance), color=_EXACT, lw=2, gid="formula",
            label=rf"formula: $\mathcal{{N}}({mean:.3g},\ {variance:.3g})$")  # fmt: skip
    if compare is not None:
        label, c_mean, c_var = compare
        ax.plot(grid, _normal_pdf(grid, float(c_mean), float(c_var)), color=_WRONG, lw=1.6, ls="--",
                gid="compare", label=label)  # fmt: skip
    stats = (f"           mean   variance\n"
             f"samples {np.mean(x):7.3f} {np.var(x):#9.4g}\n"
             f"formula {mean:7.3f} {variance:#9.4g}")  # fmt: skip
    ax.text(0.015, 0.975, stats, transform=ax.transAxes, ha="left", va="top", fontsize=7.5, family="monospace",
            gid="stats")  # fmt: skip
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.3 * max(heights.max(), _normal_pdf(np.array(mean), mean, variance)))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    return fig


def _conditional_gaussian(mean, cov, x1: float) -> tuple[float, float]:
    r"""Mean and variance of :math:`x_2 \mid x_1` for :math:`(x_1, x_2) \sim \mathcal N(\mu, \Sigma)`.

    .. math::
        \mu_{2\mid 1} = \mu_2 + \frac{\Sigma_{21}}{\Sigma_{11}}(x_1 - \mu_1), \qquad
        \sigma^2_{2\mid 1} = \Sigma_{22} - \frac{\Sigma_{21}^2}{\Sigma_{11}}.
    """
    mu = np.asarray(mean, np.float64).reshape(2)
    sigma = np.asarray(cov, np.float64).reshape(2, 2)
    gain = sigma[1, 0] / sigma[0, 0]
    return float(mu[1] + gain * (float(x1) - mu[0])), float(sigma[1, 1] - gain * sigma[1, 0])


def plot_gaussian_conditioning(
    samples,
    mean,
    cov,
    x1: float,
    *,
    width: float = 0.1,
    lim: float = 3.5,
    bins: int = 30,
    figsize: tuple[float, float] = (8.4, 3.7),
) -> Figure:
    r"""Conditioning a 2-D Gaussian, by slicing samples and by formula.

    Left: samples of :math:`(x_1, x_2)`, the thin vertical slice :math:`|x_1 - a| <
    \text{width}/2` highlighted, and the line of conditional means
    :math:`\mu_{2\mid 1}(x_1)` (:func:`_conditional_gaussian`). Right: a histogram of
    :math:`x_2` for the samples in the slice against the formula
    :math:`\mathcal N(\mu_{2\mid 1}(a), \sigma^2_{2\mid 1})`, and the marginal of :math:`x_2`
    for comparison: conditioning shifts the centre and narrows the spread.

    Args:
        samples: ``(n, 2)`` draws from :math:`\mathcal N(\text{mean}, \text{cov})`.
        mean: ``(2,)``; cov: ``(2, 2)`` covariance.
        x1: the conditioning value :math:`a`.
        width: slice width.
        lim: half-width of the scatter panel.
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes. Gids: ``"samples"``, ``"slice"`` (the points in the
        slice), ``"slice-histogram"``, ``"conditional"`` (the formula), ``"marginal"``.
    """
    x, mu, sigma, width = _conditioning_inputs(samples, mean, cov, width)
    fig = _figure(figsize)
    ax_scatter, ax_hist = fig.subplots(1, 2, width_ratios=[1, 1.25])
    panel = _ConditioningPanel(ax_scatter, ax_hist, x, mu, sigma, [float(x1)], width=width, lim=lim, bins=bins)
    panel.show(float(x1))
    return fig


def _conditioning_inputs(samples, mean, cov, width) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x = _points_2d("samples", samples)
    mu = np.asarray(mean, np.float64)
    sigma = np.asarray(cov, np.float64)
    if mu.size != 2 or sigma.size != 4:
        raise ValueError(f"mean must have shape (2,) and cov shape (2, 2); got {np.shape(mean)} and {np.shape(cov)}")
    return x, mu.reshape(2), sigma.reshape(2, 2), _positive("width", width)


class _ConditioningPanel:
    """The artists of :func:`plot_gaussian_conditioning`; :meth:`show` moves them to a new value :math:`a`.

    Built for a list of conditioning values, so that the histogram panel's range and height
    fit every one of them: the static figure (one value) and the scrubbable player (many)
    both draw through this class. Only the slice, the histogram, the formula curve and their
    labels change with :math:`a`; the samples, the line of conditional means and the marginal
    are drawn once.
    """

    def __init__(self, ax_scatter: Axes, ax_hist: Axes, x: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                 x1_values: Sequence[float], *, width: float, lim: float, bins: int):  # fmt: skip
        from matplotlib import patheffects

        self.x, self.mu, self.sigma, self.width = x, mu, sigma, width
        _, c_var = _conditional_gaussian(mu, sigma, 0.0)  # the conditional variance does not depend on a
        self.c_var = max(c_var, 1e-12)
        m_sd, c_sd = math.sqrt(sigma[1, 1]), math.sqrt(self.c_var)
        lo, hi = mu[1] - 3.5 * m_sd, mu[1] + 3.5 * m_sd
        for a in x1_values:  # the conditional's +-4.5 std and the marginal's +-3.5 std, for every a
            c_mean, _ = _conditional_gaussian(mu, sigma, a)
            lo, hi = min(lo, c_mean - 4.5 * c_sd), max(hi, c_mean + 4.5 * c_sd)
        # about `bins` bins across the conditional's +-4.5 std, so a narrow conditional still gets many
        bin_width = 9.0 * c_sd / v.positive_int("bins", bins)
        self.edges = np.arange(lo, hi + bin_width, bin_width)
        self.grid = np.linspace(lo, hi, 400)
        tallest = _normal_pdf(np.array(0.0), 0.0, self.c_var)
        for a in x1_values:
            tallest = max(tallest, float(np.max(self._heights(a), initial=0.0)))

        ax_scatter.scatter(x[:, 0], x[:, 1], s=1.5, color=_PARTICLES, lw=0, alpha=0.6, rasterized=True, gid="samples")
        self.slice = ax_scatter.scatter(x[:0, 0], x[:0, 1], s=3, color=_PARTICLES_DARK, lw=0, gid="slice", label=" ")
        centre = (round(float(mu[0])), round(float(mu[1])))  # whole units, so the ticks stay at even numbers
        line_x = np.array([centre[0] - lim, centre[0] + lim])
        gain = sigma[1, 0] / sigma[0, 0]
        ax_scatter.plot(line_x, mu[1] + gain * (line_x - mu[0]), color=_EXACT, lw=1.5,
                        label=r"conditional mean $\mu_{2|1}(x_1)$")  # fmt: skip
        self.cut = ax_scatter.axvline(0.0, color="0.2", lw=0.7, ls=":")
        _square(ax_scatter, lim, centre=centre)
        self.scatter_legend = ax_scatter.legend(fontsize=7, loc="upper left", frameon=True, framealpha=0.85)
        rho = sigma[1, 0] / math.sqrt(sigma[0, 0] * sigma[1, 1])
        ax_scatter.set_title(f"samples of (x₁, x₂), correlation ρ = {rho:.2f}", fontsize=9)

        self.hist = ax_hist.stairs(np.zeros(self.edges.shape[0] - 1), self.edges, fill=True, color=_PARTICLES,
                                   label=" ", gid="slice-histogram")  # fmt: skip
        (self.conditional,) = ax_hist.plot(self.grid, np.zeros_like(self.grid), color=_EXACT, lw=2,
                                           gid="conditional", label=" ")  # fmt: skip
        # Drawn above the formula curve (zorder 3), each dash edged in white: with no
        # correlation the two curves coincide, and the dashes then still show on the red
        # curve instead of vanishing under it (grey on dark red alone is hard to see).
        ax_hist.plot(self.grid, _normal_pdf(self.grid, mu[1], sigma[1, 1]), color=_REFERENCE, lw=1.2, ls="--",
                     gid="marginal", zorder=3, path_effects=[patheffects.withStroke(linewidth=2.6, foreground="white")],
                     label=rf"marginal of $x_2$: $\mathcal{{N}}({mu[1]:.2f},\ {sigma[1, 1]:.3f})$")  # fmt: skip
        ax_hist.set_xlim(lo, hi)
        ax_hist.set_ylim(0.0, 1.3 * tallest)
        ax_hist.set_ylabel("density")
        ax_hist.set_title("conditioning: shift the centre, shrink the spread", fontsize=9)
        self.hist_legend = ax_hist.legend(fontsize=7, frameon=False, loc="upper right")
        self.ax_hist = ax_hist

    def _in_slice(self, a: float) -> np.ndarray:
        return np.abs(self.x[:, 0] - a) < self.width / 2

    def _heights(self, a: float) -> np.ndarray:
        chosen = self.x[self._in_slice(a), 1]
        if not chosen.size:
            return np.zeros(self.edges.shape[0] - 1)
        counts, _ = np.histogram(chosen, self.edges)
        return counts / (chosen.size * np.diff(self.edges))

    def show(self, a: float) -> None:
        c_mean, _ = _conditional_gaussian(self.mu, self.sigma, a)
        in_slice = self._in_slice(a)
        self.slice.set_offsets(self.x[in_slice])
        self.cut.set_xdata([a, a])
        self.hist.set_data(self._heights(a))
        self.conditional.set_ydata(_normal_pdf(self.grid, c_mean, self.c_var))
        self.scatter_legend.get_texts()[0].set_text(f"slice |x₁ − {a:g}| < {self.width / 2:g}: {in_slice.sum():,} points")
        hist_text, formula_text, _ = self.hist_legend.get_texts()
        hist_text.set_text(f"x₂ of the {in_slice.sum():,} points in the slice")
        formula_text.set_text(rf"formula $\mathcal{{N}}({c_mean:.2f},\ {self.c_var:.3f})$")
        self.hist_legend.set_loc("upper left" if c_mean > self.mu[1] else "upper right")
        self.ax_hist.set_xlabel(f"x₂ given x₁ ≈ {a:g}")


def gaussian_conditioning_scrubber_html(
    samples,
    mean,
    cov,
    x1_values: Sequence[float],
    *,
    width: float = 0.1,
    lim: float = 3.5,
    bins: int = 30,
    figsize: tuple[float, float] = (8.4, 3.5),
    dpi: float = 90,
    interval_ms: int = 300,
) -> str:
    r"""HTML of a self-contained player that scrubs the conditioning value :math:`a` (no kernel needed).

    The kernel-free counterpart of :func:`~diffviz.gaussian_conditioning_explorer`'s
    :math:`a` slider: one frame of :func:`plot_gaussian_conditioning` per value in
    ``x1_values``, on fixed axes (the histogram panel's range and height fit every frame),
    for one fixed set of samples, so only the slice and the conditional move. The frames are
    rendered now and embedded as PNG in a ``FuncAnimation(...).to_jshtml()`` player; show it
    with ``IPython.display.HTML(...)``. To compare correlations, draw one player per
    covariance, or small multiples of :func:`plot_gaussian_conditioning`. At the defaults,
    17 frames of 20,000 samples make about 0.65 MB of HTML; fewer samples make it smaller.

    Args:
        samples: ``(n, 2)`` draws from :math:`\mathcal N(\text{mean}, \text{cov})`.
        mean: ``(2,)``; cov: ``(2, 2)`` covariance.
        x1_values: the conditioning values, one frame each, in the order given (at least 2,
            distinct, finite).
        width: slice width.
        lim: half-width of the scatter panel.
        bins: histogram bins.
        figsize, dpi: frame size (inches) and resolution: they set the HTML size.
        interval_ms: time between frames when playing.

    Returns:
        The HTML as a string.
    """
    x, mu, sigma, width = _conditioning_inputs(samples, mean, cov, width)
    values = np.asarray(x1_values, np.float64).ravel()
    if values.shape[0] < 2 or not np.all(np.isfinite(values)) or np.unique(values).shape[0] != values.shape[0]:
        raise ValueError(f"x1_values must hold at least 2 distinct finite numbers (one frame each); got {values.tolist()}")
    fig = _figure(figsize, dpi=dpi)
    ax_scatter, ax_hist = fig.subplots(1, 2, width_ratios=[1, 1.25])
    panel = _ConditioningPanel(ax_scatter, ax_hist, x, mu, sigma, values.tolist(), width=width, lim=lim, bins=bins)
    alt = (f"Player with a slider over the conditioning value a, {values.shape[0]} frames from a = {values[0]:g} "
           f"to {values[-1]:g}: a scatter of {x.shape[0]:,} samples of a 2-D Gaussian with the slice where x1 is near a "
           "marked, and beside it the histogram of x2 within that slice against the conditional Gaussian density.")
    return jshtml_player(fig, lambda i: panel.show(float(values[i])), values.shape[0], interval_ms=interval_ms, alt=alt)


def plot_mixture_1d(
    mixture: GaussianMixture,
    samples=None,
    *,
    x_range: tuple[float, float] = (-3.0, 3.0),
    bins: int = 80,
    figsize: tuple[float, float] = (6.0, 3.3),
) -> Figure:
    r"""A 1-D Gaussian mixture: its density, its weighted components and (optionally) samples.

    Args:
        mixture: a 1-D :class:`~diffviz.GaussianMixture` (e.g. ``mixture_1d("bimodal")``).
        samples: optional ``(n,)`` or ``(n, 1)`` draws for a histogram.
        x_range: the x-axis range.
        bins: histogram bins.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"density"``, ``"component:k"``, ``"samples"``.
    """
    if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
        raise ValueError("mixture must be a 1-D GaussianMixture (e.g. diffviz.mixture_1d('bimodal'))")
    lo, hi = float(x_range[0]), float(x_range[1])
    grid = np.linspace(lo, hi, 500).astype(np.float32).astype(np.float64)
    density = _mixture_density_np(mixture, None, 0, grid[:, None])
    w = np.asarray(mixture.weights, np.float64)
    mu = np.asarray(mixture.means, np.float64)[:, 0]
    s = np.asarray(mixture.stds, np.float64)[:, 0]
    fig = _figure(figsize)
    ax = fig.add_subplot()
    if samples is not None:
        x = _samples_1d("samples", samples)
        edges = np.linspace(lo, hi, v.positive_int("bins", bins) + 1)
        counts, _ = np.histogram(x, edges)
        ax.stairs(counts / (x.shape[0] * np.diff(edges)), edges, fill=True, color=_PARTICLES,
                  label=f"{x.shape[0]:,} samples", gid="samples")  # fmt: skip
    for k in range(w.shape[0]):
        ax.plot(grid, w[k] * _normal_pdf(grid, mu[k], s[k] ** 2), color="k", lw=1, ls="--", zorder=3,
                gid=f"component:{k}", label="weighted components $w_k\\,\\mathcal{N}(\\mu_k, s_k^2)$" if k == 0 else None)  # fmt: skip
    ax.plot(grid, density, color=_EXACT, lw=2, label="mixture density $p(x)$", gid="density")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, 1.5 * density.max())  # headroom: the legend sits above the peaks, not on them
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    mean = float(np.sum(w * mu))
    var = float(np.sum(w * (s**2 + mu**2)) - mean**2)
    ax.set_title(f"{w.shape[0]}-component Gaussian mixture: mean {mean:.3g}, variance {var:.4g}", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    return fig


def plot_posterior_check(
    grid,
    bayes,
    mean: float,
    variance: float,
    *,
    prior=None,
    likelihood=None,
    xlabel: str = r"$x_{t-1}$",
    title: str = "",
    figsize: tuple[float, float] = (6.4, 3.5),
) -> Figure:
    r"""A posterior computed by brute force on a grid against the closed-form Gaussian.

    Args:
        grid: ``(G,)`` evaluation points.
        bayes: ``(G,)`` the normalised grid posterior (prior times likelihood, divided by
            its integral).
        mean, variance: the closed-form posterior :math:`\mathcal N(\text{mean},
            \text{variance})`.
        prior: optional ``(G,)`` prior density, drawn dashed.
        likelihood: optional ``(G,)`` likelihood, drawn dotted after normalising it to
            integrate to 1 (only its shape matters).
        xlabel: the x-axis label.
        title: the panel title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"bayes"``, ``"formula"``, ``"prior"``,
        ``"likelihood"``.
    """
    x = np.asarray(grid, np.float64)
    post = np.asarray(bayes, np.float64)
    if x.ndim != 1 or post.shape != x.shape:
        raise ValueError(f"grid and bayes must be 1-D of the same length; got {x.shape} and {post.shape}")
    variance = _positive("variance", variance)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    shown = [post]  # the x range is where some curve is above 1/1000 of its peak: the grid may be far wider
    if prior is not None:
        shown.append(np.asarray(prior, np.float64))
        ax.plot(x, shown[-1], color=_REFERENCE, lw=1.3, ls="--", gid="prior",
                label=r"$q(x_{t-1} \mid x_0)$: what $x_0$ says")  # fmt: skip
    if likelihood is not None:
        lik = np.asarray(likelihood, np.float64)
        lik = lik / np.trapezoid(lik, x)
        shown.append(lik)
        ax.plot(x, lik, color=_PARTICLES_DARK, lw=1.3, ls=":", gid="likelihood",
                label=r"$q(x_t \mid x_{t-1})$ as a function of $x_{t-1}$: what $x_t$ says")  # fmt: skip
    ax.fill_between(x, post, color=_PARTICLES, alpha=0.8, lw=0, gid="bayes",
                    label="grid Bayes: prior × likelihood, normalised")  # fmt: skip
    ax.plot(x, _normal_pdf(x, float(mean), variance), color=_EXACT, lw=1.8, gid="formula",
            label=rf"formula $\mathcal{{N}}(\tilde\mu_t, \tilde\beta_t)$: mean {float(mean):.4f}, var {variance:.4f}")  # fmt: skip
    visible = np.any([curve > 1e-3 * np.max(curve) for curve in shown], axis=0)
    lo, hi = (x[visible][[0, -1]] if visible.any() else x[[0, -1]])
    pad = 0.05 * (hi - lo)
    ax.set_xlim(max(x[0], lo - pad), min(x[-1], hi + pad))
    ax.set_ylim(0, None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=7.5, frameon=False)
    return fig


def plot_conditional_mean(
    x,
    y,
    grid,
    exact,
    *,
    bins: int = 40,
    x_range: tuple[float, float] | None = None,
    min_count: int = 20,
    max_points: int = 4000,
    xlabel: str = "$x_t$",
    ylabel: str = r"$\varepsilon$",
    title: str = "",
    figsize: tuple[float, float] = (6.2, 3.6),
) -> Figure:
    r"""A regression picture: pairs ``(x, y)``, their average per bin of ``x``, and the exact :math:`E[y \mid x]`.

    With ``x`` the noisy points :math:`x_t` and ``y`` the noise :math:`\varepsilon` that made
    them, the bin averages estimate :math:`E[\varepsilon \mid x_t]`, and the exact curve is
    :math:`\varepsilon^*` (:func:`~diffviz.optimal_eps`): the function a denoiser is trained to
    become.

    Args:
        x, y: ``(n,)`` or ``(n, 1)`` paired samples.
        grid: ``(G,)`` points where the exact curve is given.
        exact: ``(G,)`` the exact conditional mean at ``grid``.
        bins: number of bins for the averages.
        x_range: ``(lo, hi)`` for the bins and the axis; default the grid's range.
        min_count: bins with fewer pairs than this are not drawn (their average is mostly noise).
        max_points: at most this many pairs are drawn (all are averaged).
        xlabel, ylabel, title: texts.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes. Gids: ``"pairs"``, ``"bin-means"`` (x: bin centres,
        y: averages; bins with fewer than ``min_count`` pairs are left out), ``"exact"``.
    """
    xv, yv = _samples_1d("x", x), _samples_1d("y", y)
    if xv.shape != yv.shape:
        raise ValueError(f"x and y must have the same length; got {xv.shape[0]} and {yv.shape[0]}")
    g = np.asarray(grid, np.float64)
    e = np.asarray(exact, np.float64)
    lo, hi = (g[0], g[-1]) if x_range is None else (float(x_range[0]), float(x_range[1]))
    edges = np.linspace(lo, hi, v.positive_int("bins", bins) + 1)
    which = np.digitize(xv, edges) - 1
    sums = np.bincount(which[(which >= 0) & (which < bins)], weights=yv[(which >= 0) & (which < bins)], minlength=bins)
    counts = np.bincount(which[(which >= 0) & (which < bins)], minlength=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    full = counts >= max(v.positive_int("min_count", min_count), 1)
    fig = _figure(figsize)
    ax = fig.add_subplot()
    shown = min(v.positive_int("max_points", max_points), xv.shape[0])
    ax.scatter(xv[:shown], yv[:shown], s=2, color=_PARTICLES, lw=0, alpha=0.5, rasterized=True, gid="pairs",
               label=f"{shown:,} pairs $(x_t, \\varepsilon)$")  # fmt: skip
    ax.plot(centres[full], sums[full] / counts[full], "o", ms=3.5, color=_PARTICLES_DARK, gid="bin-means",
            label=f"average per bin ({xv.shape[0]:,} pairs)")  # fmt: skip
    ax.plot(g, e, color=_EXACT, lw=2, gid="exact", label="exact conditional mean")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=True, framealpha=0.85, loc="upper left")
    return fig
