r"""Part III: a class-conditional denoiser, trained with label dropout, sampled with classifier-free guidance.

A conditional denoiser :math:`\hat\varepsilon(x_t, t, c)` takes a class label
:math:`c \in \{0, \dots, K-1\}` or the *null label* :math:`\varnothing` (stored as the
label ``K``, see :class:`~diffviz.DenoiserConfig`'s ``num_classes``). Training is the simple
eps loss of chapter 6 with the label of each example replaced by :math:`\varnothing` with
probability :math:`p_\text{uncond}` (label dropout). One network then learns both the
class-conditional noise :math:`E[\varepsilon \mid x_t, c]` and the unconditional
:math:`E[\varepsilon \mid x_t]` (Ho and Salimans 2022).

Classifier-free guidance with scale :math:`w \ge 0` samples with

.. math::
    \hat\varepsilon_w(x_t, t, c) = (1 + w)\,\hat\varepsilon(x_t, t, c) - w\,\hat\varepsilon(x_t, t, \varnothing).

Since :math:`\varepsilon^* = -\sqrt{1-\bar\alpha_t}\,\nabla\log q_t`, this is the score of
:math:`q_t(x \mid c)^{1+w}\,q_t(x)^{-w}`, i.e. of :math:`q_t(x\mid c)\,q_t(c \mid x)^{w}` up
to a constant: the conditional score plus :math:`w` times the gradient of an implicit
classifier's log-probability. :math:`w = 0` is the plain conditional model. (Sampling with
this field does not sample the tilted density :math:`p(x\mid c)^{1+w}p(x)^{-w}/Z`
exactly; chapter 13 shows where and by how much.)

The predictors are :class:`jax.tree_util.Partial` objects of the samplers' protocol
(:mod:`diffviz._sampling` for integer steps, :mod:`diffviz._continuous_sampling` for
:math:`t \in (0, 1]`): new parameters, labels or guidance scales of the same shapes reuse
the compiled sampler. Each evaluation runs the network once on ``2n`` rows (the ``n`` rows
with their labels, then with the null label).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import Partial

from diffviz import _validate as v
from diffviz._guidance import _cfg_combine
from diffviz._losses import _eps_loss
from diffviz._model import apply_denoiser, class_labels, num_classes_of
from diffviz._schedules import Schedule

# --------------------------------------------------------------------------------------------
# Kernels: no checks but shapes (per-sample labels and scales against the batch)
# --------------------------------------------------------------------------------------------


def _drop_labels(key, labels: jax.Array, num_classes: int, p_uncond) -> jax.Array:
    """Each label replaced by the null label ``num_classes`` with probability ``p_uncond``."""
    drop = jax.random.bernoulli(key, p_uncond, labels.shape)
    return jnp.where(drop, jnp.int32(num_classes), labels.astype(jnp.int32))


def _conditional_loss(key, graphdef, params, schedule: Schedule, x0, labels) -> jax.Array:
    """The simple eps loss of a labelled batch ``x0 (n, d)``, ``labels (n,)``; one t and one noise per row."""
    k_t, k_eps = jax.random.split(key)
    t = jax.random.randint(k_t, x0.shape[:1], 1, schedule.T + 1)  # (n,)
    eps = jax.random.normal(k_eps, x0.shape, jnp.float32)  # (n, d)

    def one(x0_i, t_i, eps_i, c_i):  # the eps loss of one example, its label held fixed
        return _eps_loss(lambda x, s: apply_denoiser(graphdef, params, x, s, c_i), schedule, x0_i, t_i, eps_i)

    return jnp.mean(jax.vmap(one)(x0, t, eps, labels))


def _cfg_eps(graphdef, params, c, w, x, t) -> jax.Array:
    r""":math:`(1+w)\,\hat\varepsilon(x, t, c) - w\,\hat\varepsilon(x, t, \varnothing)`, one network call on 2n rows."""
    _check_per_sample(x, c=c, w=w)
    null = num_classes_of(params)
    lead = x.shape[:-1]
    labels = jnp.concatenate([jnp.broadcast_to(c, lead), jnp.full(lead, null, jnp.int32)], axis=0)
    both = apply_denoiser(graphdef, params, jnp.concatenate([x, x], axis=0), t, labels)
    eps_c, eps_u = both[: lead[0]], both[lead[0] :]
    return _cfg_combine(eps_c, eps_u, jnp.asarray(w, jnp.float32))  # a per-row scale (n,) broadcasts over the coordinates


def _cfg_eps_continuous(graphdef, params, c, w, T, x, t) -> jax.Array:
    return _cfg_eps(graphdef, params, c, w, x, t * T)


def _conditional_eps(graphdef, params, c, x, t) -> jax.Array:
    _check_per_sample(x, c=c)
    return apply_denoiser(graphdef, params, x, t, jnp.broadcast_to(c, x.shape[:-1]))


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _probability(name: str, p) -> float:
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1]; got {p!r}")
    if not (math.isfinite(float(p)) and 0.0 <= float(p) <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1]; got {p!r}")
    return float(p)


def _network(graphdef, params) -> int:
    """The number of classes of a conditional network's ``params``; refuses an unconditional one."""
    if graphdef is None or params is None:
        raise ValueError("graphdef and params must be the pair returned by init_denoiser; got None")
    num_classes = num_classes_of(params)
    if not num_classes:
        raise ValueError(
            "params must belong to a class-conditional denoiser (DenoiserConfig(..., num_classes=K) with K >= 1); "
            "these have no label embedding"
        )
    return num_classes


