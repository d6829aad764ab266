"""The goodness-of-fit checks against SciPy's KS test, computed independently in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

import diffviz as dv


@pytest.fixture
def rng():
    """A fresh NumPy generator per test: results do not depend on which tests ran before."""
    return np.random.default_rng(10)


def _scipy_ks(x, cdf):
    """SciPy's one-sample KS test (exact two-sided p-value for these sizes)."""
    return stats.kstest(np.ravel(np.asarray(x, np.float64)), cdf, method="exact")


def _limit_p(d, n):
    """The documented p-value: Kolmogorov's limit at Stephens' scaled statistic (SciPy's series)."""
    root = np.sqrt(n)
    return special.kolmogorov((root + 0.12 + 0.11 / root) * d)


# --------------------------------------------------------------------------------------------
# ks_normal_test
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 20, 200, 3000])
def test_normal_statistic_and_p_value_match_scipy(n, rng):
    for shift, scale in ((0.0, 1.0), (0.15, 1.0), (0.0, 1.3), (0.5, 0.6)):
        z = rng.normal(size=n) * scale + shift
        got = dv.ks_normal_test(z)
        ref = _scipy_ks(z, "norm")
        assert got.n == n and got.statistic.dtype == jnp.float32 and got.p_value.dtype == jnp.float32
        assert float(got.statistic) == pytest.approx(ref.statistic, abs=2e-6)
        # the series itself, against SciPy's implementation of the same limit
        assert float(got.p_value) == pytest.approx(_limit_p(ref.statistic, n), abs=2e-5)
        if n >= 20:  # Stephens' approximation against the exact finite-n distribution
            assert float(got.p_value) == pytest.approx(ref.pvalue, abs=0.02 if n < 1000 else 0.005)


def test_normal_test_pools_every_entry_of_any_shape(rng):
    z = rng.normal(size=(40, 3, 2))
    got, flat = dv.ks_normal_test(z), dv.ks_normal_test(z.ravel())
    assert got.n == 240 and float(got.statistic) == float(flat.statistic)
    assert float(got.statistic) == pytest.approx(_scipy_ks(z, "norm").statistic, abs=2e-6)


def test_p_values_are_uniform_when_the_claim_is_true_and_tiny_when_it_is_false(rng):
    """Calibration: under the null, P(p < 0.05) is 0.05; 400 runs put it in [0.025, 0.08]."""
    ps = np.array([float(dv.ks_normal_test(rng.normal(size=200)).p_value) for _ in range(400)])
    assert 0.025 <= np.mean(ps < 0.05) <= 0.08
    assert 0.44 <= np.mean(ps) <= 0.56  # mean of a uniform: 0.5, std error 0.014
    wrong = dv.ks_normal_test(rng.normal(size=4000) * 1.3)
    assert float(wrong.p_value) < 1e-4 and not wrong.passed()


def test_the_p_value_covers_both_branches_of_the_series():
    """Small D (theta-function branch) and large D (alternating branch), against SciPy."""
    for lam in (0.3, 0.7, 0.99, 1.01, 1.5, 2.5, 4.0):
        n = 400
        d = lam / (np.sqrt(n) + 0.12 + 0.11 / np.sqrt(n))
        # a sample whose largest CDF gap is exactly d: CDF values (i - 1/2)/n squeezed towards 0,
        # so that the gap i/n - u_i is largest at i = n, where it is 1 - u_n = d
        u = (np.arange(1, n + 1) - 0.5) / n * ((1.0 - d) * n / (n - 0.5))
        z = stats.norm.ppf(u)
        got = dv.ks_normal_test(z)
        assert float(got.statistic) == pytest.approx(d, abs=2e-6)
        assert float(got.p_value) == pytest.approx(special.kolmogorov(lam), abs=2e-5)


def test_passed_compares_the_p_value_with_the_level():
    result = dv.KSResult(jnp.float32(0.1), jnp.float32(0.02), 100)
    assert result.passed(0.01) and not result.passed(0.05) and result.passed()
    assert dv.KSResult(jnp.float32(0.1), jnp.float32(0.25), 100).passed(0.25)  # p == level passes (0.25 is exact in float32)
    assert str(result) == "D = 0.1000, p = 0.02 (n = 100)"
    for bad in (0.0, 1.0, -1, True, "0.05"):
        with pytest.raises(ValueError, match="level"):
            result.passed(bad)


def test_normal_test_refuses_empty_and_non_finite_input():
    with pytest.raises(ValueError, match="z must hold at least one sample"):
        dv.ks_normal_test(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="z must be finite"):
        dv.ks_normal_test(np.array([0.0, np.nan]))


# --------------------------------------------------------------------------------------------
# marginal_ks_test
# --------------------------------------------------------------------------------------------


def _abar(betas, t):
    return float(np.prod(1.0 - np.asarray(betas, np.float64)[:t]))


def test_marginal_test_matches_scipy_against_the_exact_gaussian(rng):
    betas = np.linspace(1e-3, 0.05, 40)
    schedule = dv.schedule_from_betas(betas)
    x0 = rng.normal(size=(500, 2))
    for t, scale in ((1, 1.0), (13, 1.0), (40, 1.0), (13, 1.5)):
        abar = _abar(betas, t)
        x_t = np.sqrt(abar) * x0 + scale * np.sqrt(1 - abar) * rng.normal(size=x0.shape)
        got = dv.marginal_ks_test(schedule, x0, x_t, t)
        # each entry against its own N(sqrt(abar) x0, 1 - abar): the same as z against N(0, 1)
        z = (x_t - np.sqrt(abar) * x0) / np.sqrt(1 - abar)
        ref = _scipy_ks(z, "norm")
        assert got.n == 1000
        assert float(got.statistic) == pytest.approx(ref.statistic, abs=1e-5)
        assert float(got.p_value) == pytest.approx(ref.pvalue, abs=0.01)
        assert got.passed() == (scale == 1.0)


