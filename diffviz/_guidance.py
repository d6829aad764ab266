r"""Part III: conditional generation and guidance, with the exact answers of labelled mixtures.

Labelled mixtures
-----------------
A *labelled mixture* gives every component :math:`k` of a Gaussian mixture a class
:math:`\ell_k \in \{0, \dots, C-1\}`; a class owns a group of components. Then

.. math::
    p(x, c) = \sum_{k:\,\ell_k = c} w_k\,\mathcal N(x; \mu_k, S_k^2), \qquad
    \pi_c = \sum_{k:\,\ell_k = c} w_k, \qquad p(x \mid c) = p(x, c) / \pi_c,

and every noisy version is a mixture again (each component is diffused as in
:mod:`diffviz._mixture`, :math:`x_t = a x_0 + s\varepsilon`, :math:`V_k = a^2S_k^2 + s^2`).
So we know, exactly: the class-conditional noise prediction
:math:`\varepsilon^*(x_t \mid c) = -s\,\nabla\log p_t(x_t \mid c)` (the components of class
:math:`c` only), the unconditional :math:`\varepsilon^*(x_t)`, and the *noisy classifier*
by Bayes' rule,

.. math::
    p_t(c \mid x) = \frac{p_t(x, c)}{\sum_{c'} p_t(x, c')}, \qquad
    \nabla_x\log p_t(c \mid x) = \nabla\log p_t(x \mid c) - \nabla\log p_t(x)
        = \frac{\varepsilon^*(x) - \varepsilon^*(x \mid c)}{s}.

Guidance: one scale ``w``, ``w = 0`` is plain conditional sampling
------------------------------------------------------------------------
*Classifier-free guidance* (Ho & Salimans 2022) mixes the two predictions,

.. math::
    \hat\varepsilon_{\mathrm{cfg}} = (1 + w)\,\varepsilon^*(x_t \mid c) - w\,\varepsilon^*(x_t).

*Classifier guidance* (Dhariwal & Nichol 2021) pushes the unconditional prediction along the
classifier's gradient with a scale :math:`\gamma`,
:math:`\hat\varepsilon = \varepsilon^*(x_t) - \gamma\,s\,\nabla\log p_t(c \mid x_t)`, and
:math:`\gamma = 1` is plain conditional sampling. Here the same ``w`` drives both:
:math:`\gamma = 1 + w`, so

.. math::
    \hat\varepsilon_{\mathrm{cg}} = \varepsilon^*(x_t) - (1 + w)\,s\,\nabla\log p_t(c \mid x_t).

With exact quantities the two are the *same field* (substitute the gradient above); the
package computes the classifier's gradient by autodiff of :math:`\log p_t(c\mid x)` and the
CFG field from the two closed-form predictions, and the tests check they agree. A learned
classifier and a learned conditional model are fitted separately, so their fields differ.

The tilted density, and why guidance does not sample it
-------------------------------------------------------
At ``t = 0`` the guided score is the score of

.. math::
    \tilde p_w(x \mid c) = \frac{1}{Z}\,p(x \mid c)^{1+w}\,p(x)^{-w}
        = \frac{1}{Z}\,p(x \mid c)\Big(\frac{p(c \mid x)}{\pi_c}\Big)^{w}.

But at ``t > 0`` the guided field is not the score of the *diffused* tilted density (the
power of a diffused density is not the diffusion of the power), so guided sampling lands
somewhere else (Chidambaram et al. 2024; Bradley & Nakkiran 2024). :func:`tilted_density`
computes :math:`\tilde p_w` on a grid, and :func:`tilted_gap` measures how far samples are
from it, against the noise floor, and where.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp
from jax.tree_util import Partial

from diffviz import _validate as v
from diffviz._continuous import _alpha_bar_pair, check_schedule
from diffviz._data import eight_gaussians_mixture
from diffviz._metrics import sliced_wasserstein
from diffviz._mixture import GaussianMixture, gaussian_mixture

GUIDANCE_KINDS = ("cfg", "classifier")


class LabelledMixture(NamedTuple):
    """A Gaussian mixture whose components belong to classes. Build with :func:`labelled_mixture`.

    Attributes:
        mixture: the :class:`~diffviz.GaussianMixture` of all classes together, :math:`p(x)`.
        labels: ``(K,)`` int32, the class of each component, every class ``0..C-1`` used.
        num_classes: ``C``, a Python int.
    """

    mixture: GaussianMixture
    labels: jax.Array  # shape=(K,)
    num_classes: int


def labelled_mixture(mixture, labels) -> LabelledMixture:
    """Give each component of ``mixture`` a class.

    Args:
        mixture: a :class:`~diffviz.GaussianMixture` with ``K`` components.
        labels: ``K`` integers; the classes used must be exactly ``0..C-1`` (none left empty).

    Raises:
        ValueError: ``mixture`` not a mixture, ``labels`` of the wrong length, not integers,
            negative, or with an unused class.
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError(f"mixture must be a GaussianMixture (see diffviz.gaussian_mixture); got {type(mixture).__name__}")
    arr = np.asarray(labels)
    K = mixture.weights.shape[0]
    if arr.shape != (K,) or not (np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.bool_):
        raise ValueError(f"labels must be {K} integers, one class per component; got {labels!r}")
    used = sorted(set(arr.tolist()))
    if used != list(range(len(used))):
        raise ValueError(f"labels must use every class 0..C-1 (none empty, none negative); got classes {used}")
    return LabelledMixture(mixture, jnp.asarray(arr, jnp.int32), len(used))


