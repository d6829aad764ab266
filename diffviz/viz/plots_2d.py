r"""Chapter 4's figures: 2-D toy data diffusing, and the exact density it follows.

Exact answers come from :mod:`diffviz._mixture`: for Gaussian-mixture data the diffused
density :math:`q_t` is known in closed form, so a figure can put the truth next to simulated
particles (for the checkerboard too: :func:`~diffviz.checkerboard_diffused_log_prob`, shaded by
chapter 4's browser explorer's static picture). 2-D data are drawn on square panels with equal aspect (``style._square``).

Conventions: 2-D particles are ``(n, 2)`` arrays; a trajectory is ``(S, n, 2)`` whose entry
``t`` is :math:`x_t` (the layout of :func:`~diffviz.run_forward_chain` and
:func:`~diffviz.ddpm_sample` with ``trajectory=True``: entry 0 is the data, or the samples).
The helpers here (trajectories, steps, grids, contours) serve :mod:`diffviz.viz.plots_reverse_2d`
and :mod:`diffviz.viz.widgets_2d` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture
from diffviz._schedules import Schedule
from diffviz.viz import player
from diffviz.viz.style import (
    EXACT,
    PARTICLES_DARK,
    REFERENCE,
    _check_mixture_2d,
    _figure,
    _finite,
    _fmt,
    _mixture_density_np,
    _points_2d,
    _square,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_LIM = 3.5  # half-width of the square 2-D panels: unit-scale data and N(0, I) both fit

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _trajectory_2d(name: str, trajectory) -> np.ndarray:
    """A ``(S, n, 2)`` trajectory as a finite float32 array (float32: what JAX produced)."""
    arr = np.asarray(trajectory, dtype=np.float32)
    if arr.ndim != 3 or arr.shape[2] != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (steps+1, n, 2); got {np.shape(trajectory)}")
    return _finite(name, arr)


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


def _steps(ts, T: int, *, lo: int = 0) -> list[int]:
    if len(ts) == 0:
        raise ValueError("ts must hold at least one time step")
    return [int(v.timestep("t", t, T, lo=lo)) for t in ts]


def _alpha_bar(schedule: Schedule | None, t: int) -> float | None:
    return None if schedule is None else float(np.asarray(schedule.alpha_bars)[t])


def _step_title(t: int, abar: float | None) -> str:
    # Plain Unicode, not mathtext: titles that change every frame stay cheap to draw.
    return f"t = {t}" if abar is None else f"t = {t},  ᾱₜ = {_fmt(abar)}"


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


def _checkerboard_density_grid(schedule: Schedule, t: int, lim: float, grid_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(xs, density)`` of the diffused checkerboard at step ``t`` on the grid of :func:`density_grid`.

    :func:`~diffviz.checkerboard_diffused_log_prob` (float32, one call), exponentiated in float64.
    """
    from diffviz._data import checkerboard_diffused_log_prob

    t = int(v.timestep("t", t, schedule.T))
    xs, pts = _grid(lim, grid_size)
    log_q = checkerboard_diffused_log_prob(pts.astype(np.float32), schedule.alpha_bars[t],
                                           one_minus_alpha_bar=schedule.one_minus_alpha_bars[t])
    log_q = np.asarray(log_q, np.float64)
    return xs, np.exp(log_q).reshape(xs.shape[0], xs.shape[0])


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
                   color: str = EXACT, width: float = 1.0, zorder: float = 2.0):  # fmt: skip
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
        colours = _start_colours(traj[0]) if colour_by_start else PARTICLES_DARK
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
            ax.scatter(x[:, 0], x[:, 1], s=1.5, color=PARTICLES_DARK, alpha=0.35, lw=0, rasterized=True,
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
        steps = [int(t) for t in player.evenly_spaced_steps(T, num_frames)]
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
    return player.jshtml_player(fig, draw, len(steps), interval_ms=interval_ms, alt=alt)


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
        ax.axhline(1.0 / d**2, color=REFERENCE, lw=0.8, ls=":")
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


