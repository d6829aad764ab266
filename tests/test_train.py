"""Training: the loss goes down, the learned noise predictor approaches the exact eps*,
the compiled step is reused, runs are reproducible, and a 2-device sharded run equals the
one-device run."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

import diffviz as dv

S = dv.linear_schedule(1000)
MIX = dv.mixture_1d("bimodal")
CFG = dv.DenoiserConfig(dim=1, width=64, depth=3, time_dim=32)


def mixture_data(key, n):
    return dv.sample_mixture(key, MIX, n)


def eps_error(graphdef, params, t):
    """RMS distance between the network's eps and the exact eps* on a grid covering the data."""
    x = jnp.linspace(-2.5, 2.5, 201)[:, None]
    diff = dv.apply_denoiser(graphdef, params, x, t) - dv.optimal_eps(S, MIX, x, t)
    return float(jnp.sqrt(jnp.mean(diff**2)))


@pytest.fixture(scope="module")
def trained():
    gd, params = dv.init_denoiser(jax.random.key(0), CFG)
    opt = optax.adam(1e-3)
    step = dv.make_train_step(gd, S, opt, ema_decay=0.995)
    state0 = dv.init_train_state(params, opt)
    state, losses = dv.fit(jax.random.key(1), step, state0, mixture_data, batch_size=256, num_steps=4000, steps_per_call=500, progress=False)
    return gd, state0, state, losses, step


def test_loss_goes_down(trained):
    _, _, _, losses, _ = trained
    assert losses.shape == (4000,)
    assert losses[-500:].mean() < 0.75 * losses[:100].mean()


@pytest.mark.parametrize("t", [50, 200, 500, 900])
def test_learned_eps_approaches_the_exact_optimum(trained, t):
    gd, state0, state, _, _ = trained
    before = eps_error(gd, state0.params, t)
    after = eps_error(gd, state.ema_params, t)
    assert after < 0.35 * before, (t, before, after)
    assert after < 0.2


def test_the_step_compiles_once_across_calls(trained):
    gd, _, state, _, _ = trained
    traces = []
    opt = optax.adam(1e-3)
    inner = dv.make_train_step(gd, S, opt)

    def counted(key, state, batch):
        traces.append(1)  # runs only while JAX traces the function
        return inner(key, state, batch)

    st = dv.init_train_state(state.params, opt)
    st, _ = dv.fit(jax.random.key(3), counted, st, mixture_data, batch_size=32, num_steps=40, steps_per_call=20, progress=False)
    n_traces = len(traces)
    st, _ = dv.fit(jax.random.key(4), counted, st, mixture_data, batch_size=32, num_steps=60, steps_per_call=20, progress=False)
    assert n_traces >= 1 and len(traces) == n_traces
    assert int(st.step) == 100  # resumed: the step counter carries on


_GD, _PARAMS = dv.init_denoiser(jax.random.key(0), CFG)
_OPT = optax.adam(1e-3)
_STEP = dv.make_train_step(_GD, S, _OPT)  # one step function: its compiled chunks are reused


def _short_run(key_seed, data):
    state0 = dv.init_train_state(_PARAMS, _OPT)
    return dv.fit(jax.random.key(key_seed), _STEP, state0, data, batch_size=64, num_steps=30, steps_per_call=15, progress=False)