def _check_per_sample(x, **per_row) -> None:
    """Labels or scales given one per sample must match the sampler's batch ``x (n, d)`` (shapes only: runs while tracing)."""
    if jnp.ndim(x) == 2:
        for name, value in per_row.items():
            v.per_sample(name, value, x.shape[0])


def _labels_arg(c, num_classes: int) -> jax.Array:
    labels = class_labels("c", c, num_classes, allow_null=False)
    if labels.ndim > 1:
        raise ValueError(f"c must be one class label or a 1-D array of them (one per sample); got shape {labels.shape}")
    return labels


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def drop_labels(key, labels, num_classes: int, p_uncond: float) -> jax.Array:
    r"""Label dropout: each label replaced by the null label ``num_classes`` with probability ``p_uncond``.

    Independent Bernoulli draws, one per label; what the training objective
    :func:`conditional_eps_objective` does to every batch, so that the network also learns
    the unconditional prediction :math:`\hat\varepsilon(x_t, t, \varnothing)`.

    Args:
        key: a JAX PRNG key.
        labels: int class labels of any shape, each in ``0..num_classes - 1`` (checked when concrete).
        num_classes: the number of classes ``K >= 1``; the null label is ``K``.
        p_uncond: the dropout probability, in [0, 1].

    Returns:
        int32 labels of the same shape, each in ``0..K``.
    """
    key = v.prng_key("key", key)
    num_classes = v.positive_int("num_classes", num_classes)
    labels = class_labels("labels", labels, num_classes, allow_null=False)
    return _drop_labels(key, labels, num_classes, _probability("p_uncond", p_uncond))


def conditional_eps_objective(schedule: Schedule, *, num_classes: int, p_uncond: float = 0.1):
    r"""The class-conditional eps loss with label dropout, for :func:`~diffviz.make_train_step`'s ``loss``.

    Returns ``loss(key, graphdef, params, batch) -> scalar`` with ``batch = (x0 (n, d), labels
    (n,))`` (what :func:`~diffviz.fit` draws from labelled data ``(x, labels)``): the labels go
    through :func:`drop_labels`, then each row gets its own :math:`t \sim \mathcal
    U\{1..T\}` and :math:`\varepsilon \sim \mathcal N(0, I)`, and the loss is

    .. math::
        \frac{1}{n}\sum_i \big\| \varepsilon_i - \hat\varepsilon_\theta(\sqrt{\bar\alpha_{t_i}}x_{0,i} +
        \sqrt{1-\bar\alpha_{t_i}}\,\varepsilon_i,\ t_i,\ \tilde c_i) \big\|^2 / d,

    :math:`\tilde c_i` the label after dropout. The network must be a conditional denoiser
    with ``num_classes`` classes (checked when the loss is traced).

    Args:
        schedule: the noise schedule.
        num_classes: the number of classes ``K >= 1``.
        p_uncond: the label-dropout probability in [0, 1] (0.1 to 0.2 is usual; 0 never
            trains the null label, so guidance has no unconditional model to push away from).
    """
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a Schedule (e.g. diffviz.linear_schedule(1000)); got {type(schedule).__name__}")
    num_classes = v.positive_int("num_classes", num_classes)
    p_uncond = _probability("p_uncond", p_uncond)

    def loss(key, graphdef, params, batch):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError("batch must be the pair (x0 (n, d), labels (n,)): pass fit labelled data (x, labels)")
        x0, labels = batch
        if num_classes_of(params) != num_classes:
            raise ValueError(
                f"num_classes = {num_classes}, but the network has {num_classes_of(params)} classes "
                "(DenoiserConfig.num_classes)"
            )
        k_drop, k_loss = jax.random.split(key)
        labels = _drop_labels(k_drop, jnp.asarray(labels), num_classes, p_uncond)
        return _conditional_loss(k_loss, graphdef, params, schedule, x0, labels)

    loss.num_classes = num_classes  # make_train_step passes it on, so fit can check labelled data's labels
    return loss


