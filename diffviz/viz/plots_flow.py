r"""Chapter 12 (flow matching): interpolants side by side, paths and couplings in the plane.

:func:`interpolant_scrubber_html` and the live :func:`~diffviz.interpolant_explorer`
(:mod:`diffviz.viz.widgets_flow`) both draw through :class:`_CloudPanel` (the points
:math:`x_t = a(t)\,x_0 + s(t)\,\varepsilon` of one interpolant) and :class:`_CoefficientPanel`
(the curves :math:`a(t)`, :math:`s(t)` with a marker at the current ``t``). The coefficients
come in as arrays the notebook computed with :func:`~diffviz.interpolant_coefficients`, so a
frame is only a few ``set_offsets`` calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz.viz import player
from diffviz.viz.style import DATA, LEARNED, REFERENCE, _figure, _finite, _points_2d, _square

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_LIM = 3.2


def _interpolant_inputs(x0, eps, ts, coefficients):
    """Check and convert: points ``(n, 2)`` twice, times ``(K,)``, ``{name: (a (K,), s (K,))}``."""
    x0 = _points_2d("x0", x0)
    eps = _points_2d("eps", eps)
    if eps.shape != x0.shape:
        raise ValueError(f"eps must have the shape of x0 {x0.shape}; got {eps.shape}")
    ts = _finite("ts", np.asarray(ts, np.float64).reshape(-1))
    if ts.shape[0] < 1 or np.any((ts < 0) | (ts > 1)):
        raise ValueError(f"ts must hold at least one time in [0, 1]; got {ts.tolist()}")
    if not isinstance(coefficients, Mapping) or not coefficients:
        raise ValueError("coefficients must be a non-empty mapping {name: (a, s)} of arrays over ts")
    coefs = {}
    for name, pair in coefficients.items():
        a, s = (np.asarray(c, np.float64).reshape(-1) for c in tuple(pair)[:2])
        if a.shape != ts.shape or s.shape != ts.shape:
            raise ValueError(f"coefficients[{name!r}] must be (a, s), each of the shape of ts {ts.shape}; got {a.shape}, {s.shape}")
        coefs[str(name)] = (_finite(f"coefficients[{name!r}]", a), _finite(f"coefficients[{name!r}]", s))
    return x0, eps, ts, coefs


class _CloudPanel:
    """The points :math:`x_t = a x_0 + s\\varepsilon` of one interpolant, with the data faint behind."""

    def __init__(self, ax: Axes, x0: np.ndarray, eps: np.ndarray, *, lim: float = _LIM):
        self.ax, self.x0, self.eps = ax, x0, eps
        ax.scatter(x0[:, 0], x0[:, 1], s=3, color=DATA, alpha=0.35, lw=0, gid="data")
        self.cloud = ax.scatter(x0[:, 0], x0[:, 1], s=4, color=LEARNED, alpha=0.6, lw=0, gid="x_t")
        _square(ax, lim, small=True)
        self.title = ax.set_title("", fontsize=9)

    def show(self, name: str, t: float, a: float, s: float) -> None:
        self.cloud.set_offsets(a * self.x0 + s * self.eps)
        self.title.set_text(f"{name}: t = {t:.2f}, a = {a:.2f}, s = {s:.2f}")


class _CoefficientPanel:
    """:math:`a(t)` (solid) and :math:`s(t)` (dashed) of every interpolant, a marker at the current ``t``."""

    def __init__(self, ax: Axes, ts: np.ndarray, coefs: dict, *, highlight: str | None = None):
        self.ts, self.coefs = ts, coefs
        self.lines = {}
        for i, (name, (a, s)) in enumerate(coefs.items()):
            width = 2.2 if name == highlight else 1.2
            la = ax.plot(ts, a, color=f"C{i}", lw=width, label=f"{name}: a(t)", gid=f"a:{name}")[0]
            ls = ax.plot(ts, s, color=f"C{i}", lw=width, ls="--", label=f"{name}: s(t)", gid=f"s:{name}")[0]
            self.lines[name] = (la, ls)
        self.cursor = ax.axvline(ts[0], color=REFERENCE, lw=1, gid="cursor")
        self.dots = ax.plot([], [], "o", color="k", ms=4, gid="now")[0]
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("t (0: data, 1: noise)")
        ax.set_ylabel("coefficient")
        ax.legend(fontsize=6.5, frameon=False, loc="center right")
        ax.set_title("x_t = a(t) x0 + s(t) eps", fontsize=9)

    def highlight(self, name: str) -> None:
        for other, (la, ls) in self.lines.items():
            for line in (la, ls):
                line.set_linewidth(2.2 if other == name else 1.0)
                line.set_alpha(1.0 if other == name else 0.45)

    def show(self, k: int, names: Sequence[str]) -> None:
        t = self.ts[k]
        self.cursor.set_xdata([t, t])
        ys = [c[k] for name in names for c in self.coefs[name]]
        self.dots.set_data([t] * len(ys), ys)


def interpolant_scrubber_html(
    x0,
    eps,
    ts,
    coefficients: Mapping[str, tuple],
    *,
    lim: float = _LIM,
    figsize: tuple[float, float] = (10.0, 2.9),
    dpi: float = 80,
    interval_ms: int = 250,
) -> str:
    r"""HTML of a self-contained player over ``t``: every interpolant's :math:`x_t` side by side.

    The kernel-free counterpart of :func:`~diffviz.interpolant_explorer` (same arguments):
    one frame per time in ``ts``, each showing, for every interpolant in ``coefficients``,
    the points :math:`a(t)\,x_0 + s(t)\,\varepsilon` over the data (grey), and a last panel
    with the curves :math:`a(t), s(t)` and a marker at ``t``. Show it with
    ``IPython.display.HTML(...)``.

    Args:
        x0: data points ``(n, 2)``.
        eps: their noise ``(n, 2)`` (one draw, kept for every frame, so each point moves smoothly).
        ts: the times of the frames, in [0, 1] (at least 2).
        coefficients: ``{name: (a, s)}``, ``a`` and ``s`` arrays over ``ts`` (e.g. the first
            two fields of :func:`~diffviz.interpolant_coefficients`).
        lim: half-width of the point panels.
        figsize, dpi: frame size (inches) and resolution.
        interval_ms: time between frames when playing.
    """
    x0, eps, ts, coefs = _interpolant_inputs(x0, eps, ts, coefficients)
    if ts.shape[0] < 2:
        raise ValueError(f"ts must hold at least 2 times (one frame each); got {ts.tolist()}")
    names = list(coefs)
    fig = _figure(figsize, dpi=dpi)
    axes = fig.subplots(1, len(names) + 1)
    clouds = [_CloudPanel(ax, x0, eps, lim=lim) for ax in axes[:-1]]
    curves = _CoefficientPanel(axes[-1], ts, coefs)

    def draw(k: int):
        for name, panel in zip(names, clouds):
            a, s = coefs[name]
            panel.show(name, ts[k], a[k], s[k])
        curves.show(k, names)

    alt = (f"Player with a slider over t from {ts[0]:.2f} to {ts[-1]:.2f}, {len(ts)} frames: for each of the interpolants "
           f"{', '.join(names)}, the points a(t) x0 + s(t) eps drawn over the grey data, and a last panel with the "
           "curves a(t) and s(t) of every interpolant and a marker at the current t.")
    return player.jshtml_player(fig, draw, len(ts), interval_ms=interval_ms, alt=alt)


def _paths(name: str, path) -> np.ndarray:
    arr = _finite(name, np.asarray(path, np.float64))
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[2] != 2:
        raise ValueError(f"{name} must have shape (S, n, 2) with S >= 2 (states along the paths); got {arr.shape}")
    return arr


def plot_flow_paths(
    paths: Mapping[str, object],
    *,
    data=None,
    num_paths: int = 40,
    chords: bool = True,
    lim: float = _LIM,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    r"""Paths in the plane, one panel per entry, with the straight chord from start to end dashed.

    Args:
        paths: ``{title: path}``, each path ``(S, n, 2)`` (e.g. the ``path`` of
            :func:`~diffviz.flow_sample` with ``trajectory=True``: from noise at index 0 to a
            sample at index ``S - 1``; a pair ``stack([eps, x0])`` draws a coupling).
        data: optional data points ``(m, 2)`` drawn grey behind.
        num_paths: the number of paths drawn per panel (the first ones).
        chords: draw the straight line from each path's start to its end (dashed), so a
            curved path stands out.
        lim: half-width of each panel.
        figsize: default ``(3.2 * panels, 3.3)``.

    Returns:
        A new Figure, one Axes per entry; in each, the paths are a ``LineCollection`` with
        ``gid == "paths"``, the chords ``"chords"``, the ends ``"ends"``.
    """
    from matplotlib.collections import LineCollection

    if not isinstance(paths, Mapping) or not paths:
        raise ValueError("paths must be a non-empty mapping {title: (S, n, 2) array}")
    arrays = {str(k): _paths(f"paths[{k!r}]", p) for k, p in paths.items()}
    if isinstance(num_paths, bool) or not isinstance(num_paths, (int, np.integer)) or num_paths < 1:
        raise ValueError(f"num_paths must be an integer >= 1; got {num_paths!r}")
    fig = _figure(figsize or (3.2 * len(arrays), 3.3))
    axes = np.atleast_1d(fig.subplots(1, len(arrays)))
    for ax, (title, p) in zip(axes, arrays.items()):
        if data is not None:
            d = _points_2d("data", data)
            ax.scatter(d[:, 0], d[:, 1], s=2, color=DATA, alpha=0.4, lw=0, gid="data")
        sel = p[:, : min(num_paths, p.shape[1])]  # (S, m, 2)
        ax.add_collection(LineCollection(np.transpose(sel, (1, 0, 2)), colors=LEARNED, linewidths=0.9, alpha=0.8, gid="paths"))
        if chords:
            ax.add_collection(LineCollection(np.stack([sel[0], sel[-1]], axis=1), colors=REFERENCE, linewidths=0.7,
                                             linestyles="dashed", alpha=0.8, gid="chords"))  # fmt: skip
        ax.scatter(sel[0, :, 0], sel[0, :, 1], s=10, facecolors="white", edgecolors="0.3", lw=0.7, zorder=3, gid="starts")
        ax.scatter(sel[-1, :, 0], sel[-1, :, 1], s=10, color="k", zorder=3, gid="ends")
        _square(ax, lim, small=True)
        ax.set_title(title, fontsize=9)
    return fig