def _check_lmix(lmix) -> LabelledMixture:
    if not isinstance(lmix, LabelledMixture):
        raise ValueError(f"lmix must be a LabelledMixture (see diffviz.labelled_mixture); got {type(lmix).__name__}")
    return lmix


def _class_label(lmix: LabelledMixture, c) -> int:
    if isinstance(c, (bool, np.bool_)) or not isinstance(c, (numbers.Integral, np.integer)):
        raise ValueError(f"c must be a class label, an integer in 0..{lmix.num_classes - 1}; got {c!r}")
    if not 0 <= int(c) < lmix.num_classes:
        raise ValueError(f"c must be a class label, an integer in 0..{lmix.num_classes - 1}; got {int(c)}")
    return int(c)


def _kind(kind) -> str:
    if not isinstance(kind, str) or kind not in GUIDANCE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, GUIDANCE_KINDS))}; got {kind!r}")
    return kind


def class_prior(lmix: LabelledMixture) -> jax.Array:
    r"""The class probabilities :math:`\pi_c = \sum_{k:\,\ell_k = c} w_k`, shape ``(C,)``."""
    lmix = _check_lmix(lmix)
    return jax.ops.segment_sum(lmix.mixture.weights, lmix.labels, num_segments=lmix.num_classes)


def class_mixture(lmix: LabelledMixture, c) -> GaussianMixture:
    r""":math:`p(x \mid c)`: the components of class ``c``, their weights renormalised to sum to 1."""
    lmix = _check_lmix(lmix)
    keep = np.asarray(lmix.labels) == _class_label(lmix, c)
    mix = lmix.mixture
    return gaussian_mixture(mix.weights[keep], mix.means[keep], mix.stds[keep])


def sample_labelled_mixture(key, lmix: LabelledMixture, n: int) -> tuple[jax.Array, jax.Array]:
    """``n`` pairs ``(x, c)``: a component by weight, its Gaussian, and its class. Shapes ``(n, d)``, ``(n,)`` int32."""
    key = v.prng_key("key", key)
    lmix = _check_lmix(lmix)
    n = v.positive_int("n", n)
    mix = lmix.mixture
    k_comp, k_noise = jax.random.split(key)
    comp = jax.random.choice(k_comp, mix.weights.shape[0], (n,), p=mix.weights)
    noise = jax.random.normal(k_noise, (n, mix.dim), jnp.float32)
    return mix.means[comp] + mix.stds[comp] * noise, lmix.labels[comp]


