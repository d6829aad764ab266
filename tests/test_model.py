"""The denoiser network: shapes, parameter count, embeddings, purity and config checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import diffviz as dv
from diffviz import _fast_ops


def test_sinusoidal_embedding_matches_numpy():
    u = np.array([0.0, 1.0, 17.0, 999.0], np.float32)
    got = np.asarray(dv.sinusoidal_embedding(jnp.asarray(u), 8, 2.0))
    freqs = 2.0 * 10000.0 ** (-np.arange(4) / 3)
    want = np.concatenate([np.sin(u[:, None] * freqs), np.cos(u[:, None] * freqs)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@settings(max_examples=12)  # each new (d, size) compiles the eager ops again: ~1 s an example
@given(st.integers(1, 5), st.sampled_from([4, 8, 16]), st.floats(0.5, 30.0))
def test_coordinate_embedding_matches_numpy(d, size, scale):
    x = np.random.default_rng(d * size).normal(0.0, 2.0, (3, 7, d)).astype(np.float32)
    got = np.asarray(dv.coordinate_embedding(jnp.asarray(x), size, scale))
    freqs = scale * 10000.0 ** (-np.arange(size // 2) / (size // 2 - 1))
    angles = (x.astype(np.float64)[..., :, None] * freqs).reshape(3, 7, d * (size // 2))  # j outer, i inner
    want = np.concatenate([np.sin(angles), np.cos(angles)], axis=-1)
    assert got.shape == (3, 7, d * size) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * scale)  # float32 angles up to ~1e3


def test_embeddings_reject_bad_sizes_and_a_scalar_x():
    for size in (2, 5, 6.0, True):
        with pytest.raises(ValueError, match="size must be an even integer >= 4"):
            dv.sinusoidal_embedding(jnp.ones(3), size)
        with pytest.raises(ValueError, match="size must be an even integer >= 4"):
            dv.coordinate_embedding(jnp.ones((3, 2)), size)
    with pytest.raises(ValueError, match="x must have shape"):
        dv.coordinate_embedding(jnp.float32(1.0), 8)


def randomised(params, key):
    """Every parameter leaf, biases included, replaced by N(0, 0.25) draws. nnx.Linear starts
    its biases at 0, so a test on freshly initialised weights cannot see a dropped bias."""
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(tree, [0.5 * jax.random.normal(k, leaf.shape, leaf.dtype) for k, leaf in zip(keys, leaves)])


NUMPY_ACTIVATIONS = {  # float64 references, written from the definitions
    "gelu": lambda h: 0.5 * h * (1 + special.erf(h / np.sqrt(2))),
    "gelu_tanh": lambda h: 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h**3))),
    "relu": lambda h: np.maximum(h, 0.0),
}


@pytest.mark.parametrize("activation", list(NUMPY_ACTIVATIONS))
def test_the_network_is_the_documented_function(activation):
    """Features from coordinate_embedding and sinusoidal_embedding, Linear, act, residual blocks, Linear."""
    config = dv.DenoiserConfig(dim=2, width=8, depth=2, time_dim=4, input_dim=8, input_scale=3.0, activation=activation)
    gd, params = dv.init_denoiser(jax.random.key(4), config)
    params = randomised(params, jax.random.key(6))
    x = jax.random.normal(jax.random.key(5), (6, 2)) * 2
    t = jnp.arange(6) * 100
    act = NUMPY_ACTIVATIONS[activation]
    w = jax.tree.map(lambda a: np.asarray(a, np.float64), nnx.to_pure_dict(params))
    feats = np.concatenate([np.asarray(dv.coordinate_embedding(x, 8, 3.0)), np.asarray(dv.sinusoidal_embedding(t, 4))], -1)
    h = act(feats @ w["inp"]["kernel"] + w["inp"]["bias"])
    for k in range(config.depth):
        h = h + act(h @ w["blocks"][k]["linear"]["kernel"] + w["blocks"][k]["linear"]["bias"])
    want = h @ w["out"]["kernel"] + w["out"]["bias"]
    np.testing.assert_allclose(np.asarray(dv.apply_denoiser(gd, params, x, t)), want, rtol=1e-4, atol=1e-5)


def test_exact_gelu_and_its_derivative_match_float64_scipy():
    """The erf form of the exact GELU (cheaper than jax.nn.gelu's erfc form on CPU) on a wide grid."""
    h = np.linspace(-12.0, 12.0, 4801, dtype=np.float32)
    exact = h.astype(np.float64)
    phi = special.ndtr(exact)
    got = np.asarray(_fast_ops.gelu_exact(jnp.asarray(h)))
    scale = np.maximum(1.0, np.abs(exact))  # errors of a few float32 ulps (jax.nn.gelu: 1.1e-7 here)
    assert np.max(np.abs(got - exact * phi) / scale) < 3e-7  # measured 1.4e-7
    grad = np.asarray(jax.vmap(jax.grad(_fast_ops.gelu_exact))(jnp.asarray(h)))
    want = phi + exact * np.exp(-0.5 * exact**2) / np.sqrt(2 * np.pi)  # d/dh h Phi(h) = Phi + h phi
    assert np.max(np.abs(grad - want) / scale) < 3e-7  # measured 1.0e-7
    assert got.dtype == np.float32 and np.all(np.isfinite(got)) and np.all(np.isfinite(grad))


@settings(max_examples=40)
@given(st.floats(-8192.0, 8192.0, width=32), st.floats(0.0, 1.0))
def test_fast_sincos_matches_float64_numpy(centre, spread):
    """The embeddings' own sin/cos (faster than jnp.sin on CPU) against float64 NumPy."""
    a = np.float32(centre) + np.linspace(-spread, spread, 257, dtype=np.float32) * np.float32(1 + abs(centre) / 64)
    a = np.clip(a, -8192, 8192).astype(np.float32)
    sin_a, cos_a = _fast_ops.sincos(jnp.asarray(a))
    exact = a.astype(np.float64)  # the float32 angle, evaluated exactly
    np.testing.assert_allclose(np.asarray(sin_a), np.sin(exact), rtol=0, atol=2.5e-7)
    np.testing.assert_allclose(np.asarray(cos_a), np.cos(exact), rtol=0, atol=2.5e-7)


def test_fast_sincos_every_quadrant_and_the_special_points():
    k = np.arange(-40, 41)
    a = np.concatenate([k * np.pi / 2, k * np.pi / 2 + np.pi / 4, k * np.pi / 2 - 1e-3]).astype(np.float32)
    sin_a, cos_a = _fast_ops.sincos(jnp.asarray(a))
    np.testing.assert_allclose(np.asarray(sin_a), np.sin(a.astype(np.float64)), atol=2e-7)
    np.testing.assert_allclose(np.asarray(cos_a), np.cos(a.astype(np.float64)), atol=2e-7)
    assert np.all(np.asarray(sin_a) ** 2 + np.asarray(cos_a) ** 2 <= 1 + 1e-6)


@pytest.mark.parametrize(
    "config",
    [dv.DenoiserConfig(dim=1), dv.DenoiserConfig(dim=2, width=32, depth=2, time_dim=16, input_dim=8)],
    ids=["plain", "input-embedding"],
)
def test_parameter_count_matches_the_architecture(config):
    _, params = dv.init_denoiser(jax.random.key(0), config)
    c = config
    n_in = (c.dim * c.input_dim if c.input_dim else c.dim) + c.time_dim
    expected = (n_in + 1) * c.width + c.depth * (c.width + 1) * c.width + (c.width + 1) * c.dim
    assert dv.count_params(params) == expected


def test_shapes_and_scalar_or_vector_t():
    gd, params = dv.init_denoiser(jax.random.key(1), dv.DenoiserConfig(dim=2, input_dim=8))
    params = randomised(params, jax.random.key(3))  # non-zero biases: the scalar-t path adds the first one itself
    x = jax.random.normal(jax.random.key(2), (5, 2))
    out_scalar = dv.apply_denoiser(gd, params, x, 7)
    out_vector = dv.apply_denoiser(gd, params, x, jnp.full((5,), 7))
    assert out_scalar.shape == (5, 2) and out_scalar.dtype == jnp.float32
    # two code paths (scalar t: split first layer; vector t: one matmul): equal up to float32 rounding
    np.testing.assert_allclose(np.asarray(out_scalar), np.asarray(out_vector), rtol=1e-5, atol=1e-6)
    one = dv.apply_denoiser(gd, params, x[0], 7)  # a single example (d,)
    np.testing.assert_allclose(np.asarray(one), np.asarray(out_scalar[0]), rtol=1e-5, atol=1e-6)
    # The time step changes the output (the embedding reaches the network).
    assert not np.allclose(np.asarray(out_scalar), np.asarray(dv.apply_denoiser(gd, params, x, 500)))


def test_apply_is_pure_and_jits():
    gd, params = dv.init_denoiser(jax.random.key(3), dv.DenoiserConfig(dim=2))
    x = jnp.ones((4, 2))
    f = jax.jit(lambda p, x, t: dv.apply_denoiser(gd, p, x, t))
    np.testing.assert_allclose(np.asarray(f(params, x, 3)), np.asarray(dv.apply_denoiser(gd, params, x, 3)), rtol=1e-5, atol=1e-6)
    grads = jax.grad(lambda p: jnp.sum(dv.apply_denoiser(gd, p, x, 3) ** 2))(params)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree.leaves(grads))


