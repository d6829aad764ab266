r"""Chapter 8's figures: the variational bound, term by term, and against the number of steps.

Pure functions over numbers the notebook computed (:func:`~diffviz.variational_bound` returns
a :class:`~diffviz.BoundTerms`); nothing here evaluates a model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from diffviz import _validate as v
from diffviz.viz.style import EXACT, _figure, _finite, _floor_note, _named, _samples_1d

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# --------------------------------------------------------------------------------------------
# Likelihood: the bound and its parts
# --------------------------------------------------------------------------------------------


def plot_bound_comparison(
    values: Mapping[str, float],
    *,
    errors: Mapping[str, float] | None = None,
    reference: float | None = None,
    reference_label: str = "exact NLL",
    dim: int = 1,
    title: str | None = None,
    figsize: tuple[float, float] = (6.6, 3.8),
) -> Figure:
    r"""A bar chart of negative log-likelihoods (or bounds on them), in nats and bits/dim.

    Args:
        values: ``{label: nats}``, one bar each (an average per example).
        errors: optional ``{label: standard error}``, drawn as error bars.
        reference: a horizontal line, e.g. the exact NLL; a bound should sit above it.
        reference_label: the legend text of that line.
        dim: the data dimension, for the bits-per-dimension axis on the right
            (:math:`\text{bits/dim} = \text{nats} / (d \ln 2)`).
        title: the axes title.
        figsize: figure size in inches.

    Returns:
        A new Figure with one Axes (and a secondary y axis in bits/dim). Artists: the bars
        carry ``gid`` ``"bar:{label}"``, the line ``"reference"``.
    """
    if not isinstance(values, Mapping) or not values:
        raise ValueError("values must be a non-empty mapping {label: nats}")
    dim = v.positive_int("dim", dim)
    names = list(values)
    heights = np.array([float(values[k]) for k in names])
    _finite("values", heights)
    yerr = None
    if errors is not None:
        yerr = np.array([float(errors.get(k, 0.0)) for k in names])
    fig = _figure(figsize)
    ax = fig.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(names))]
    bars = ax.bar(np.arange(len(names)), heights, yerr=yerr, color=colors, alpha=0.8, capsize=4, width=0.6)
    for bar, name, h in zip(bars.patches, names, heights, strict=True):
        bar.set_gid(f"bar:{name}")
        ax.annotate(f"{h:.3f}", (bar.get_x() + bar.get_width() / 2, h), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)  # fmt: skip
    if reference is not None:
        ax.axhline(float(reference), color=EXACT, ls="--", lw=1.4, label=f"{reference_label} ({float(reference):.3f})", gid="reference")
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set_xlabel("estimate")
    ax.set_ylabel("negative log-likelihood [nats]")
    scale = dim * math.log(2.0)
    secondary = ax.secondary_yaxis("right", functions=(lambda n: n / scale, lambda b: b * scale))
    secondary.set_ylabel("[bits per dimension]")
    top = float(np.max(heights + (0 if yerr is None else yerr)))
    ax.set_ylim(min(0.0, float(heights.min())) * 1.1, max(top, reference or 0.0) * 1.2)
    ax.set_title(title or "Bounds on the negative log-likelihood (lower is tighter)", fontsize=10)
    return fig


def plot_bound_terms(
    ts,
    terms,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = (10.0, 3.6),
) -> Figure:
    r"""Where the bound comes from: the terms :math:`L_{t-1}` against ``t``, and their running share.

    Left: each term :math:`L_{t-1} = E\,\mathrm{KL}(q(x_{t-1}\mid x_t, x_0)\,\|\,
    p_\theta(x_{t-1}\mid x_t))` in nats, on log-log axes. Right: the cumulative share
    :math:`\sum_{s \le t} L_{s-1} / \sum_{s} L_{s-1}`, the fraction of the diffusion part of
    the bound contributed by steps up to ``t``.

    Args:
        ts: the steps ``(K,)``, increasing integers >= 2 (the KL terms; the decoder term at
            ``t = 1`` is a log-density, not a KL, and is reported separately).
        terms: ``(K,)`` nats per step, or ``{label: (K,)}`` to compare; values must be >= 0
            (each is an expected KL divergence).
        title: the figure title.
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes. Artists ``"terms"``/``"cumulative"`` or
        ``"terms:{label}"``/``"cumulative:{label}"``.
    """
    t = _samples_1d("ts", ts)
    if np.any(t < 2) or np.any(np.diff(t) <= 0):
        raise ValueError("ts must be increasing steps >= 2 (the KL terms L_{t-1})")
    runs = _named("terms", terms)
    fig = _figure(figsize)
    ax_terms, ax_share = fig.subplots(1, 2)
    for i, (name, values) in enumerate(runs.items()):
        vals = _samples_1d("terms", values)
        if vals.shape != t.shape:
            raise ValueError(f"terms{f'[{name!r}]' if name else ''} must have the shape of ts {t.shape}; got {vals.shape}")
        if np.any(vals < 0):
            raise ValueError("terms must be >= 0 (expected KL divergences)")
        suffix = f":{name}" if name else ""
        style = {"color": f"C{i % 10}", "ls": ("-", "--", ":", "-.")[i % 4], "label": name or None}
        ax_terms.plot(t, vals, lw=2.0 if style["ls"] == ":" else 1.2, gid=f"terms{suffix}", **style)  # dots need weight
        share = np.cumsum(vals) / max(float(np.sum(vals)), 1e-300)
        ax_share.plot(t, share, lw=2.2 if style["ls"] == ":" else 1.6, gid=f"cumulative{suffix}", **style)
    ax_terms.set_xscale("log")
    ax_terms.set_yscale("log")
    ax_terms.set_xlabel(r"time step $t$ (log scale)")
    ax_terms.set_ylabel(r"$L_{t-1}$ [nats]")
    ax_terms.set_title(r"One term per step: $E\,\mathrm{KL}(q(x_{t-1}|x_t,x_0)\,\|\,p_\theta(x_{t-1}|x_t))$", fontsize=9)
    ax_share.set_xscale("log")
    ax_share.set_ylim(0, 1.02)
    ax_share.set_xlabel(r"time step $t$ (log scale)")
    ax_share.set_ylabel(r"share of $\Sigma_t\, L_{t-1}$ from steps $\leq t$")
    ax_share.set_title("Running share of the diffusion terms", fontsize=9)
    for y in (0.5, 0.9):
        ax_share.axhline(y, color="0.8", lw=0.7, ls=":")
    if any(runs):
        ax_share.legend(fontsize=8, frameon=False, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_bound_vs_T(
    T_values,
    bounds: Mapping[str, object],
    *,
    nll: float | None = None,
    floor: float = 1e-6,
    figsize: tuple[float, float] = (10.0, 3.6),
) -> Figure:
    r"""The bound and its prior term :math:`L_T` against the number of steps ``T``.

    Args:
        T_values: the chain lengths ``(K,)``.
        bounds: ``{label: terms}`` where ``terms`` has attributes ``prior``, ``diffusion``
            and ``decoder``, each ``(K,)`` (a :class:`~diffviz.BoundTerms` of arrays,
            averaged over the data, one entry per ``T``).
        nll: the exact negative log-likelihood, drawn as a line on the left.
        floor: prior terms below this are drawn at ``floor`` (log axis).
        figsize: figure size in inches.

    Returns:
        A new Figure with two Axes: the total bound (left) and :math:`L_T =
        \mathrm{KL}(q(x_T\mid x_0)\,\|\,\mathcal N(0, I))` on a log scale (right). Artists
        ``"total:{label}"``, ``"prior:{label}"`` and ``"nll"``.
    """
    T = _samples_1d("T_values", T_values)
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("bounds must be a non-empty mapping {label: BoundTerms of arrays}")
    fig = _figure(figsize)
    ax_total, ax_prior = fig.subplots(1, 2)
    for i, (name, terms) in enumerate(bounds.items()):
        parts = []
        for part in ("prior", "diffusion", "decoder"):
            if not hasattr(terms, part):
                raise ValueError(f"bounds[{name!r}] must have attributes prior, diffusion and decoder (a BoundTerms)")
            arr = _samples_1d(f"bounds[{name!r}].{part}", getattr(terms, part))
            if arr.shape != T.shape:
                raise ValueError(f"bounds[{name!r}].{part} must have the shape of T_values {T.shape}; got {arr.shape}")
            parts.append(arr)
        prior, diffusion, decoder = parts
        color = f"C{i % 10}"
        ax_total.plot(T, prior + diffusion + decoder, marker="o", ms=4, color=color, label=name, gid=f"total:{name}")
        ax_prior.plot(T, np.maximum(prior, floor), marker="o", ms=4, color=color, label=name, gid=f"prior:{name}")
    if nll is not None:
        ax_total.axhline(float(nll), color=EXACT, ls="--", lw=1.2, label=f"exact NLL ({float(nll):.3f})", gid="nll")
    for ax in (ax_total, ax_prior):
        ax.set_xscale("log")
        ax.set_xlabel(r"number of steps $T$ (log scale)")
        ax.legend(fontsize=8, frameon=False)
    ax_total.set_ylabel("bound on $-\\log p(x_0)$ [nats]")
    ax_total.set_title(r"Total bound $L_T + \Sigma_t\, L_{t-1} + L_0$", fontsize=9)
    ax_prior.set_yscale("log")
    _floor_note(ax_prior, floor)
    ax_prior.set_ylabel(r"$L_T$ [nats] (log scale)")
    ax_prior.set_title(r"Prior term $L_T = \mathrm{KL}(q(x_T|x_0)\,\|\,\mathcal{N}(0,1))$", fontsize=9)
    return fig