# name -> (the mixture's builder, labels). eight_gaussians: the eight Gaussians of diffviz's
# toy, widened from std 0.14 to 0.3 so that neighbours overlap (means 1.07 apart, 3.6 stds),
# in three classes of neighbours; bimodal: chapter 2's 1-D bimodal, one class per mode.
def _eight_wide() -> GaussianMixture:
    base = eight_gaussians_mixture()
    return GaussianMixture(base.weights, base.means, jnp.full_like(base.stds, 0.3))


def _bimodal() -> GaussianMixture:
    return gaussian_mixture([0.5, 0.5], [-0.95, 0.95], 0.3)


_TOYS = {
    "eight_gaussians": (_eight_wide, (0, 0, 0, 1, 1, 1, 2, 2)),
    "bimodal": (_bimodal, (0, 1)),
}


def labelled_toy(name: str) -> LabelledMixture:
    r"""A labelled toy: ``"eight_gaussians"`` (2-D, 3 classes) or ``"bimodal"`` (1-D, 2 classes).

    * ``"eight_gaussians"``: the eight Gaussians of :func:`~diffviz.eight_gaussians_mixture`
      (radius 1.4) with std 0.3 instead of 0.14, so neighbouring modes overlap; class 0 owns
      components 0, 1, 2 (angles 0, 45, 90 degrees), class 1 owns 3, 4, 5, class 2 owns 6, 7.
      Priors 3/8, 3/8, 2/8.
    * ``"bimodal"``: :math:`\tfrac12\mathcal N(-0.95, 0.3^2) + \tfrac12\mathcal N(0.95, 0.3^2)`
      (chapter 2's bimodal mixture), class 0 the left mode, class 1 the right.
    """
    if not isinstance(name, str) or name not in _TOYS:
        raise ValueError(f"name must be one of {', '.join(map(repr, _TOYS))}; got {name!r}")
    build, labels = _TOYS[name]
    return labelled_mixture(build(), labels)


# --------------------------------------------------------------------------------------------
# Exact noisy quantities for x_t = a x_0 + s eps (kernels: no checks, traceable)
# --------------------------------------------------------------------------------------------


class _ClassParts(NamedTuple):
    log_p: jax.Array  # (n,) log p_t(x)
    log_joint: jax.Array  # (n,) log p_t(x, c)
    eps: jax.Array  # (n, d) eps*(x)
    eps_c: jax.Array  # (n, d) eps*(x | c)


def _component_terms(mix: GaussianMixture, x: jax.Array, a, s):
    var = a**2 * mix.stds[None] ** 2 + s**2  # (1, K, d)
    diff = x[:, None, :] - a * mix.means[None]  # (n, K, d)
    logits = jnp.log(mix.weights)[None] - 0.5 * jnp.sum(jnp.log(2 * jnp.pi * var) + diff**2 / var, axis=2)
    return logits, s * diff / var  # (n, K), (n, K, d) E[eps | x_t, k]


def _class_logits(lmix: LabelledMixture, logits: jax.Array, c) -> jax.Array:
    return jnp.where((lmix.labels == c)[None], logits, -jnp.inf)


@jax.jit
def _class_parts(lmix: LabelledMixture, x: jax.Array, c, a, s) -> _ClassParts:
    logits, eps_k = _component_terms(lmix.mixture, x, a, s)
    logits_c = _class_logits(lmix, logits, c)
    r, r_c = jax.nn.softmax(logits, axis=1), jax.nn.softmax(logits_c, axis=1)
    eps = jnp.sum(r[:, :, None] * eps_k, axis=1)
    eps_c = jnp.sum(r_c[:, :, None] * eps_k, axis=1)
    return _ClassParts(logsumexp(logits, axis=1), logsumexp(logits_c, axis=1), eps, eps_c)


