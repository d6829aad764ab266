r"""Training: a pure, jitted step and a ``fit`` loop that runs many steps per call.

The pieces, from the inside out:

* :func:`make_train_step` builds ``step(key, state, batch) -> (state, metrics)``, a pure
  function: the epsilon loss (:func:`diffviz.batch_eps_loss`), its gradient, one optax
  update and an exponential moving average (EMA) of the weights. Nothing in it prints,
  plots or reads a global.
* :func:`fit` jits a ``lax.scan`` over ``steps_per_call`` such steps (drawing each batch
  inside the compiled loop), calls it repeatedly, and shows a ``tqdm`` progress bar with the
  running loss. It returns the new state and the loss of every step; calling it again with
  the returned state resumes training.

The same code runs on CPU, GPU and TPU. With several local devices, ``fit`` lays the batch
out over a ``jax.sharding.Mesh`` along its ``"data"`` axis (parameters replicated), so each
device computes the loss of its share of the batch and XLA adds up the gradients.

Measured on a 2-core CPU: a 99k-parameter MLP at batch 32 is overhead-bound, so fusing
steps in ``lax.scan`` and reading the loss once per chunk (not per step) matters more than
FLOPs. See ``benchmarks/``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from diffviz import _validate as v
from diffviz._losses import batch_eps_loss
from diffviz._model import apply_denoiser
from diffviz._schedules import Schedule


class StepMetrics(NamedTuple):
    r"""What one training step reports (scalars, so ``lax.scan`` can stack them).

    Attributes:
        loss: the simple loss :math:`L_\text{simple}` on the step's batch, before the update.
        grad_norm: the global L2 norm of the gradient.
    """

    loss: jax.Array  # shape=(), float32
    grad_norm: jax.Array  # shape=(), float32


class TrainState(NamedTuple):
    """Everything that changes during training; a pytree, so ``lax.scan`` can carry it.

    Attributes:
        params: the network parameters (an ``nnx.State``).
        opt_state: the optax optimizer state.
        ema_params: exponential moving average of ``params``, bias-corrected (sample with
            these; see :func:`make_train_step`).
        step: number of steps taken, int32 scalar.
    """

    params: Any
    opt_state: Any
    ema_params: Any
    step: jax.Array  # shape=(), int32


def warmup_cosine(peak_lr: float, warmup_steps: int, total_steps: int, final_fraction: float = 0.05):
    """A learning-rate schedule: a linear ramp from 0 to ``peak_lr`` over ``warmup_steps``,
    then half a cosine down to ``final_fraction * peak_lr`` at ``total_steps`` (flat after).

    Returns an optax schedule ``lr(count)`` (``count`` = updates done so far, from 0); pass
    it to :func:`adam`. The recipe the course's 2-D models use: ``warmup_cosine(2e-3, 200, N)``.
    """
    peak_lr = _positive_number("peak_lr", peak_lr)
    warmup_steps = v.positive_int("warmup_steps", warmup_steps, minimum=0)
    total_steps = v.positive_int("total_steps", total_steps)
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps must be larger than warmup_steps = {warmup_steps}; got {total_steps}")
    if not (isinstance(final_fraction, (int, float)) and 0.0 <= final_fraction <= 1.0):
        raise ValueError(f"final_fraction must be a number in [0, 1]; got {final_fraction!r}")
    return optax.warmup_cosine_decay_schedule(
        0.0, peak_lr, warmup_steps, total_steps, end_value=final_fraction * peak_lr
    )


def adam(learning_rate) -> optax.GradientTransformation:
    """Adam (Kingma and Ba) with PyTorch's defaults (b1 0.9, b2 0.999, eps 1e-8, no weight decay).

    ``learning_rate`` is a positive number or a schedule such as :func:`warmup_cosine`.
    Chapter 6 writes the training step around it out by hand and checks it against :func:`make_train_step`.
    """
    if not callable(learning_rate):
        learning_rate = _positive_number("learning_rate", learning_rate)
    return optax.adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8)


def _positive_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive, finite number; got {value!r}")
    return value


def init_train_state(params, optimizer: optax.GradientTransformation) -> TrainState:
    """A fresh :class:`TrainState` at step 0 (the EMA holds the initial parameters until the
    first step replaces them; see :func:`make_train_step`)."""
    return TrainState(params, optimizer.init(params), params, jnp.zeros((), jnp.int32))


def make_train_step(
    graphdef: nnx.GraphDef,
    schedule: Schedule,
    optimizer: optax.GradientTransformation,
    *,
    ema_decay: float = 0.999,
    loss: Callable | None = None,
) -> Callable[[jax.Array, TrainState, jax.Array], tuple[TrainState, StepMetrics]]:
    r"""Build the pure training step ``step(key, state, batch) -> (state, metrics)``.

    One step: :math:`g = \nabla_\theta L_\text{simple}` on ``batch: (n, d)``, an optax update
    to :math:`\theta_n` (the parameters after ``n`` updates), then the moving average

    .. math::
        \theta_\text{EMA} \leftarrow \theta_\text{EMA} + w_n\,(\theta_n - \theta_\text{EMA}),
        \qquad w_n = \frac{1-\gamma}{1-\gamma^n},

    with :math:`\gamma` = ``ema_decay``. This keeps :math:`\theta_\text{EMA}` equal to the
    weighted mean :math:`\sum_k \gamma^{n-k}\theta_k / \sum_k \gamma^{n-k}` of every
    parameter set so far (``w_1 = 1``, so the initial weights drop out at once). Once
    :math:`n \gg 1/(1-\gamma)`, :math:`w_n \approx 1-\gamma` and this is the usual
    :math:`\gamma\,\theta_\text{EMA} + (1-\gamma)\,\theta`; before that, the usual form
    still holds a share :math:`\gamma^n` of the random initial weights (8% after 2,500
    steps with :math:`\gamma = 0.999`), which spoils samples drawn early in training. The
    correction is the one Adam applies to its moment estimates.

    ``metrics`` is a :class:`StepMetrics`: ``loss`` (before the update) and ``grad_norm``. The
    key comes first, as everywhere in the package. The function is not
    jitted itself: jit it once at the top (``fit`` does).

    ``loss`` (default ``None``: the simple eps loss on ``schedule``) swaps the objective:
    a function ``loss(key, graphdef, params, batch) -> scalar`` such as
    :func:`~diffviz.flow_matching_objective` (``schedule`` is then unused; pass ``None``), or
    :func:`~diffviz.conditional_eps_objective` for a class-conditional network, whose
    ``batch`` is the pair ``(x0, labels)`` (see :func:`fit`).
    The update, the EMA and :func:`fit` stay the same.
    """
    if not (isinstance(ema_decay, (int, float)) and 0.0 <= ema_decay < 1.0):
        raise ValueError(f"ema_decay must be a number in [0, 1); got {ema_decay!r}")
    if loss is not None and not callable(loss):
        raise ValueError(f"loss must be None (the eps loss) or a function loss(key, graphdef, params, batch); got {loss!r}")

    def loss_fn(params, key, batch):
        if loss is not None:
            return loss(key, graphdef, params, batch)
        if isinstance(batch, (tuple, list)):
            raise ValueError(
                "batch is a labelled pair (x0, labels); the default eps loss takes x0 alone: "
                "pass loss=conditional_eps_objective(schedule, num_classes=K) for a conditional network"
            )
        eps_fn = functools.partial(apply_denoiser, graphdef, params)
        return batch_eps_loss(key, eps_fn, schedule, batch)

    def step(key: jax.Array, state: TrainState, batch: jax.Array) -> tuple[TrainState, StepMetrics]:
        loss, grads = jax.value_and_grad(loss_fn)(state.params, key, batch)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        n = state.step + 1  # updates done, this one included
        gamma = jnp.float32(ema_decay)  # the same float32 number above and below: w_1 is exactly 1
        w = (1.0 - gamma) / (1.0 - gamma ** n.astype(jnp.float32))
        ema = jax.tree.map(lambda e, p: e + w * (p - e), state.ema_params, params)
        return TrainState(params, opt_state, ema, n), StepMetrics(loss, optax.tree.norm(grads))

    step.num_classes = getattr(loss, "num_classes", None)  # labels must lie in 0..num_classes-1 (checked by fit)
    return step


DataSource = Callable[[jax.Array, int], jax.Array]


def _draw_batch(key, data, batch_size: int):
    """A batch ``(batch_size, d)``: fresh samples from a sampler, or rows of a data array;
    for labelled data (a pair of arrays) the same rows of both, ``(x0, labels)``."""
    if callable(data):
        return data(key, batch_size)
    rows = data[0] if isinstance(data, tuple) else data
    idx = jax.random.randint(key, (batch_size,), 0, rows.shape[0])
    return jax.tree.map(lambda a: a[idx], data)


def _data_mesh(batch_size: int) -> Mesh | None:
    """A 1-D mesh over all local devices when there are several and they divide the batch."""
    devices = jax.local_devices()
    if len(devices) < 2 or batch_size % len(devices):
        return None
    return Mesh(np.asarray(devices), ("data",))


@functools.lru_cache(maxsize=32)
def _compiled_chunk(step, sampler, batch_size: int, num_steps: int, mesh: Mesh | None):
    """``chunk(state, key, data_array) -> (state, losses (num_steps,))``, jitted, cached."""
    batch_sharding = None if mesh is None else NamedSharding(mesh, PartitionSpec("data"))

    def chunk(state, key, data_array):
        def one(state, key):
            k_batch, k_step = jax.random.split(key)
            batch = _draw_batch(k_batch, sampler if sampler is not None else data_array, batch_size)
            if batch_sharding is not None:
                batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
            state, metrics = step(k_step, state, batch)
            return state, metrics.loss

        return jax.lax.scan(one, state, jax.random.split(key, num_steps))

    return jax.jit(chunk)


def fit(
    key,
    step,
    state: TrainState,
    data,
    *,
    batch_size: int,
    num_steps: int,
    steps_per_call: int = 250,
    progress: bool = True,
    description: str = "training",
) -> tuple[TrainState, np.ndarray]:
    """Run ``num_steps`` training steps; returns ``(state, losses)`` with ``losses: (num_steps,)``.

    Args:
        key: PRNG key for the whole run (split per chunk and per step inside).
        step: a step function from :func:`make_train_step` (reuse the same object across
            calls: compiled chunks are cached per step function).
        state: where to start; pass a returned state to resume.
        data: either a sampler ``data(key, n) -> (n, d)`` (fresh toy data every step; must
            be traceable, like :func:`diffviz.sample_moons`) or a data array ``(N, d)`` from
            which each batch draws ``batch_size`` rows at random. Labelled data (for
            :func:`~diffviz.conditional_eps_objective`): a pair of arrays ``(x (N, d),
            labels (N,))`` (ints >= 0; below ``K`` when the step's loss is
            ``conditional_eps_objective(..., num_classes=K)``), whose batches are the pairs ``(x0, labels)`` of the
            same rows, or a sampler returning such a pair.
        batch_size: examples per step (a multiple of the device count to shard).
        num_steps: total steps.
        steps_per_call: steps fused in one compiled ``lax.scan`` call; the progress bar and
            the loss readout update once per call. A last, shorter call covers the rest
            (one extra compilation).
        progress: show a tqdm bar (works in notebooks and terminals).
        description: the bar's label.
    """
    key = v.prng_key("key", key)
    batch_size = v.positive_int("batch_size", batch_size)
    num_steps = v.positive_int("num_steps", num_steps, minimum=0)
    steps_per_call = v.positive_int("steps_per_call", steps_per_call)
    if callable(data):
        sampler, data_array = data, jnp.zeros((0,), jnp.float32)
    elif isinstance(data, (tuple, list)):
        data_array, sampler = _labelled_data(data, getattr(step, "num_classes", None)), None
    else:
        data_array = v.data_array("data", data)
        if data_array.ndim != 2 or data_array.shape[0] < 1:
            raise ValueError(f"data must be a sampler or an array of shape (N, d) with N >= 1; got {data_array.shape}")
        sampler = None
    mesh = _data_mesh(batch_size)
    if mesh is not None:
        state = jax.device_put(state, NamedSharding(mesh, PartitionSpec()))
        data_array = jax.device_put(data_array, NamedSharding(mesh, PartitionSpec()))

    bar = _progress_bar(num_steps, description) if progress else None
    losses = []
    done = 0
    for i in range(math.ceil(num_steps / steps_per_call)):
        n = min(steps_per_call, num_steps - done)
        chunk = _compiled_chunk(step, sampler, batch_size, n, mesh)
        state, chunk_losses = chunk(state, jax.random.fold_in(key, i), data_array)
        chunk_losses = np.asarray(chunk_losses)  # blocks: one sync per chunk, never per step
        losses.append(chunk_losses)
        done += n
        if bar is not None:
            bar.update(n)
            bar.set_postfix(loss=f"{chunk_losses.mean():.4f}")
    if bar is not None:
        bar.close()
    return state, (np.concatenate(losses) if losses else np.zeros((0,), np.float32))


def _labelled_data(data, num_classes: int | None) -> tuple[jax.Array, jax.Array]:
    """``(x (N, d) float32, labels (N,) int32)``, checked: N >= 1, finite x, labels ints >= 0
    (and < ``num_classes`` when the step's loss says how many classes there are)."""
    if len(data) != 2:
        raise ValueError(f"data as a tuple must be the pair (x, labels); got {len(data)} entries")
    x = v.data_array("data[0] (x)", data[0])
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"data[0] (x) must be an array of shape (N, d) with N >= 1; got {x.shape}")
    labels = jnp.asarray(data[1])
    if not jnp.issubdtype(labels.dtype, jnp.integer) or labels.shape != x.shape[:1]:
        raise ValueError(
            f"data[1] (labels) must be integer class labels of shape ({x.shape[0]},), one per row of x; "
            f"got dtype {labels.dtype}, shape {labels.shape}"
        )
    if int(jnp.min(labels)) < 0:
        raise ValueError(f"data[1] (labels) must be integers >= 0; got the smallest {int(jnp.min(labels))}")
    if num_classes is not None and int(jnp.max(labels)) >= num_classes:
        raise ValueError(
            f"data[1] (labels) must be class labels in 0..{num_classes - 1} (the loss's num_classes = {num_classes}); "
            f"got the largest {int(jnp.max(labels))}"
        )
    return x, labels.astype(jnp.int32)


def _progress_bar(total: int, description: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step", leave=True)
