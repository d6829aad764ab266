r"""Chapter 11 (continuous time): ODE against SDE paths, and samples of the sampler family by NFE.

:func:`plot_ode_sde_paths` draws 1-D sample paths of the probability-flow ODE and of the
reverse SDE side by side (from the same starting points, so path ``i`` of one panel and path
``i`` of the other start together). :func:`solver_scrubber_html` is the kernel-free player of
the chapter's explorer: one panel per sampler, a frame per NFE, the samples over the exact
density's contours. It and the live explorer (:mod:`diffviz.viz.widgets_continuous`) both draw
through :class:`_SolverPanel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture
from diffviz.viz import player
from diffviz.viz.plots_2d import _data_density_grid, _mass_contours
from diffviz.viz.style import DATA, EXACT, PARTICLES_DARK, _check_mixture_2d, _figure, _finite, _square

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


# --------------------------------------------------------------------------------------------
# ODE against SDE paths (1-D)
# --------------------------------------------------------------------------------------------


def _path_1d(name: str, path) -> np.ndarray:
    arr = _finite(name, np.asarray(path, np.float64))
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(f"{name} must be a 1-D path (steps, n) or (steps, n, 1) with >= 2 steps; got shape {np.shape(path)}")
    return arr


def plot_ode_sde_paths(
    ts,
    ode_path,
    sde_path,
    *,
    num_paths: int = 8,
    num_background: int = 150,
    figsize: tuple[float, float] = (8.4, 3.4),
) -> Figure:
    r"""Sample paths of the probability-flow ODE (left) and the reverse SDE (right) in 1-D, against ``t``.

    Args:
        ts: the grid times ``(S,)``, decreasing from about 1 to about 0 (drawn right to left
            so that time runs towards the data at the right edge).
        ode_path: ``(S, n)`` or ``(S, n, 1)``, the ODE's state at every grid time.
        sde_path: the SDE's, same shape; row 0 should equal ``ode_path``'s (the same starts).
        num_paths: paths drawn in colour (the first ones, the same indices in both panels).
        num_background: paths drawn in faint grey behind them.
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes; the coloured lines have ``gid`` ``"ode:{i}"`` and ``"sde:{i}"``.
    """
    t = _finite("ts", np.asarray(ts, np.float64)).ravel()
    ode, sde = _path_1d("ode_path", ode_path), _path_1d("sde_path", sde_path)
    if ode.shape != sde.shape or ode.shape[0] != t.shape[0]:
        raise ValueError(f"ode_path and sde_path must both have shape (len(ts), n); got {ode.shape}, {sde.shape}, len(ts) = {t.shape[0]}")
    num_paths = v.positive_int("num_paths", num_paths, minimum=0)
    num_background = v.positive_int("num_background", num_background, minimum=0)
    n = ode.shape[1]
    fig = _figure(figsize)
    axes = fig.subplots(1, 2, sharey=True)
    titles = ("probability-flow ODE: one smooth path per start", "reverse SDE: fresh noise at every step")
    for ax, path, tag, title in zip(axes, (ode, sde), ("ode", "sde"), titles, strict=True):
        back = path[:, : min(n, num_background)]
        ax.plot(t, back, color=DATA, lw=0.5, alpha=0.35)
        for i in range(min(n, num_paths)):
            ax.plot(t, path[:, i], color=f"C{i % 10}", lw=1.3, gid=f"{tag}:{i}")
        ax.set_xlim(t.max(), t.min())
        ax.set_xlabel("time t (noise at the left, data at the right)")
        ax.set_ylabel("x")
        ax.set_title(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
# Samples of several samplers by NFE (2-D), the explorer's panel and its player
# --------------------------------------------------------------------------------------------


class _SolverPanel:
    """One sampler's samples at one NFE, over the exact density's 50/90/99% contours."""

    def __init__(self, ax: Axes, density_grid: tuple[np.ndarray, np.ndarray], *, lim: float, compact: bool = False):
        xs, density = density_grid  # from _data_density_grid(mixture, lim, G): computed once, shared by every panel
        self.contours = _mass_contours(ax, xs, density, (0.5, 0.9, 0.99), gid="density", labels=False, color=EXACT,
                                       width=0.6, zorder=4)  # fmt: skip
        self.points = ax.scatter([], [], s=2 if compact else 3, color=PARTICLES_DARK, alpha=0.5, lw=0, zorder=3, gid="samples")
        self.points.set_in_layout(False)  # points beyond the axes are clipped: they must not move the layout
        _square(ax, lim, small=compact)
        self.title = ax.set_title(" \n \n ", fontsize=8 if compact else 9)
        self.lim = lim

    def show(self, label: str, nfe: int, samples: np.ndarray, ratio: float | None) -> None:
        self.points.set_offsets(samples)
        outside = int(np.sum(np.max(np.abs(samples), axis=1) > self.lim))
        score = "" if ratio is None else f", SW1 {ratio:.2f}x floor"
        extra = f"{outside} beyond the axes" if outside else " "  # a third line always: the layout stays put
        self.title.set_text(f"{label}\nNFE {nfe}{score}\n{extra}")


def _solver_inputs(samples, nfes, scores) -> tuple[dict[str, np.ndarray], list[int], dict[str, np.ndarray] | None]:
    if not isinstance(samples, Mapping) or not samples:
        raise ValueError("samples must be a non-empty mapping {sampler label: (len(nfes), n, 2) array}")
    nfes = [int(k) for k in np.asarray(nfes).ravel()]
    if not nfes or min(nfes) < 1 or len(set(nfes)) != len(nfes):
        raise ValueError(f"nfes must be distinct positive integers; got {nfes}")
    out = {}
    for label, arr in samples.items():
        a = _finite(f"samples[{label!r}]", np.asarray(arr, np.float64))
        if a.ndim != 3 or a.shape[0] != len(nfes) or a.shape[2] != 2:
            raise ValueError(f"samples[{label!r}] must have shape (len(nfes)={len(nfes)}, n, 2); got {a.shape}")
        out[str(label)] = a
    if scores is not None:
        if not isinstance(scores, Mapping) or set(map(str, scores)) != set(out):
            raise ValueError(f"scores must map the same labels as samples {list(out)} to (len(nfes),) values")
        scores = {str(k): np.asarray(s, np.float64).reshape(len(nfes)) for k, s in scores.items()}
    return out, nfes, scores


def solver_scrubber_html(
    samples,
    nfes: Sequence[int],
    mixture: GaussianMixture,
    *,
    scores=None,
    ncols: int = 5,
    lim: float = 2.6,
    panel_size: tuple[float, float] = (2.4, 2.9),
    dpi: float = 80,
    interval_ms: int = 700,
) -> str:
    r"""HTML of a self-contained player: every sampler's samples, one frame per NFE, over the exact density.

    The kernel-free counterpart of :func:`~diffviz.solver_explorer`, with the same arguments:
    where the explorer shows one sampler chosen from a menu, this shows them all side by side,
    and its slider steps through ``nfes``. The frames are rendered now and embedded as PNG, so
    it works in the rendered book; show it with ``IPython.display.HTML(...)``.

    Args:
        samples: ``{sampler label: (len(nfes), n, 2)}``, row ``k`` drawn with ``nfes[k]``
            network evaluations.
        nfes: the NFE of each row (distinct positive integers).
        mixture: the 2-D data distribution; its density's 50/90/99% contours are drawn.
        scores: optional ``{label: (len(nfes),)}``, SW1 over the noise floor, shown in the titles.
        ncols: panels per row.
        lim: half-width of every panel.
        panel_size, dpi, interval_ms: panel size (inches), resolution, time between frames.

    Returns:
        The player's HTML.
    """
    samples, nfes, scores = _solver_inputs(samples, nfes, scores)
    _check_mixture_2d(mixture)
    ncols = min(v.positive_int("ncols", ncols), len(samples))
    nrows = -(-len(samples) // ncols)
    fig = _figure((panel_size[0] * ncols, panel_size[1] * nrows), dpi=dpi)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[len(samples):]:
        ax.set_visible(False)
    grid = _data_density_grid(mixture, lim, 121)
    panels = {label: _SolverPanel(ax, grid, lim=lim, compact=True) for label, ax in zip(samples, axes, strict=False)}

    def draw(k: int):
        for label, panel in panels.items():
            panel.show(label, nfes[k], samples[label][k], None if scores is None else float(scores[label][k]))
        return tuple(a for p in panels.values() for a in (p.points, p.title))

    alt = (f"Player with a slider over the number of network evaluations, {len(nfes)} frames from NFE {nfes[0]} "
           f"to {nfes[-1]}: {len(samples)} scatter plots, one per sampler ({', '.join(samples)}), each showing "
           "its samples in the plane over red contours of the exact data density, with the distance to the data "
           "over the noise floor in its title.")  # fmt: skip
    return player.jshtml_player(fig, draw, len(nfes), interval_ms=interval_ms, alt=alt)