def _log_class_posterior(lmix: LabelledMixture, x: jax.Array, c, a, s) -> jax.Array:
    logits, _ = _component_terms(lmix.mixture, x, a, s)
    return logsumexp(_class_logits(lmix, logits, c), axis=1) - logsumexp(logits, axis=1)


def _classifier_grad(lmix: LabelledMixture, x: jax.Array, c, a, s) -> jax.Array:
    """grad_x log p_t(c | x) by autodiff (rows are independent, so the gradient of the sum)."""
    return jax.grad(lambda z: jnp.sum(_log_class_posterior(lmix, z, c, a, s)))(x)


def _cfg_combine(cond: jax.Array, uncond: jax.Array, w) -> jax.Array:
    r"""Classifier-free guidance's combination :math:`(1 + w)\,\text{cond} - w\,\text{uncond}`.

    Of two noise predictions (:math:`\varepsilon(x_t \mid c)` and :math:`\varepsilon(x_t)`:
    here with the exact ones, in :mod:`diffviz._conditional` with a network's) or of two
    log-densities (the tilted density). ``w``: one scale, or one per leading row ``(n,)``,
    broadcast over the trailing axes.
    """
    if jnp.ndim(w):
        w = jnp.reshape(w, jnp.shape(w) + (1,) * (jnp.ndim(cond) - jnp.ndim(w)))
    return (1.0 + w) * cond - w * uncond


@functools.partial(jax.jit, static_argnames="kind")
def _guided(kind: str, lmix: LabelledMixture, x: jax.Array, c, w, a, s) -> jax.Array:
    flat = x.reshape(-1, x.shape[-1])
    if kind == "cfg":
        parts = _class_parts(lmix, flat, c, a, s)
        out = _cfg_combine(parts.eps_c, parts.eps, w)
    else:
        logits, eps_k = _component_terms(lmix.mixture, flat, a, s)
        eps = jnp.sum(jax.nn.softmax(logits, axis=1)[:, :, None] * eps_k, axis=1)
        out = eps - (1.0 + w) * s * _classifier_grad(lmix, flat, c, a, s)
    return out.reshape(x.shape)


def _discrete_as(schedule, t):
    return jnp.sqrt(schedule.alpha_bars[t]), jnp.sqrt(schedule.one_minus_alpha_bars[t])


def _continuous_as(schedule, t):
    abar, om = _alpha_bar_pair(schedule, t)
    return jnp.sqrt(abar), jnp.sqrt(om)


def _guided_discrete(kind, schedule, lmix, c, w, x, t):
    return _guided(kind, lmix, x, c, w, *_discrete_as(schedule, t))


def _guided_continuous(kind, schedule, lmix, c, w, x, t):
    return _guided(kind, lmix, x, c, w, *_continuous_as(schedule, t))


# One function object per kind, made once: a Partial's function is part of a compiled
# sampler's cache key, so a new functools.partial per call would recompile every time.
_DISCRETE_FNS = {kind: functools.partial(_guided_discrete, kind) for kind in GUIDANCE_KINDS}
_CONTINUOUS_FNS = {kind: functools.partial(_guided_continuous, kind) for kind in GUIDANCE_KINDS}


# --------------------------------------------------------------------------------------------
# Public exact quantities at a discrete step t
# --------------------------------------------------------------------------------------------


def _points_args(schedule, lmix, x_t, t, *, lo: int = 0):
    schedule = check_schedule(schedule)
    lmix = _check_lmix(lmix)
    t = v.timestep("t", t, schedule.T, lo=lo)
    x_t = v.data_array("x_t", x_t, min_ndim=1)
    d = lmix.mixture.dim
    if x_t.shape[-1] != d:
        raise ValueError(f"x_t must have shape (..., {d}) for this {d}-D mixture; got {x_t.shape}")
    return schedule, lmix, x_t, t