def test_same_key_same_init_different_key_different_init():
    cfg = dv.DenoiserConfig(dim=2)
    a = jax.tree.leaves(dv.init_denoiser(jax.random.key(0), cfg)[1])
    b = jax.tree.leaves(dv.init_denoiser(jax.random.key(0), cfg)[1])
    c = jax.tree.leaves(dv.init_denoiser(jax.random.key(1), cfg)[1])
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    assert not all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, c))


@pytest.mark.parametrize(
    "config,message",
    [
        (dv.DenoiserConfig(dim=0), "config.dim must be an integer >= 1"),
        (dv.DenoiserConfig(dim=2, width=-3), "config.width"),
        (dv.DenoiserConfig(dim=2, time_dim=7), "config.time_dim must be an even integer >= 4"),
        (dv.DenoiserConfig(dim=2, time_dim=0), "config.time_dim must be an even integer >= 4; got 0"),
        (dv.DenoiserConfig(dim=2, input_dim=2), "config.input_dim must be an even integer >= 4 or 0"),
        ({"dim": 2}, "config must be a DenoiserConfig"),
        (dv.DenoiserConfig(dim=2, activation="swish"), "config.activation must be one of 'gelu', 'gelu_tanh', 'relu'"),
    ],
)
def test_bad_config_is_refused(config, message):
    with pytest.raises(ValueError, match=message):
        dv.init_denoiser(jax.random.key(0), config)


def test_missing_key_is_refused():
    with pytest.raises(ValueError, match="key must be a JAX PRNG key"):
        dv.init_denoiser(None, dv.DenoiserConfig(dim=2))