def conditional_eps_fn(graphdef, params, c) -> Partial:
    r"""A conditional network as a noise predictor for class ``c``: ``eps_fn(x_t, t) = eps(x_t, t, c)``.

    ``c``: one label or an ``(n,)`` array (one per sample), each in ``0..K`` (``K`` = the null
    label: the unconditional model). Integer steps ``t`` (:func:`~diffviz.ddpm_sample`,
    :func:`~diffviz.ddim_sample`). No guidance: :func:`cfg_eps_fn` with ``w = 0`` is the same
    predictor at twice the cost.
    """
    num_classes = _network(graphdef, params)
    labels = class_labels("c", c, num_classes, allow_null=True)
    if labels.ndim > 1:
        raise ValueError(f"c must be one class label or a 1-D array of them (one per sample); got shape {labels.shape}")
    return Partial(_conditional_eps, graphdef, params, labels)


def cfg_eps_fn(graphdef, params, c, w) -> Partial:
    r"""The classifier-free guided noise predictor of a conditional network, for integer steps ``t``.

    .. math::
        \hat\varepsilon_w(x_t, t) = (1 + w)\,\hat\varepsilon(x_t, t, c) - w\,\hat\varepsilon(x_t, t, \varnothing).

    Args:
        graphdef, params: a conditional denoiser (``DenoiserConfig(..., num_classes=K)``),
            e.g. trained with :func:`conditional_eps_objective`.
        c: the class, one label in ``0..K-1`` for every sample, or an ``(n,)`` array of
            labels (one per sample of an ``(n, d)`` sampler shape).
        w: the guidance scale, a finite number >= 0 (0: the conditional model; larger:
            samples more typical of the class and less varied), or an ``(n,)`` array (one
            scale per sample, e.g. a sweep in one sampler call).

    Returns:
        A :class:`jax.tree_util.Partial` ``eps_fn(x_t, t)`` for :func:`~diffviz.ddpm_sample`
        and :func:`~diffviz.ddim_sample`; ``c`` and ``w`` are traced, so new labels or scales
        of the same shapes do not recompile the sampler.

    Raises:
        ValueError: an unconditional network, a label out of ``0..K-1``, or ``w`` NaN,
            infinite or negative; and ``eps_fn`` itself, when it meets a batch of ``n'`` samples
            and ``c`` or ``w`` holds one value per sample for another ``n``.
    """
    num_classes = _network(graphdef, params)
    return Partial(_cfg_eps, graphdef, params, _labels_arg(c, num_classes), v.guidance_scale("w", w, per_sample=True))


def continuous_cfg_eps_fn(graphdef, params, c, w, T: int) -> Partial:
    """:func:`cfg_eps_fn` for the continuous-time samplers (:func:`~diffviz.ode_sample`, ...):
    ``eps_fn(x, t)`` with ``t`` in (0, 1], the network called at the float step ``t * T``
    (as :func:`~diffviz.continuous_model_eps_fn`); ``T`` the steps of the training schedule."""
    num_classes = _network(graphdef, params)
    labels, w = _labels_arg(c, num_classes), v.guidance_scale("w", w, per_sample=True)
    return Partial(_cfg_eps_continuous, graphdef, params, labels, w, jnp.asarray(v.positive_int("T", T), jnp.float32))