def test_marginal_test_accepts_the_forward_chain_and_rejects_a_variance_used_as_a_std(key):
    schedule = dv.linear_schedule(1000)
    k_chain, k_eps = jax.random.split(key)
    x0 = jnp.full((4000, 1), 1.5)
    chain = dv.run_forward_chain(k_chain, schedule, x0, num_steps=200)
    assert dv.marginal_ks_test(schedule, x0, chain, 200).passed()
    assert dv.marginal_ks_test(schedule, 1.5, chain, 200).passed()  # a scalar start is broadcast
    abar = schedule.alpha_bars[200]
    eps = jax.random.normal(k_eps, x0.shape)
    buggy = jnp.sqrt(abar) * x0 + (1 - abar) * eps  # std 1 - abar instead of sqrt(1 - abar)
    assert float(dv.marginal_ks_test(schedule, x0, buggy, 200).p_value) < 1e-6


def test_marginal_test_refuses_bad_input():
    schedule = dv.linear_schedule(10)
    x = np.zeros((5, 1))
    with pytest.raises(ValueError, match=r"t must be an integer time step in 1\.\.10"):
        dv.marginal_ks_test(schedule, x, x, 0)
    with pytest.raises(ValueError, match=r"t must be an integer time step in 1\.\.10"):
        dv.marginal_ks_test(schedule, x, x, 11)
    with pytest.raises(ValueError, match=r"x0 must have shape \(5, 1\)"):
        dv.marginal_ks_test(schedule, np.zeros((4, 1)), x, 3)
    with pytest.raises(ValueError, match="x_t must hold at least one sample"):
        dv.marginal_ks_test(schedule, 0.0, np.zeros((0,)), 3)
    with pytest.raises(ValueError, match="x_t must be finite"):
        dv.marginal_ks_test(schedule, 0.0, np.array([np.inf]), 3)


# --------------------------------------------------------------------------------------------
# mixture_ks_test
# --------------------------------------------------------------------------------------------


def _mixture_cdf(weights, means, stds, abar):
    """The diffused 1-D mixture's CDF, from the forward process's formula, in float64."""
    m = np.sqrt(abar) * np.asarray(means, np.float64)
    s = np.sqrt(abar * np.asarray(stds, np.float64) ** 2 + 1 - abar)
    return lambda x: np.sum(np.asarray(weights)[None, :] * stats.norm.cdf((np.asarray(x)[:, None] - m) / s), axis=1)


@pytest.mark.parametrize("t", [0, 1, 30, 100])
def test_mixture_test_matches_scipy_against_the_diffused_mixture(t, rng):
    weights, means, stds = np.array([0.3, 0.7]), np.array([-1.0, 0.8]), np.array([0.4, 0.25])
    mix = dv.gaussian_mixture(weights, means, stds)
    schedule = dv.linear_schedule(100, 1e-3, 0.05)
    abar = _abar(np.linspace(1e-3, 0.05, 100), t)
    comp = rng.choice(2, size=800, p=weights)
    x0 = means[comp] + stds[comp] * rng.normal(size=800)
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * rng.normal(size=800)
    cdf = _mixture_cdf(weights, means, stds, abar)
    for x in (x_t, 1.1 * x_t):  # the true marginal, and one 10% too wide
        got = dv.mixture_ks_test(schedule, mix, x[:, None], t)
        ref = _scipy_ks(x, cdf)
        assert float(got.statistic) == pytest.approx(ref.statistic, abs=1e-5)
        assert float(got.p_value) == pytest.approx(ref.pvalue, abs=0.01)
    assert dv.mixture_ks_test(schedule, mix, x_t, t).passed()  # (n,) works like (n, 1)


def test_mixture_test_catches_samples_from_the_wrong_step(key):
    mix = dv.mixture_1d("bimodal")
    schedule = dv.linear_schedule(1000)
    data = dv.sample_mixture(key, mix, 4000)
    assert dv.mixture_ks_test(schedule, mix, data).passed()
    assert not dv.mixture_ks_test(schedule, mix, data, 300).passed()


def test_mixture_test_refuses_bad_input():
    schedule = dv.linear_schedule(10)
    mix = dv.mixture_1d("bimodal")
    with pytest.raises(ValueError, match="mix must be a 1-D mixture"):
        dv.mixture_ks_test(schedule, dv.eight_gaussians_mixture(), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="mix must be a GaussianMixture"):
        dv.mixture_ks_test(schedule, (1.0, 0.0, 1.0), np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"x must be a 1-D sample, shape \(n,\) or \(n, 1\) with n >= 1; got \(5, 2\)"):
        dv.mixture_ks_test(schedule, mix, np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"t must be an integer time step in 0\.\.10"):
        dv.mixture_ks_test(schedule, mix, np.zeros((5, 1)), 11)
    with pytest.raises(ValueError, match=r"x must be a 1-D sample, .* with n >= 1; got \(0,\)"):
        dv.mixture_ks_test(schedule, mix, np.zeros((0, 1)))
