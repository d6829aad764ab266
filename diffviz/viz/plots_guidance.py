r"""Chapter 13: labelled mixtures, the exact noisy classifier, guided samples and the tilted density.

The exact answers come from :mod:`diffviz._guidance`; the densities here are evaluated on the
host in float64 (:func:`~diffviz.viz.style._mixture_density_np`), so drawing many ``t`` or
``w`` compiles nothing. :func:`guidance_scrubber_html` is the kernel-free twin of the live
:func:`~diffviz.guidance_explorer` (:mod:`diffviz.viz.widgets_guidance`): both draw each
frame with :class:`_SweepPanel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from diffviz._guidance import GridDensity, GuidanceReadout, LabelledMixture, TiltedGap, _check_lmix, class_mixture
from diffviz._schedules import Schedule
from diffviz.viz.player import jshtml_player
from diffviz.viz.plots_2d import _grid, _hdr_levels
from diffviz.viz.style import EXACT, LEARNED, _figure, _host, _mixture_density_np, _positive, _square

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CLASS_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def _colour(c: int) -> str:
    return CLASS_COLOURS[c % len(CLASS_COLOURS)]


def _class_densities(lmix: LabelledMixture, points: np.ndarray, schedule: Schedule | None = None, t: int = 0) -> np.ndarray:
    r""":math:`p_t(x, c)` for every class at ``points: (m, d)``: ``(m, C)`` float64."""
    prior = np.asarray(lmix.mixture.weights, np.float64)
    labels = np.asarray(lmix.labels)
    out = []
    for c in range(lmix.num_classes):
        pi_c = prior[labels == c].sum()
        out.append(pi_c * _mixture_density_np(class_mixture(lmix, c), schedule, t, points))
    return np.stack(out, axis=1)


def _check_2d(lmix) -> LabelledMixture:
    lmix = _check_lmix(lmix)
    if lmix.mixture.dim != 2:
        raise ValueError(f"lmix must be a 2-D labelled mixture for this figure; got d = {lmix.mixture.dim}")
    return lmix


def _class_contours(ax, lmix: LabelledMixture, lim: float, *, classes=None, masses=(0.5, 0.9), width: float = 1.0):
    xs, pts = _grid(lim, 121)
    joint = _class_densities(lmix, pts)
    cell = (xs[1] - xs[0]) ** 2
    for c in range(lmix.num_classes) if classes is None else classes:
        dens = joint[:, c].reshape(xs.shape[0], xs.shape[0])
        levels = np.sort(_hdr_levels(dens, cell, masses))
        ax.contour(xs, xs, dens, levels=levels, colors=_colour(c), linewidths=width, gid=f"class-{c}")


def plot_labelled_mixture(lmix: LabelledMixture, *, samples=None, labels=None, lim: float = 3.0) -> Figure:
    r"""A labelled toy: each class's part :math:`\pi_c\,p(x\mid c)` in its own colour.

    2-D: contours enclosing 50% and 90% of each class, and ``samples`` (``(n, 2)``) coloured
    by ``labels`` (``(n,)``) if given. 1-D: the curves :math:`\pi_c\,p(x\mid c)`, which add up
    to :math:`p(x)` (drawn dashed), and a histogram per class of the samples.
    """
    lmix = _check_lmix(lmix)
    lim = _positive("lim", lim)
    fig = _figure((4.2, 4.0) if lmix.mixture.dim == 2 else (6.0, 3.0))
    ax = fig.add_subplot()
    if lmix.mixture.dim == 2:
        if samples is not None:
            x, y = np.asarray(samples, np.float64), np.asarray(labels)
            for c in range(lmix.num_classes):
                ax.scatter(*x[y == c].T, s=2, alpha=0.35, color=_colour(c), gid=f"samples-{c}")
        _class_contours(ax, lmix, lim)
        _square(ax, lim)
        for c in range(lmix.num_classes):
            ax.plot([], [], color=_colour(c), label=f"class {c}")
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"{lmix.num_classes} classes, {lmix.mixture.weights.shape[0]} components", fontsize=10)
        return fig
    grid = np.linspace(-lim, lim, 400)
    joint = _class_densities(lmix, grid[:, None])
    for c in range(lmix.num_classes):
        ax.plot(grid, joint[:, c], color=_colour(c), label=f"$\\pi_{c}\\,p(x\\mid c={c})$", gid=f"class-{c}")
        if samples is not None:
            x, y = np.asarray(samples, np.float64).ravel(), np.asarray(labels)
            ax.hist(x[y == c], bins=60, range=(-lim, lim), weights=np.full((y == c).sum(), 1 / (x.size * 2 * lim / 60)),
                    color=_colour(c), alpha=0.3)  # fmt: skip
    ax.plot(grid, joint.sum(1), "k--", lw=1, label="$p(x)$")
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return fig


def plot_noisy_classifier(schedule: Schedule, lmix: LabelledMixture, ts: Sequence[int], c: int = 0, *, lim: float = 3.0) -> Figure:
    r"""The exact noisy classifier :math:`p_t(c \mid x)` at several ``t``.

    2-D: one panel per ``t``, the probability as a colour map from 0 (white) to 1 (the
    class's colour) with the 0.5 line. 1-D: one curve per ``t``. As ``t`` grows the classes'
    noisy densities overlap and the classifier flattens towards the prior :math:`\pi_c`.
    """
    lmix = _check_lmix(lmix)
    ts = [int(t) for t in ts]
    if not ts or any(not 0 <= t <= schedule.T for t in ts):
        raise ValueError(f"ts must be time steps in 0..{schedule.T}; got {ts!r}")
    if not (isinstance(c, (int, np.integer)) and 0 <= int(c) < lmix.num_classes):
        raise ValueError(f"c must be a class label, an integer in 0..{lmix.num_classes - 1}; got {c!r}")
    host = _host(schedule)
    prior = float(np.asarray(lmix.mixture.weights)[np.asarray(lmix.labels) == c].sum())
    if lmix.mixture.dim == 1:
        fig = _figure((6.0, 3.0))
        ax = fig.add_subplot()
        grid = np.linspace(-lim, lim, 400)
        for i, t in enumerate(ts):
            joint = _class_densities(lmix, grid[:, None], host, t)
            ax.plot(grid, joint[:, c] / joint.sum(1), color=_colour(c), alpha=0.35 + 0.65 * (1 - i / max(len(ts) - 1, 1)),
                    label=f"t = {t}", gid=f"classifier-t{t}")  # fmt: skip
        ax.axhline(prior, color="0.5", lw=0.8, ls=":", label=f"prior {prior:.2f}")
        ax.set_xlabel("$x_t$")
        ax.set_ylabel(f"$p_t(c={c}\\mid x_t)$")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
        return fig
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("class", ["white", _colour(c)])
    xs, pts = _grid(lim, 101)
    fig = _figure((2.6 * len(ts) + 0.6, 2.9))
    axes = fig.subplots(1, len(ts), squeeze=False)[0]
    for ax, t in zip(axes, ts, strict=True):
        joint = _class_densities(lmix, pts, host, t)
        prob = (joint[:, c] / joint.sum(1)).reshape(xs.shape[0], xs.shape[0])
        image = ax.pcolormesh(xs, xs, prob, cmap=cmap, vmin=0, vmax=1, shading="auto", gid=f"classifier-t{t}")
        ax.contour(xs, xs, prob, levels=[0.5], colors="k", linewidths=0.8)
        _square(ax, lim, small=True)
        ax.set_title(f"t = {t}", fontsize=9)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label=f"$p_t(c={c}\\mid x_t)$")
    return fig


class _SweepPanel:
    """One panel of guided samples for class ``c``: the class's contours, the samples, a readout title."""

    def __init__(self, ax, lmix: LabelledMixture, c: int, lim: float, *, small: bool = False):
        _class_contours(ax, lmix, lim, width=0.7)
        self.scatter = ax.scatter([], [], s=2, color=LEARNED, alpha=0.5, gid="guided-samples", zorder=3)
        _square(ax, lim, small=small)
        self.title = ax.set_title("", fontsize=8 if small else 9)
        self.c = c

    def show(self, w: float, samples: np.ndarray, readout: GuidanceReadout | None) -> None:
        self.scatter.set_offsets(samples)
        text = f"class {self.c}, w = {w:g}"
        if readout is not None:
            text += (f"\nlog p(x|c) {float(readout.log_likelihood):.2f}, modes {float(readout.modes_covered):.2f}, "
                     f"spread {float(readout.spread):.2f}")  # fmt: skip
        self.title.set_text(text)


def _sweep(ws, samples) -> tuple[list[float], list[np.ndarray]]:
    ws = [float(w) for w in ws]
    samples = [np.asarray(s, np.float64) for s in samples]
    if len(ws) != len(samples) or not ws:
        raise ValueError(f"ws and samples must have the same non-zero length; got {len(ws)} and {len(samples)}")
    for s in samples:
        if s.ndim != 2 or s.shape[1] != 2:
            raise ValueError(f"samples must be (n, 2) arrays, one per w; got shape {s.shape}")
    return ws, samples


def plot_guided_samples(lmix: LabelledMixture, c: int, ws: Sequence[float], samples: Sequence, *,
                        readouts: Sequence[GuidanceReadout] | None = None, lim: float = 3.0) -> Figure:  # fmt: skip
    """Guided samples for class ``c``, one panel per guidance scale, over the contours of every class."""
    lmix = _check_2d(lmix)
    ws, samples = _sweep(ws, samples)
    fig = _figure((2.7 * len(ws), 3.0))
    axes = fig.subplots(1, len(ws), squeeze=False)[0]
    for i, ax in enumerate(axes):
        _SweepPanel(ax, lmix, int(c), lim, small=True).show(ws[i], samples[i], None if readouts is None else readouts[i])
    return fig


def guidance_scrubber_html(lmix: LabelledMixture, c: int, ws: Sequence[float], samples: Sequence, *,
                           readouts: Sequence[GuidanceReadout] | None = None, lim: float = 3.0,
                           panel_size: tuple[float, float] = (4.0, 4.2), dpi: float = 80, interval_ms: int = 500) -> str:  # fmt: skip
    """HTML of a kernel-free player that scrubs the guidance scale: one frame per ``w``.

    The book's twin of :func:`~diffviz.guidance_explorer`: the same panel, with precomputed
    samples (e.g. ``explorer.samples``) and readouts. Show it with ``IPython.display.HTML``.
    """
    lmix = _check_2d(lmix)
    ws, samples = _sweep(ws, samples)
    fig = _figure(panel_size, dpi=dpi)
    panel = _SweepPanel(fig.add_subplot(), lmix, int(c), lim)

    def draw(i: int):
        panel.show(ws[i], samples[i], None if readouts is None else readouts[i])
        return (panel.scatter, panel.title)

    alt = (f"Guided samples of class {c} as the guidance scale w runs from {ws[0]:g} to {ws[-1]:g}: the samples leave "
           "the modes that border other classes and gather on the side facing away from them.")  # fmt: skip
    return jshtml_player(fig, draw, len(ws), interval_ms=interval_ms, alt=alt)


def plot_guidance_readouts(ws: Sequence[float], readouts: Mapping[str, Sequence[GuidanceReadout]]) -> Figure:
    """Fidelity and diversity against the guidance scale, one line per sampler (``{name: [readout per w]}``)."""
    ws = [float(w) for w in ws]
    fig = _figure((10.0, 2.8))
    axes = fig.subplots(1, 4)
    fields = (("log_likelihood", "mean log p(x | c)"), ("on_class", "share on class"),
              ("modes_covered", "modes covered"), ("spread", "spread (rms)"))  # fmt: skip
    for ax, (field, label) in zip(axes, fields, strict=True):
        for name, rows in readouts.items():
            if len(rows) != len(ws):
                raise ValueError(f"readouts[{name!r}] must hold one readout per w ({len(ws)}); got {len(rows)}")
            ax.plot(ws, [float(getattr(r, field)) for r in rows], "o-", ms=3, label=name, gid=f"{field}-{name}")
        ax.set_xlabel("guidance scale w")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    return fig


def plot_tilted_gap(lmix: LabelledMixture, c: int, w: float, tilted: GridDensity, samples, gap: TiltedGap, *,
                    title: str = "guided samples") -> Figure:  # fmt: skip
    r"""Where guided samples land against the tilted density :math:`p(x\mid c)^{1+w}p(x)^{-w}/Z`.

    Three panels: the tilted density; the samples over its 50% and 90% contours; the mass per
    bin of the samples minus the tilted density's (red: too many samples, blue: too few),
    with the total variation and its floor in the title.
    """
    lmix = _check_2d(lmix)
    if not isinstance(tilted, GridDensity) or tilted.density.ndim != 2:
        raise ValueError("tilted must be a 2-D GridDensity (see diffviz.tilted_density)")
    g = np.asarray(tilted.centres, np.float64)
    dens = np.asarray(tilted.density, np.float64).T  # rows x_2, as pcolormesh expects
    lim = g[-1] + 0.5 * tilted.cell
    x = np.asarray(samples, np.float64)
    fig = _figure((11.0, 3.7))
    axes = fig.subplots(1, 3)
    axes[0].pcolormesh(g, g, dens, cmap="Greys", shading="auto", gid="tilted-density")
    axes[0].set_title(f"tilted density, class {c}, w = {w:g}", fontsize=9)
    levels = np.sort(_hdr_levels(dens, tilted.cell**2, (0.5, 0.9)))
    axes[1].scatter(*x.T, s=1.5, color=LEARNED, alpha=0.4, gid="samples")
    axes[1].contour(g, g, dens, levels=levels, colors=EXACT, linewidths=1.0)
    axes[1].set_title(f"{title} over the tilted 50%, 90% contours", fontsize=9)
    edges = np.asarray(gap.edges, np.float64)
    diff = (np.asarray(gap.sample_mass, np.float64) - np.asarray(gap.density_mass, np.float64)).T
    top = max(np.abs(diff).max(), 1e-6)
    image = axes[2].pcolormesh(edges, edges, diff, cmap="RdBu_r", vmin=-top, vmax=top, gid="mass-difference")
    fig.colorbar(image, ax=axes[2], shrink=0.8, label="sample mass - tilted mass")
    axes[2].set_title(f"TV {float(gap.tv):.3f} (floor {float(gap.tv_floor):.3f})", fontsize=9)
    for ax in axes:
        _square(ax, min(lim, 3.0), small=True)
    return fig
