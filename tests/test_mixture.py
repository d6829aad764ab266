"""Exact answers for Gaussian-mixture data, each against an independent computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import diffviz as dv

S = dv.linear_schedule(1000)
MIX1 = dv.gaussian_mixture([0.3, 0.7], [-1.5, 1.0], [0.25, 0.5])
MIX2 = dv.gaussian_mixture([0.2, 0.5, 0.3], [[-1.0, 0.5], [1.0, 1.0], [0.0, -1.2]], [[0.3, 0.2], [0.4, 0.4], [0.25, 0.5]])
TS = [0, 1, 50, 200, 600, 1000]


def np_log_density(mix_w, mix_m, mix_s, x):
    """log q(x) for a diagonal mixture, written separately in float64 NumPy (x: (n, d))."""
    w, m, s = (np.asarray(a, np.float64) for a in (mix_w, mix_m, mix_s))
    comp = np.log(w)[None, :] + np.sum(stats.norm.logpdf(x[:, None, :], m[None], s[None]), axis=2)
    top = comp.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(comp - top).sum(axis=1, keepdims=True)))[:, 0]


def np_diffused(mix, t):
    abar = np.float64(S.alpha_bars[t])
    return mix.weights, np.sqrt(abar) * np.asarray(mix.means, np.float64), np.sqrt(abar * np.asarray(mix.stds, np.float64) ** 2 + 1 - abar)


@pytest.mark.parametrize("t", TS)
def test_diffused_density_integrates_to_one_in_1d(t):
    grid = np.linspace(-8, 8, 20_001)
    p = np.exp(np.asarray(dv.mixture_log_prob(dv.diffuse_mixture(S, MIX1, t), grid[:, None]), np.float64))
    assert np.trapezoid(p, grid) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("t", [0, 100, 1000])
def test_diffused_density_integrates_to_one_in_2d(t):
    g = np.linspace(-7, 7, 701)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx, yy], axis=-1)
    p = np.exp(np.asarray(dv.mixture_log_prob(dv.diffuse_mixture(S, MIX2, t), pts), np.float64))
    assert p.shape == (701, 701)
    assert np.trapezoid(np.trapezoid(p, g, axis=1), g) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("t", [0, 50, 200, 1000])
def test_diffused_density_matches_closed_form_samples(t, key):
    """Sample x0 from the data, push it through q(x_t|x_0), compare with q_t's CDF (scipy)."""
    k1, k2 = jax.random.split(key)
    x0 = dv.sample_mixture(k1, MIX1, 40_000)
    xt = np.asarray(dv.sample_marginal(k2, S, x0, t)[0], np.float64)[:, 0]
    w, m, s = np_diffused(MIX1, t)
    cdf = lambda x: np.sum(np.asarray(w)[None, :] * stats.norm.cdf(x[:, None], m[:, 0], s[:, 0]), axis=1)
    assert stats.kstest(xt, cdf).pvalue > 1e-3
    # And the histogram against the density itself.
    hist, edges = np.histogram(xt, bins=60, density=True)
    centres = 0.5 * (edges[1:] + edges[:-1])
    dens = np.exp(np.asarray(dv.mixture_log_prob(dv.diffuse_mixture(S, MIX1, t), centres[:, None])))
    assert np.sum(np.abs(hist - dens) * np.diff(edges)) < 0.05  # L1 distance between the two