def noisy_classifier(schedule, lmix: LabelledMixture, x_t, t) -> jax.Array:
    r"""The exact noisy classifier :math:`p_t(c \mid x_t)` for every class, by Bayes' rule.

    .. math::
        p_t(c \mid x) = \frac{\sum_{k:\,\ell_k = c} w_k\,\mathcal N(x; \sqrt{\bar\alpha_t}\mu_k, \bar\alpha_t S_k^2 + 1 - \bar\alpha_t)}
            {\sum_k w_k\,\mathcal N(x; \sqrt{\bar\alpha_t}\mu_k, \bar\alpha_t S_k^2 + 1 - \bar\alpha_t)}.

    Args:
        schedule: the noise schedule; ``t`` an integer step in ``0..T``.
        lmix: the :class:`LabelledMixture`.
        x_t: points ``(..., d)``.

    Returns:
        float32 ``(..., C)``, each row summing to 1.
    """
    schedule, lmix, x_t, t = _points_args(schedule, lmix, x_t, t)
    a, s = _discrete_as(schedule, t)
    probs = _class_probs(lmix.mixture, lmix.labels, x_t.reshape(-1, x_t.shape[-1]), a, s, lmix.num_classes)
    return probs.reshape(x_t.shape[:-1] + (lmix.num_classes,))


@functools.partial(jax.jit, static_argnames="num_classes")
def _class_probs(mixture, labels, x, a, s, num_classes):
    logits, _ = _component_terms(mixture, x, a, s)
    resp = jax.nn.softmax(logits, axis=1)  # (n, K)
    return jax.ops.segment_sum(resp.T, labels, num_segments=num_classes).T  # (n, C)


def noisy_classifier_grad(schedule, lmix: LabelledMixture, x_t, t, c) -> jax.Array:
    r""":math:`\nabla_x\log p_t(c \mid x_t) = (\varepsilon^*(x_t) - \varepsilon^*(x_t \mid c))/\sqrt{1-\bar\alpha_t}`; shape of ``x_t``.

    ``t`` in ``1..T`` (at ``t = 0`` the formula divides by 0). Computed in closed form.
    """
    schedule, lmix, x_t, t = _points_args(schedule, lmix, x_t, t, lo=1)
    c = _class_label(lmix, c)
    a, s = _discrete_as(schedule, t)
    parts = _class_parts(lmix, x_t.reshape(-1, x_t.shape[-1]), c, a, s)
    return ((parts.eps - parts.eps_c) / s).reshape(x_t.shape)


def class_conditional_eps(schedule, lmix: LabelledMixture, x_t, t, c) -> jax.Array:
    r"""The exact :math:`\varepsilon^*(x_t \mid c) = -\sqrt{1-\bar\alpha_t}\,\nabla\log p_t(x_t \mid c)`, ``t`` in ``1..T``."""
    schedule, lmix, x_t, t = _points_args(schedule, lmix, x_t, t, lo=1)
    c = _class_label(lmix, c)
    a, s = _discrete_as(schedule, t)
    return _class_parts(lmix, x_t.reshape(-1, x_t.shape[-1]), c, a, s).eps_c.reshape(x_t.shape)


def guided_eps(schedule, lmix: LabelledMixture, x_t, t, c, w, *, kind: str = "cfg") -> jax.Array:
    r"""The guided noise prediction at step ``t`` (``1..T``), scale ``w >= 0`` (``0``: plain conditional).

    ``kind="cfg"``: :math:`(1+w)\,\varepsilon^*(x_t\mid c) - w\,\varepsilon^*(x_t)`;
    ``kind="classifier"``: :math:`\varepsilon^*(x_t) - (1+w)\sqrt{1-\bar\alpha_t}\,\nabla\log p_t(c\mid x_t)`,
    the gradient by autodiff. For the exact oracle the two are equal (module docstring).

    Raises:
        ValueError: ``w`` NaN, infinite or negative; ``c`` not a class; ``kind`` unknown; bad ``t`` or ``x_t``.
    """
    schedule, lmix, x_t, t = _points_args(schedule, lmix, x_t, t, lo=1)
    c, w, kind = _class_label(lmix, c), v.guidance_scale("w", w), _kind(kind)
    return _guided_discrete(kind, schedule, lmix, c, w, x_t, t)


