"""The posterior q(x_{t-1} | x_t, x_0) against Bayes' rule evaluated on a 1-D grid."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import diffviz as dv

SCHEDULES = {
    "constant": dv.constant_schedule(0.03, 100),
    "linear": dv.linear_schedule(1000),
    "cosine": dv.cosine_schedule(1000),
}


def bayes_on_grid(schedule, x0, xt, t):
    """Mean and variance of x_{t-1} from prior x likelihood, normalised numerically (float64)."""
    abar_prev = float(np.float64(schedule.alpha_bars[t - 1]))
    om_prev = float(np.float64(schedule.one_minus_alpha_bars[t - 1]))
    beta = float(np.float64(schedule.betas[t]))
    # The posterior lies between the prior's bulk and the likelihood's (x_{t-1} ~ x_t / sqrt(alpha_t)):
    # span both, finely enough to resolve a posterior narrower than either.
    prior_c, prior_w = np.sqrt(abar_prev) * x0, 12 * np.sqrt(om_prev)
    lik_c, lik_w = xt / np.sqrt(1 - beta), 12 * np.sqrt(beta / (1 - beta))
    lo, hi = min(prior_c - prior_w, lik_c - lik_w), max(prior_c + prior_w, lik_c + lik_w)
    grid = np.linspace(lo, hi, 400_001)
    log_prior = stats.norm.logpdf(grid, np.sqrt(abar_prev) * x0, np.sqrt(om_prev))
    log_lik = stats.norm.logpdf(xt, np.sqrt(1 - beta) * grid, np.sqrt(beta))
    w = np.exp(log_prior + log_lik - np.max(log_prior + log_lik))
    w /= w.sum()
    mean = np.sum(w * grid)
    return mean, np.sum(w * (grid - mean) ** 2)


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("t", [2, 5, 50, 100])
@pytest.mark.parametrize("x0,xt", [(1.0, 0.3), (-2.0, 1.5), (0.0, -0.4)])
def test_posterior_matches_bayes_rule_on_a_grid(name, t, x0, xt):
    s = SCHEDULES[name]
    mean, var = dv.posterior_params(s, jnp.float32(x0), jnp.float32(xt), t)
    grid_mean, grid_var = bayes_on_grid(s, x0, xt, t)
    assert float(mean) == pytest.approx(grid_mean, rel=1e-4, abs=1e-5)
    assert float(var) == pytest.approx(grid_var, rel=1e-3)
    assert float(dv.posterior_variance(s, t)) == pytest.approx(float(var), rel=1e-6)


def test_posterior_at_t1_is_a_point_mass_at_x0():
    s = dv.linear_schedule(1000)
    mean, var = dv.posterior_params(s, jnp.float32(0.8), jnp.float32(-3.0), 1)
    assert float(mean) == pytest.approx(0.8, rel=1e-6)
    assert float(var) == 0.0


def test_posterior_by_monte_carlo_conditioning(key):
    """Simulate (x_{t-1}, x_t) pairs from a fixed x0, keep those with x_t near a value."""
    s = dv.constant_schedule(0.1, 20)
    t, x0, target = 6, 1.0, 0.2
    k1, k2 = jax.random.split(key)
    n = 400_000
    prev = dv.sample_marginal(k1, s, jnp.full((n,), x0), t - 1)[0]
    xt = dv.sample_forward_step(k2, s, prev, t)
    keep = np.abs(np.asarray(xt) - target) < 0.01
    sel = np.asarray(prev, np.float64)[keep]
    mean, var = dv.posterior_params(s, jnp.float32(x0), jnp.float32(target), t)
    assert keep.sum() > 1000
    assert sel.mean() == pytest.approx(float(mean), abs=5 * np.sqrt(float(var) / keep.sum()) + 2e-3)
    assert sel.var() == pytest.approx(float(var), rel=0.1)


@given(beta=st.floats(1e-3, 0.5), frac=st.floats(0, 1))
def test_posterior_variance_lies_between_zero_and_beta(beta, frac):
    s = dv.constant_schedule(beta, 40)
    t = 1 + round(frac * 39)
    var = float(dv.posterior_variance(s, t))
    assert 0.0 <= var <= float(s.betas[t]) * (1 + 1e-6)


@given(frac=st.floats(0, 1), x_t=st.floats(-4, 4), eps=st.floats(-4, 4))
def test_parameterisations_round_trip(frac, x_t, eps):
    s = SCHEDULES["linear"]
    t = 1 + round(frac * (s.T - 1))
    x_t, eps = jnp.float32(x_t), jnp.float32(eps)
    x0 = dv.eps_to_x0(s, x_t, eps, t)
    assert float(dv.x0_to_eps(s, x_t, x0, t)) == pytest.approx(float(eps), rel=1e-3, abs=2e-3)
    score = dv.eps_to_score(s, eps, t)
    assert float(dv.score_to_eps(s, score, t)) == pytest.approx(float(eps), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", SCHEDULES)
@given(frac=st.floats(0, 1), x_t=st.floats(-4, 4), eps=st.floats(-4, 4))
def test_reverse_step_is_the_posterior_at_the_predicted_clean_point(name, frac, x_t, eps):
    """mu_theta(x_t, eps) is the posterior mean with x0 replaced by its estimate from eps (the
    identity behind DDPM's reverse step), computed here in float64 from the schedule's arrays;
    the two variances are beta_t and the posterior's beta-tilde."""
    s = SCHEDULES[name]
    t = 2 + round(frac * (s.T - 2))
    # 1 - abar from the schedule's own array: near t = 0, 1 - float32(abar) loses the digits it keeps.
    abar, abar_prev, beta, om, om_prev = (
        float(np.float64(a))
        for a in (s.alpha_bars[t], s.alpha_bars[t - 1], s.betas[t], s.one_minus_alpha_bars[t], s.one_minus_alpha_bars[t - 1])
    )
    x0_hat = (x_t - np.sqrt(om) * eps) / np.sqrt(abar)
    posterior_mean = (np.sqrt(abar_prev) * beta * x0_hat + np.sqrt(1 - beta) * om_prev * x_t) / om
    mean = float(dv.reverse_mean(s, jnp.float32(eps), jnp.float32(x_t), t))
    assert mean == pytest.approx(posterior_mean, rel=1e-4, abs=1e-4)
    assert float(dv.reverse_variance(s, t, "beta")) == pytest.approx(beta, rel=1e-6)
    assert float(dv.reverse_variance(s, t, "beta_tilde")) == pytest.approx(om_prev / om * beta, rel=1e-5)


def test_conversions_recover_the_truth_from_a_noised_sample(key):
    s = SCHEDULES["cosine"]
    x0 = jnp.linspace(-2, 2, 11)
    for t in (1, 300, 900):
        xt, eps = dv.sample_marginal(key, s, x0, t)
        np.testing.assert_allclose(np.asarray(dv.eps_to_x0(s, xt, eps, t)), np.asarray(x0), atol=2e-3)
        np.testing.assert_allclose(np.asarray(dv.x0_to_eps(s, xt, x0, t)), np.asarray(eps), atol=2e-3, rtol=1e-3)
        # For a single x0, the score of q(x_t | x_0) is -(x_t - sqrt(abar) x0) / (1 - abar) = -eps / sqrt(1 - abar).
        abar = float(s.alpha_bars[t])
        direct = -(np.asarray(xt) - np.sqrt(abar) * np.asarray(x0)) / (1 - abar)
        np.testing.assert_allclose(np.asarray(dv.eps_to_score(s, eps, t)), direct, rtol=2e-3, atol=2e-3)


def test_posterior_is_the_same_under_jit():
    s = SCHEDULES["linear"]
    args = (jnp.linspace(-1, 1, 5), jnp.linspace(1, -1, 5))
    eager = dv.posterior_params(s, *args, 400)
    jitted = jax.jit(dv.posterior_params)(s, *args, jnp.int32(400))
    for a, b in zip(eager, jitted):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