@pytest.mark.parametrize("t", TS)
def test_log_density_matches_an_independent_numpy_version(t):
    pts = np.random.default_rng(0).normal(size=(50, 2)) * 2
    ours = np.asarray(dv.mixture_log_prob(dv.diffuse_mixture(S, MIX2, t), pts), np.float64)
    np.testing.assert_allclose(ours, np_log_density(*np_diffused(MIX2, t), pts), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("t", TS)
def test_score_equals_autodiff_and_finite_difference(t):
    pts = np.random.default_rng(1).normal(size=(20, 2)) * 1.5
    score = np.asarray(dv.mixture_score(S, MIX2, pts, t), np.float64)
    diffused = dv.diffuse_mixture(S, MIX2, t)
    auto = jax.vmap(jax.grad(lambda p: dv.mixture_log_prob(diffused, p)))(jnp.asarray(pts, jnp.float32))
    np.testing.assert_allclose(score, np.asarray(auto), rtol=1e-4, atol=1e-4)
    h = 1e-5
    fd = np.stack(
        [
            (np_log_density(*np_diffused(MIX2, t), pts + h * e) - np_log_density(*np_diffused(MIX2, t), pts - h * e)) / (2 * h)
            for e in np.eye(2)
        ],
        axis=1,
    )
    np.testing.assert_allclose(score, fd, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("t", [1, 50, 300, 1000])
def test_optimal_eps_is_the_responsibility_weighted_conditional_noise(t):
    """E[eps | x_t] from Bayes' rule in float64, without the score: given component k, x_t and
    eps are jointly Gaussian, x_t ~ N(sqrt(abar) mu_k, v_k) with v_k = abar s_k^2 + 1 - abar and
    Cov(eps, x_t) = sqrt(1 - abar), so E[eps | x_t, k] = sqrt(1 - abar) (x_t - sqrt(abar) mu_k) / v_k;
    the components are weighted by their posterior responsibilities."""
    x = np.linspace(-3, 3, 25)
    abar, om = np.float64(S.alpha_bars[t]), np.float64(S.one_minus_alpha_bars[t])
    w, mu, sd = (np.asarray(a, np.float64).ravel() for a in (MIX1.weights, MIX1.means, MIX1.stds))
    v = abar * sd**2 + om
    joint = w * stats.norm.pdf(x[:, None], np.sqrt(abar) * mu, np.sqrt(v))  # (25, K)
    resp = joint / joint.sum(axis=1, keepdims=True)
    want = np.sum(resp * np.sqrt(om) * (x[:, None] - np.sqrt(abar) * mu) / v, axis=1)
    got = np.asarray(dv.optimal_eps(S, MIX1, jnp.asarray(x, jnp.float32)[:, None], t))[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _importance_estimates(key, mix, t, x, n=400_000):
    """E[eps | x_t = x] and E[x0 | x_t = x] by weighting prior draws of x0 with q(x|x0)."""
    x0 = np.asarray(dv.sample_mixture(key, mix, n), np.float64)  # (n, d)
    abar = np.float64(S.alpha_bars[t])
    sd = np.sqrt(1 - abar)
    eps = (x[None, :] - np.sqrt(abar) * x0) / sd  # the noise that would have produced x
    logw = np.sum(stats.norm.logpdf(eps), axis=1)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return w @ eps, w @ x0, 1.0 / np.sum(w**2)


@pytest.mark.parametrize("t", [100, 400, 900])
@pytest.mark.parametrize("x", [[0.0, 0.0], [1.0, 0.8], [-0.6, -0.9]])
def test_optimal_eps_and_denoiser_match_monte_carlo(t, x, key):
    x = np.asarray(x)
    mc_eps, mc_x0, ess = _importance_estimates(key, MIX2, t, x)
    assert ess > 500  # enough effective samples for the tolerance below
    eps = np.asarray(dv.optimal_eps(S, MIX2, x, t))
    den = np.asarray(dv.optimal_denoiser(S, MIX2, x, t))
    tol = 6 / np.sqrt(ess)
    np.testing.assert_allclose(eps, mc_eps, atol=tol)
    np.testing.assert_allclose(den, mc_x0, atol=tol * 2)


@pytest.mark.parametrize("t", [0, 1, 10, 250, 1000])
def test_denoiser_agrees_with_tweedie(t):
    pts = jnp.asarray(np.random.default_rng(2).normal(size=(30, 2)), jnp.float32)
    den = np.asarray(dv.optimal_denoiser(S, MIX2, pts, t), np.float64)
    score = np.asarray(dv.mixture_score(S, MIX2, pts, t), np.float64)
    abar, om = np.float64(S.alpha_bars[t]), np.float64(S.one_minus_alpha_bars[t])
    tweedie = (np.asarray(pts) + om * score) / np.sqrt(abar)
    np.testing.assert_allclose(den, tweedie, rtol=2e-3, atol=2e-3)


def test_sampling_the_mixture_matches_its_moments(key):
    xs = np.asarray(dv.sample_mixture(key, MIX2, 200_000), np.float64)
    w, m, s = (np.asarray(a, np.float64) for a in MIX2)
    mean = w @ m
    var = w @ (s**2 + m**2) - mean**2
    np.testing.assert_allclose(xs.mean(0), mean, atol=0.01)
    np.testing.assert_allclose(xs.var(0), var, rtol=0.02)


def test_shapes_batch_and_jit():
    grid = jnp.zeros((4, 5, 1))
    assert dv.mixture_log_prob(MIX1, grid).shape == (4, 5)
    assert dv.mixture_score(S, MIX1, grid, 3).shape == (4, 5, 1)
    assert dv.optimal_denoiser(S, MIX1, grid[0, 0], 3).shape == (1,)
    f = jax.jit(dv.optimal_eps)
    np.testing.assert_allclose(
        np.asarray(f(S, MIX2, jnp.ones((3, 2)), jnp.int32(77))), np.asarray(dv.optimal_eps(S, MIX2, jnp.ones((3, 2)), 77)), rtol=1e-6
    )


def test_constructor_broadcasts_stds():
    iso = dv.gaussian_mixture([1, 1], [[0.0, 0.0], [1.0, 1.0]], [0.5, 0.2])
    np.testing.assert_allclose(np.asarray(iso.stds), [[0.5, 0.5], [0.2, 0.2]])
    np.testing.assert_allclose(np.asarray(iso.weights), [0.5, 0.5])
    shared = dv.gaussian_mixture([1.0], [[2.0, 3.0]], 0.1)
    assert shared.stds.shape == (1, 2) and shared.dim == 2