def _eps_fn_args(schedule, lmix, c, w, kind):
    schedule = check_schedule(schedule)
    lmix = _check_lmix(lmix)
    return schedule, lmix, jnp.asarray(_class_label(lmix, c), jnp.int32), jnp.asarray(v.guidance_scale("w", w), jnp.float32), _kind(kind)


def guided_eps_fn(schedule, lmix: LabelledMixture, c, w, *, kind: str = "cfg") -> Partial:
    """The exact guided predictor ``eps_fn(x_t, t)`` (integer ``t``) for :func:`~diffviz.ddpm_sample` and :func:`~diffviz.ddim_sample`.

    ``c`` and ``w`` are traced arguments of the :class:`jax.tree_util.Partial`, so a sweep
    over ``w`` or the classes reuses one compiled sampler. ``w = 0`` samples :math:`p(x\\mid c)`.
    """
    schedule, lmix, c, w, kind = _eps_fn_args(schedule, lmix, c, w, kind)
    return Partial(_DISCRETE_FNS[kind], schedule, lmix, c, w)


def continuous_guided_eps_fn(schedule, lmix: LabelledMixture, c, w, *, kind: str = "cfg") -> Partial:
    r"""The exact guided predictor ``eps_fn(x, t)``, continuous ``t`` in (0, 1], for :func:`~diffviz.ode_sample`, :func:`~diffviz.sde_sample`, :func:`~diffviz.pc_sample`.

    The same field as :func:`guided_eps_fn` with :math:`\bar\alpha(t)` of :func:`~diffviz.continuous_alpha_bar`.
    """
    schedule, lmix, c, w, kind = _eps_fn_args(schedule, lmix, c, w, kind)
    return Partial(_CONTINUOUS_FNS[kind], schedule, lmix, c, w)


# --------------------------------------------------------------------------------------------
# The tilted density on a grid, and how far samples land from it
# --------------------------------------------------------------------------------------------


class GridDensity(NamedTuple):
    """A density tabulated on a regular grid of cells (1-D or 2-D).

    Attributes:
        centres: ``(G,)`` the cell centres along each axis (the same for every axis).
        density: ``(G,)`` or ``(G, G)`` (indexed ``[i_x, i_y]``), the density at the centres.
        cell: the cell width.
    """

    centres: jax.Array
    density: jax.Array
    cell: float


def _grid_points(centres: jax.Array, d: int) -> jax.Array:
    if d == 1:
        return centres[:, None]
    gx, gy = jnp.meshgrid(centres, centres, indexing="ij")
    return jnp.stack([gx.ravel(), gy.ravel()], axis=1)


def tilted_density(lmix: LabelledMixture, c, w, *, lim: float = 3.0, grid_size: int = 200) -> GridDensity:
    r"""The tilted density :math:`p(x\mid c)^{1+w}\,p(x)^{-w}/Z` on a grid over :math:`[-\text{lim}, \text{lim}]^d`.

    :math:`Z` is the grid's Riemann sum, so the tabulated density sums to 1 times the cell
    area. ``w = 0`` gives :math:`p(x \mid c)` itself. For ``d`` = 1 or 2.
    """
    lmix = _check_lmix(lmix)
    c, w = _class_label(lmix, c), v.guidance_scale("w", w)
    d = lmix.mixture.dim
    if d not in (1, 2):
        raise ValueError(f"lmix must be 1-D or 2-D for a grid density; got d = {d}")
    if isinstance(lim, (bool, np.bool_)) or not isinstance(lim, numbers.Real) or not (math.isfinite(lim) and lim > 0):
        raise ValueError(f"lim must be a finite number > 0; got {lim!r}")
    grid_size = v.positive_int("grid_size", grid_size, minimum=2)
    cell = 2.0 * float(lim) / grid_size
    centres = jnp.asarray(-float(lim) + cell * (np.arange(grid_size) + 0.5), jnp.float32)
    density = _tilted_kernel(class_mixture(lmix, c), lmix.mixture, _grid_points(centres, d), w, d * math.log(cell))
    return GridDensity(centres, density.reshape((grid_size,) * d), cell)