def test_same_key_reproduces_a_run_and_another_key_does_not():
    a_state, a_loss = _short_run(7, mixture_data)
    b_state, b_loss = _short_run(7, mixture_data)
    _, c_loss = _short_run(8, mixture_data)
    np.testing.assert_array_equal(a_loss, b_loss)
    for x, y in zip(jax.tree.leaves(a_state.params), jax.tree.leaves(b_state.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not np.array_equal(a_loss, c_loss)


def test_training_from_a_fixed_data_array():
    data = dv.sample_mixture(jax.random.key(9), MIX, 500)
    state, losses = _short_run(7, data)
    assert losses.shape == (30,) and np.all(np.isfinite(losses)) and int(state.step) == 30


def test_ema_is_the_decay_weighted_mean_of_the_parameters_so_far():
    """EMA after n steps = sum_k decay^(n-k) theta_k / sum_k decay^(n-k), k = 1..n (float64 NumPy)."""
    opt = optax.sgd(0.1)
    batch = dv.sample_mixture(jax.random.key(1), MIX, 16)
    decay = 0.9
    step = jax.jit(dv.make_train_step(_GD, S, opt, ema_decay=decay))
    state = dv.init_train_state(_PARAMS, opt)
    history = []  # theta_1, theta_2, ...: the flattened parameters after each update
    for n in range(1, 7):
        state, metrics = step(jax.random.key(n), state, batch)
        history.append([np.asarray(leaf, np.float64) for leaf in jax.tree.leaves(state.params)])
        weights = decay ** np.arange(n - 1, -1, -1, dtype=np.float64)  # decay^(n-k), k = 1..n
        for i, ema_leaf in enumerate(jax.tree.leaves(state.ema_params)):
            want = sum(w * h[i] for w, h in zip(weights, history)) / weights.sum()
            np.testing.assert_allclose(np.asarray(ema_leaf), want, rtol=1e-5, atol=1e-6)
        assert int(state.step) == n
    # the initial weights have dropped out (the plain decay * ema + (1 - decay) * theta keeps 0.9^6 = 53% of them)
    first_init, first_now = (np.asarray(jax.tree.leaves(x)[0]) for x in (_PARAMS, state.params))
    assert not np.allclose(first_init, first_now)
    assert isinstance(metrics, dv.StepMetrics)
    assert float(metrics.loss) > 0 and float(metrics.grad_norm) > 0


SHARDED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax, optax, numpy as np
    import diffviz as dv
    assert jax.local_device_count() == 2, jax.local_device_count()
    S = dv.linear_schedule(1000)
    MIX = dv.mixture_1d("bimodal")
    gd, params = dv.init_denoiser(jax.random.key(0), dv.DenoiserConfig(dim=1, width=64, depth=3, time_dim=32))
    opt = optax.adam(1e-3)
    step = dv.make_train_step(gd, S, opt)
    data = lambda k, n: dv.sample_mixture(k, MIX, n)
    state, losses = dv.fit(jax.random.key(11), step, dv.init_train_state(params, opt), data,
                           batch_size=64, num_steps=40, steps_per_call=10, progress=False)
    leaf = np.asarray(jax.tree.leaves(state.params)[0]).ravel()[:20]
    json.dump({"losses": losses.tolist(), "leaf": leaf.tolist(),
               "sharding": str(jax.tree.leaves(state.params)[0].sharding)}, sys.stdout)
    """
)


def test_sharded_run_over_two_devices_equals_the_one_device_run():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", SHARDED_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    two = json.loads(out.stdout)
    assert "NamedSharding" in two["sharding"] or "Replicated" in two["sharding"] or "devices" in two["sharding"]

    state, losses = dv.fit(jax.random.key(11), _STEP, dv.init_train_state(_PARAMS, _OPT), mixture_data, batch_size=64, num_steps=40, steps_per_call=10, progress=False)
    np.testing.assert_allclose(np.asarray(two["losses"]), losses, rtol=1e-5, atol=1e-6)
    leaf = np.asarray(jax.tree.leaves(state.params)[0]).ravel()[:20]
    np.testing.assert_allclose(np.asarray(two["leaf"]), leaf, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(batch_size=0), "batch_size must be an integer >= 1"),
        (dict(num_steps=-1), "num_steps must be an integer >= 0"),
        (dict(steps_per_call=0), "steps_per_call must be an integer >= 1"),
        (dict(data=jnp.full((10, 1), jnp.nan)), "data must be finite"),
        (dict(data=jnp.zeros((10,))), r"data must be a sampler or an array of shape \(N, d\)"),
        (dict(key=None), "key must be a JAX PRNG key"),
    ],
)
def test_bad_fit_arguments(kwargs, message):
    args = dict(key=jax.random.key(0), data=mixture_data, batch_size=8, num_steps=2, steps_per_call=1)
    args.update(kwargs)
    key, data = args.pop("key"), args.pop("data")
    with pytest.raises(ValueError, match=message):
        dv.fit(key, _STEP, dv.init_train_state(_PARAMS, _OPT), data, progress=False, **args)


def test_bad_ema_decay():
    gd = _GD
    with pytest.raises(ValueError, match=r"ema_decay must be a number in \[0, 1\)"):
        dv.make_train_step(gd, S, optax.adam(1e-3), ema_decay=1.0)


def test_batches_from_a_data_array_draw_every_row_equally_often():
    """fit's batches from an (N, d) array: rows uniform on 0..N-1, the last one included.

    Seen through fit itself: the step function keeps, in its state, a count of the rows it
    was given (the data are the row numbers)."""

    def count_rows(key, state, batch):
        counts = state.params + jnp.bincount(batch[:, 0].astype(jnp.int32), length=3)
        return state._replace(params=counts, step=state.step + 1), dv.StepMetrics(jnp.float32(0), jnp.float32(0))

    state0 = dv.TrainState(jnp.zeros(3, jnp.int32), (), (), jnp.zeros((), jnp.int32))
    state, _ = dv.fit(jax.random.key(4), count_rows, state0, jnp.arange(3.0)[:, None], batch_size=1000, num_steps=30, steps_per_call=10, progress=False)
    counts = np.asarray(state.params)
    assert counts.sum() == 30_000 and int(state.step) == 30
    assert stats.chisquare(counts).pvalue > 1e-3, counts


def test_fit_runs_an_uneven_last_chunk_and_draws_new_batches_in_every_chunk():
    """25 steps in calls of 10: a last call of 5. With a learning rate of 0 the weights never
    move, so two chunks with equal losses would have drawn the same batches and noise."""
    opt = optax.sgd(0.0)
    step = dv.make_train_step(_GD, S, opt)
    data = dv.sample_mixture(jax.random.key(8), MIX, 500)
    state, losses = dv.fit(jax.random.key(9), step, dv.init_train_state(_PARAMS, opt), data, batch_size=32, num_steps=25, steps_per_call=10, progress=False)
    assert losses.shape == (25,) and int(state.step) == 25
    assert not np.allclose(losses[:10], losses[10:20])


def test_sampling_a_trained_2d_model_beats_an_untrained_one():
    """Same architecture, same sampler and keys; only the training differs.

    The quality bound is loose on purpose: after 3,000 steps, SW1 was 4.4x, 2.1x and 2.0x the
    noise floor for init keys 0, 1 and 2 (and 5.8x, 4.4x, 4.3x after 1,500 steps)."""
    config = dv.DenoiserConfig(dim=2, width=64, depth=3, time_dim=32, input_dim=16)
    gd, params = dv.init_denoiser(jax.random.key(2), config)
    opt = optax.adam(2e-3)
    step = dv.make_train_step(gd, S, opt, ema_decay=0.99)
    state, _ = dv.fit(jax.random.key(1), step, dv.init_train_state(params, opt), dv.sample_eight_gaussians, batch_size=256, num_steps=3000, steps_per_call=500, progress=False)
    data = dv.sample_eight_gaussians(jax.random.key(2), 2000)
    metric_key = jax.random.key(3)

    def distance(p):
        samples = dv.ddpm_sample(jax.random.key(4), dv.model_eps_fn(gd, p), S, (2000, 2))
        return float(dv.sliced_wasserstein(metric_key, samples, data))

    untrained, trained_ = distance(params), distance(state.ema_params)
    floor = dv.noise_floor(jax.random.key(5), lambda x, y: dv.sliced_wasserstein(metric_key, x, y), dv.sample_eight_gaussians, 2000)
    assert trained_ < 0.3 * untrained, (trained_, untrained)
    assert trained_ < 5 * floor, (trained_, floor)


def test_adam_matches_a_numpy_adam():
    """dv.adam against Adam written out in float64 NumPy (Kingma and Ba, bias-corrected)."""
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 2)).astype(np.float32) for _ in range(5)]
    opt = dv.adam(lr)
    p = jnp.ones((3, 2), jnp.float32)
    state = opt.init(p)
    m = v = np.zeros((3, 2))
    want = np.ones((3, 2))
    for k, g in enumerate(grads, start=1):
        updates, state = opt.update(jnp.asarray(g), state, p)
        p = optax.apply_updates(p, updates)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g.astype(np.float64) ** 2
        want = want - lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
    np.testing.assert_allclose(np.asarray(p), want, rtol=1e-5)


def test_warmup_cosine_hits_its_landmarks():
    lr = dv.warmup_cosine(2e-3, 200, 1200, final_fraction=0.05)
    got = [float(lr(c)) for c in (0, 100, 200, 700, 1200, 5000)]
    mid = 0.05 * 2e-3 + 0.95 * 2e-3 * 0.5 * (1 + np.cos(np.pi * 0.5))  # half-way down the cosine
    np.testing.assert_allclose(got, [0.0, 1e-3, 2e-3, mid, 1e-4, 1e-4], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dv.adam(0.0), "learning_rate must be a positive"),
        (lambda: dv.adam("fast"), "learning_rate must be a positive number"),
        (lambda: dv.warmup_cosine(1e-3, 200, 100), "total_steps must be larger than warmup_steps"),
        (lambda: dv.warmup_cosine(-1e-3, 0, 100), "peak_lr must be a positive"),
        (lambda: dv.warmup_cosine(1e-3, 0, 100, final_fraction=2.0), r"final_fraction must be a number in \[0, 1\]"),
    ],
)
def test_optimizer_helpers_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
