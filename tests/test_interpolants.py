"""Interpolants against independent computations: autodiff of the coefficients and of the exact
log-density, Monte Carlo draws of (x0, eps) for the conditional expectations, the discrete
chain's alpha_bars, SciPy's densities, and the known link between v-prediction and velocity.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp

import diffviz as dv

LINEAR = dv.linear_schedule(1000)
NAMES = ("vp", "linear", "cosine")
MIX_1D = dv.gaussian_mixture([0.3, 0.7], [-1.0, 0.8], [0.3, 0.5])
MIX_2D = dv.gaussian_mixture([0.4, 0.6], [[-1.0, 0.5], [1.0, -0.5]], [[0.3, 0.6], [0.5, 0.2]])
times = st.floats(0.02, 0.98)


def _coefs(name, t):
    return dv.interpolant_coefficients(name, jnp.float32(t), LINEAR)


@given(t=times)
def test_coefficient_derivatives_are_the_autodiff_derivatives(t):
    for name in NAMES:
        for value, slope in (("a", "da"), ("s", "ds")):
            auto = jax.grad(lambda u, n=name, f=value: getattr(dv.interpolant_coefficients(n, u, LINEAR), f))(jnp.float32(t))
            np.testing.assert_allclose(getattr(_coefs(name, t), slope), auto, rtol=2e-4, atol=1e-5, err_msg=f"{name} {slope}")


def test_coefficients_at_known_points():
    T = LINEAR.T
    k = np.arange(0, T + 1, 50)
    vp = dv.interpolant_coefficients("vp", jnp.asarray(k / T, jnp.float32), LINEAR)
    np.testing.assert_allclose(vp.a**2, LINEAR.alpha_bars[k], rtol=2e-6)
    np.testing.assert_allclose(vp.s**2, LINEAR.one_minus_alpha_bars[k], rtol=2e-5)
    lin = dv.interpolant_coefficients("linear", jnp.asarray([0.0, 0.25, 1.0]))
    np.testing.assert_allclose(np.stack(lin), [[1, 0.75, 0], [0, 0.25, 1], [-1, -1, -1], [1, 1, 1]])
    cos = dv.interpolant_coefficients("cosine", jnp.asarray([0.0, 1.0 / 3, 1.0]))
    half = np.sqrt(3) / 2
    np.testing.assert_allclose(np.stack(cos), [[1, half, 0], [0, 0.5, 1], [0, -np.pi / 4, -np.pi / 2], [np.pi / 2, np.pi / 2 * half, 0]], atol=1e-6)


def _scipy_log_density(mix, x, a, s):
    w, m, sd = (np.asarray(p, np.float64) for p in mix)
    comp = stats.norm.logpdf(np.asarray(x, np.float64)[:, None, :], a * m[None], np.sqrt(a**2 * sd**2 + s**2)[None]).sum(axis=2)
    return logsumexp(np.log(w)[None] + comp, axis=1)


@functools.partial(jax.jit, static_argnames="name")
def _grad_log_p(mix, x, t, name):
    return jax.vmap(jax.grad(lambda p: dv.interpolant_log_prob(mix, p[None], t, name, LINEAR)[0]))(x)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mix", [MIX_1D, MIX_2D], ids=["1d", "2d"])
def test_log_density_is_scipys_and_its_gradient_is_the_score(name, mix, key):
    x = 1.5 * jax.random.normal(key, (20, mix.dim))
    for t in (0.0, 0.137, 0.62, 0.93):
        c = _coefs(name, t)
        log_p = dv.interpolant_log_prob(mix, x, t, name, LINEAR)
        np.testing.assert_allclose(log_p, _scipy_log_density(mix, x, float(c.a), float(c.s)), rtol=1e-5, atol=1e-5)
        auto = _grad_log_p(mix, x, jnp.float32(t), name)
        score = dv.interpolant_score(mix, x, t, name, LINEAR)
        np.testing.assert_allclose(score, auto, rtol=1e-4, atol=1e-4)
        if t > 0:  # eps* = -s score
            np.testing.assert_allclose(dv.interpolant_eps(mix, x, t, name, LINEAR), -c.s * auto, rtol=1e-4, atol=1e-4)


def test_vp_answers_are_the_discrete_chains_at_grid_times(key):
    x = 2 * jax.random.normal(key, (30, 1))
    for k in (1, 120, 999):
        t = jnp.float32(k / 1000)
        np.testing.assert_allclose(dv.interpolant_eps(MIX_1D, x, t, "vp", LINEAR), dv.optimal_eps(LINEAR, MIX_1D, x, k), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(dv.interpolant_denoiser(MIX_1D, x, t, "vp", LINEAR), dv.optimal_denoiser(LINEAR, MIX_1D, x, k), rtol=1e-4, atol=1e-5)


def _draws(key, mix, name, t, n):
    k1, k2 = jax.random.split(key)
    x0 = dv.sample_mixture(k1, mix, n)
    eps = jax.random.normal(k2, x0.shape)
    return x0, eps, dv.interpolate(name, x0, eps, t, LINEAR)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("t", [0.2, 0.55, 0.9])
def test_velocity_is_the_conditional_mean_by_binning_in_1d(key, name, t):
    """Within each bin of x_t, the mean of a'x0 + s'eps equals the mean of v*(x_t) (same draws)."""
    n = 200_000
    x0, eps, x_t = _draws(key, MIX_1D, name, t, n)
    c = _coefs(name, t)
    target = np.asarray(c.da * x0 + c.ds * eps, np.float64)[:, 0]
    pred = np.asarray(dv.mixture_velocity(MIX_1D, x_t, t, name, LINEAR), np.float64)[:, 0]
    bins = np.digitize(np.asarray(x_t[:, 0]), np.linspace(-2.5, 2.5, 21))
    for b in np.unique(bins):
        sel = bins == b
        if sel.sum() < 2000:
            continue
        resid = target[sel] - pred[sel]
        assert abs(resid.mean()) < 5 * resid.std() / np.sqrt(sel.sum()) + 1e-4, (b, resid.mean())


@pytest.mark.parametrize("name", NAMES)
def test_posterior_means_are_orthogonal_to_functions_of_x_t_in_2d(key, name):
    """E[(target - E[target | x_t]) g(x_t)] = 0 for every g: checked by Monte Carlo for
    target = x0, eps and a'x0 + s'eps, with g = 1, x_1, x_2, tanh(x_1 x_2), exp(-|x|^2)."""
    t, n = 0.4, 200_000
    x0, eps, x_t = _draws(key, MIX_2D, name, t, n)
    c = _coefs(name, t)
    xt = np.asarray(x_t, np.float64)
    g = np.stack([np.ones(n), xt[:, 0], xt[:, 1], np.tanh(xt[:, 0] * xt[:, 1]), np.exp(-np.sum(xt**2, axis=1))], axis=1)
    pairs = [
        (x0, dv.interpolant_denoiser(MIX_2D, x_t, t, name, LINEAR)),
        (eps, dv.interpolant_eps(MIX_2D, x_t, t, name, LINEAR)),
        (c.da * x0 + c.ds * eps, dv.mixture_velocity(MIX_2D, x_t, t, name, LINEAR)),
    ]
    for target, pred in pairs:
        resid = np.asarray(target, np.float64) - np.asarray(pred, np.float64)  # (n, 2)
        prod = resid[:, None, :] * g[:, :, None]  # (n, 5, 2)
        z = prod.mean(axis=0) / (prod.std(axis=0) / np.sqrt(n))
        assert np.all(np.abs(z) < 5), z


@given(t=st.floats(0.03, 0.97), name=st.sampled_from(NAMES), seed=st.integers(0, 2**16))
def test_every_conversion_agrees_with_the_definitions(t, name, seed):
    rng = np.random.default_rng(seed)
    x0, eps = (jnp.asarray(rng.normal(size=(5, 2)), jnp.float32) for _ in range(2))
    c = _coefs(name, t)
    x_t = dv.interpolate(name, x0, eps, t, LINEAR)
    truth = {"eps": eps, "x0": x0, "score": -eps / c.s, "v": c.a * eps - c.s * x0, "velocity": c.da * x0 + c.ds * eps}
    for source in truth:
        for target in truth:
            got = dv.convert_prediction(truth[source], x_t, t, source=source, target=target, interpolant=name, schedule=LINEAR)
            scale = 1 + float(jnp.max(jnp.abs(truth[target])))
            np.testing.assert_allclose(got, truth[target], atol=2e-4 * scale, err_msg=f"{name} {source} -> {target}")


def test_velocity_of_the_cosine_interpolant_is_pi_over_2_times_v(key):
    """Salimans & Ho: with a = cos(phi), s = sin(phi), v = dx_t/dphi; for cosine phi = pi t/2."""
    _, eps, x_t = _draws(key, MIX_2D, "cosine", 0.3, 50)
    v = dv.convert_prediction(eps, x_t, 0.3, source="eps", target="v", interpolant="cosine")
    velocity = dv.convert_prediction(eps, x_t, 0.3, source="eps", target="velocity", interpolant="cosine")
    np.testing.assert_allclose(velocity, np.pi / 2 * v, rtol=1e-5, atol=1e-6)


def test_optimal_predictors_convert_into_each_other(key):
    x = 1.5 * jax.random.normal(key, (40, 2))
    for name in NAMES:
        eps = dv.interpolant_eps(MIX_2D, x, 0.45, name, LINEAR)
        velocity = dv.convert_prediction(eps, x, 0.45, source="eps", target="velocity", interpolant=name, schedule=LINEAR)
        np.testing.assert_allclose(velocity, dv.mixture_velocity(MIX_2D, x, 0.45, name, LINEAR), rtol=1e-4, atol=1e-4)


def test_bad_input_is_refused():
    x = jnp.zeros((3, 1))
    with pytest.raises(ValueError, match="interpolant must be one of 'vp', 'linear', 'cosine'; got 'ddpm'"):
        dv.mixture_velocity(MIX_1D, x, 0.5, "ddpm")
    with pytest.raises(ValueError, match="interpolant must be one of"):
        dv.interpolant_coefficients(None, 0.5)
    with pytest.raises(ValueError, match="schedule must be a Schedule for interpolant=\"vp\""):
        dv.interpolant_score(MIX_1D, x, 0.5, "vp")
    with pytest.raises(ValueError, match=r"t must be a time in \[0, 1\]"):
        dv.interpolant_log_prob(MIX_1D, x, 1.2, "linear")
    with pytest.raises(ValueError, match="source must be one of 'eps', 'x0', 'score', 'v', 'velocity'"):
        dv.convert_prediction(x, x, 0.5, source="noise", target="x0", interpolant="linear")
    with pytest.raises(ValueError, match="target must be one of"):
        dv.convert_prediction(x, x, 0.5, source="eps", target="flow", interpolant="linear")
    with pytest.raises(ValueError, match="x must be finite"):
        dv.mixture_velocity(MIX_1D, jnp.asarray([[np.nan]]), 0.5)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 1\)"):
        dv.mixture_velocity(MIX_1D, jnp.zeros((3, 2)), 0.5)
    with pytest.raises(ValueError, match="pred must have shape"):
        dv.convert_prediction(jnp.zeros((2, 1)), x, 0.5, source="eps", target="x0", interpolant="linear")