@jax.jit
def _tilted_kernel(class_mix, mix, pts, w, log_cell_volume):
    log_c = logsumexp(_component_terms(class_mix, pts, 1.0, 0.0)[0], axis=1)  # log p(x | c)
    log_p = logsumexp(_component_terms(mix, pts, 1.0, 0.0)[0], axis=1)  # log p(x)
    log_t = _cfg_combine(log_c, log_p, w)  # the log of p(x | c)^(1+w) p(x)^(-w)
    return jnp.exp(log_t - logsumexp(log_t) - log_cell_volume)


def sample_grid_density(key, density: GridDensity, n: int) -> jax.Array:
    """``n`` draws from a :class:`GridDensity`: a cell by its mass, then a uniform point in it. ``(n, d)``."""
    key = v.prng_key("key", key)
    n = v.positive_int("n", n)
    if not isinstance(density, GridDensity):
        raise ValueError(f"density must be a GridDensity (see diffviz.tilted_density); got {type(density).__name__}")
    d, G = density.density.ndim, density.centres.shape[0]
    k_cell, k_jitter = jax.random.split(key)
    flat = density.density.ravel()
    cells = jax.random.choice(k_cell, flat.shape[0], (n,), p=flat / jnp.sum(flat))
    index = jnp.stack(jnp.unravel_index(cells, (G,) * d), axis=1)  # (n, d)
    jitter = jax.random.uniform(k_jitter, (n, d), jnp.float32, -0.5, 0.5) * density.cell
    return density.centres[index] + jitter


class TiltedGap(NamedTuple):
    """How far samples land from a :class:`GridDensity`, and the floor a perfect sampler would read.

    Attributes:
        sw1, sw1_floor: sliced W1 to a sample of the density of the same size, and between
            two such samples.
        tv, tv_floor: total variation between the samples' histogram (``bins`` per axis)
            and the density's mass per bin, and the same for a sample of the density.
        edges: ``(bins + 1,)`` the histogram's bin edges (every axis).
        sample_mass, density_mass: ``(bins,)*d`` the mass per bin (samples outside the
            grid are left out of ``sample_mass``).
    """

    sw1: jax.Array
    sw1_floor: jax.Array
    tv: jax.Array
    tv_floor: jax.Array
    edges: jax.Array
    sample_mass: jax.Array
    density_mass: jax.Array


def _binned(x: np.ndarray, edges: np.ndarray, weights=None) -> np.ndarray:
    counts, _ = np.histogramdd(x, bins=[edges] * x.shape[1], weights=weights)
    return counts


def tilted_gap(key, x, density: GridDensity, *, bins: int = 20) -> TiltedGap:
    r"""Compare samples ``x: (n, d)`` with a :class:`GridDensity` (e.g. :func:`tilted_density`).

    Draws two samples of size ``n`` from the density (:func:`sample_grid_density`): one to
    compare ``x`` with, one more for the noise floor. ``bins`` must divide the grid into
    whole groups of cells (``grid_size % bins == 0``).
    """
    key = v.prng_key("key", key)
    if not isinstance(density, GridDensity):
        raise ValueError(f"density must be a GridDensity (see diffviz.tilted_density); got {type(density).__name__}")
    x = v.points("x", x)
    d, G = density.density.ndim, density.centres.shape[0]
    if x.shape[1] != d:
        raise ValueError(f"x must have shape (n, {d}) for this {d}-D density; got {x.shape}")
    bins = v.positive_int("bins", bins)
    if G % bins:
        raise ValueError(f"bins must divide the grid's {G} cells per axis; got {bins}")
    n = x.shape[0]
    k_a, k_b, k_sw = jax.random.split(key, 3)
    ref, ref2 = sample_grid_density(k_a, density, n), sample_grid_density(k_b, density, n)
    lim = float(density.centres[-1]) + 0.5 * density.cell
    edges = np.linspace(-lim, lim, bins + 1)
    mass = np.asarray(density.density, np.float64) * density.cell**d
    group = G // bins
    dens_mass = mass.reshape(sum(((bins, group) for _ in range(d)), ())).sum(axis=tuple(range(1, 2 * d, 2)))
    hist_x = _binned(np.asarray(x, np.float64), edges) / n
    hist_ref = _binned(np.asarray(ref2, np.float64), edges) / n
    as32 = functools.partial(jnp.asarray, dtype=jnp.float32)
    return TiltedGap(
        sliced_wasserstein(k_sw, x, ref),
        sliced_wasserstein(k_sw, ref2, ref),
        as32(0.5 * (np.abs(hist_x - dens_mass).sum() + (1.0 - hist_x.sum()))),
        as32(0.5 * (np.abs(hist_ref - dens_mass).sum() + (1.0 - hist_ref.sum()))),
        as32(edges),
        as32(hist_x),
        as32(dens_mass),
    )


class GuidanceReadout(NamedTuple):
    """Fidelity and diversity of samples meant for class ``c`` (each a float32 scalar).

    Attributes:
        log_likelihood: the mean exact :math:`\\log p(x \\mid c)` of the samples (fidelity).
        on_class: the share of samples the exact clean classifier :math:`p(c \\mid x)` puts in ``c``.
        modes_covered: the share of class ``c``'s components that get at least ``min_share``
            of their fair share of the samples (each sample goes to its most likely component of ``c``).
        spread: the root mean squared distance of the samples from their mean (diversity).
    """

    log_likelihood: jax.Array
    on_class: jax.Array
    modes_covered: jax.Array
    spread: jax.Array


def guidance_readout(lmix: LabelledMixture, x, c, *, min_share: float = 0.25) -> GuidanceReadout:
    """Fidelity and diversity readouts of samples ``x: (n, d)`` for class ``c`` (see :class:`GuidanceReadout`)."""
    lmix = _check_lmix(lmix)
    c = _class_label(lmix, c)
    x = v.points("x", x)
    if x.shape[1] != lmix.mixture.dim:
        raise ValueError(f"x must have shape (n, {lmix.mixture.dim}); got {x.shape}")
    if isinstance(min_share, (bool, np.bool_)) or not isinstance(min_share, numbers.Real) or not 0 < min_share <= 1:
        raise ValueError(f"min_share must be a number in (0, 1]; got {min_share!r}")
    class_mix = class_mixture(lmix, c)
    clean = _class_probs(lmix.mixture, lmix.labels, x, 1.0, 0.0, lmix.num_classes)  # t = 0: the clean classifier
    return _readout_kernel(class_mix, clean, x, c, float(min_share))


@jax.jit
def _readout_kernel(class_mix, clean, x, c, min_share):
    logits, _ = _component_terms(class_mix, x, 1.0, 0.0)  # (n, K_c)
    log_lik = jnp.mean(logsumexp(logits, axis=1))
    on_class = jnp.mean(jnp.argmax(clean, axis=1) == c)
    share = jnp.mean(jax.nn.one_hot(jnp.argmax(logits, axis=1), class_mix.weights.shape[0]), axis=0)
    covered = jnp.mean(share >= min_share * class_mix.weights)
    spread = jnp.sqrt(jnp.mean(jnp.sum((x - jnp.mean(x, axis=0, keepdims=True)) ** 2, axis=1)))
    return GuidanceReadout(log_lik, on_class.astype(jnp.float32), covered.astype(jnp.float32), spread)

