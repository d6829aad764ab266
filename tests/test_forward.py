"""The closed form q(x_t | x_0) against a step-by-step Monte Carlo simulation of the chain.

The chain is simulated by ``run_forward_chain``, which only ever applies the one-step kernel
x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps_t; the closed form is never used there.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import diffviz as dv

N = 20_000
X0_VALUE = 1.5  # every particle starts at the same point, so the chain samples q(x_t | x_0 = 1.5)

CASES = {
    "constant": (lambda: dv.constant_schedule(0.02, 200), (1, 5, 50, 200)),
    "linear": (lambda: dv.linear_schedule(1000), (1, 10, 100, 500, 1000)),
    "cosine": (lambda: dv.cosine_schedule(1000), (1, 10, 100, 500, 999)),
}


def _chain(key, schedule, x0, **kw):
    return np.asarray(dv.run_forward_chain(key, schedule, x0, trajectory=True, **kw), np.float64)


@pytest.fixture(scope="module", params=list(CASES))
def simulated(request):
    make, ts = CASES[request.param]
    schedule = make()
    path = _chain(jax.random.key(1), schedule, jnp.full((N,), X0_VALUE))
    return schedule, ts, path


def test_closed_form_matches_simulated_mean_and_variance(simulated):
    schedule, ts, path = simulated
    for t in ts:
        mean, std = dv.marginal_params(schedule, jnp.float32(X0_VALUE), t)
        mean, var = float(mean), float(std) ** 2
        xs = path[t]
        se_mean = np.sqrt(var / N)
        se_var = var * np.sqrt(2 / (N - 1))
        assert abs(xs.mean() - mean) < 5 * se_mean, (t, xs.mean(), mean)
        assert abs(xs.var(ddof=1) - var) < 5 * se_var, (t, xs.var(ddof=1), var)


def test_closed_form_passes_a_ks_test_against_the_chain(simulated):
    schedule, ts, path = simulated
    for t in ts:
        mean, std = dv.marginal_params(schedule, jnp.float32(X0_VALUE), t)
        p = stats.kstest(path[t], "norm", args=(float(mean), float(std))).pvalue
        assert p > 1e-4, (t, p)


def test_seed_formula_is_rejected_and_correct_one_accepted():
    """The seed post wrote q(x_t|x_0) = N(sqrt(alpha^t) x_{t-1}, (1-alpha)^t I).

    With a constant beta the truth is N(sqrt(alpha^t) x_0, (1 - alpha^t) I). At beta = 0.05,
    t = 10: (1-alpha)^t = 0.05^10 ~ 1e-13 while 1 - alpha^t = 0.40. Same chain, same check.
    """
    beta, t = 0.05, 10
    alpha = 1 - beta
    schedule = dv.constant_schedule(beta, t)
    path = _chain(jax.random.key(2), schedule, jnp.full((N,), X0_VALUE))
    xt, xprev = path[t], path[t - 1]

    correct_var = 1 - alpha**t
    seed_var = (1 - alpha) ** t
    assert xt.var() == pytest.approx(correct_var, rel=0.05)
    assert xt.var() / seed_var > 1e11  # the seed's variance is wrong by eleven orders of magnitude

    p_correct = stats.kstest(xt, "norm", args=(np.sqrt(alpha**t) * X0_VALUE, np.sqrt(correct_var))).pvalue
    p_seed_x0 = stats.kstest(xt, "norm", args=(np.sqrt(alpha**t) * X0_VALUE, np.sqrt(seed_var))).pvalue
    z_seed_prev = (xt - np.sqrt(alpha**t) * xprev) / np.sqrt(seed_var)  # the formula as printed
    p_seed_prev = stats.kstest(z_seed_prev, "norm").pvalue
    assert p_correct > 1e-3
    assert p_seed_x0 < 1e-12 and p_seed_prev < 1e-12
    # Even fixing only the mean (x_0 instead of x_{t-1}) and keeping the right variance matters:
    p_wrong_mean = stats.kstest(xt, "norm", args=(np.sqrt(alpha**t) * xprev.mean(), np.sqrt(correct_var))).pvalue
    assert p_wrong_mean < 1e-12


@pytest.mark.parametrize("t", [100, 1000])
def test_without_the_shrink_factor_variance_grows_like_a_random_walk(t):
    beta, sd0 = 0.01, 0.5
    schedule = dv.constant_schedule(beta, 1000)
    x0 = sd0 * jax.random.normal(jax.random.key(3), (N,))
    walk = _chain(jax.random.key(4), schedule, x0, num_steps=t, drift=False)[t]
    diffusion = _chain(jax.random.key(4), schedule, x0, num_steps=t)[t]
    v0 = float(np.var(np.asarray(x0, np.float64)))
    expected_walk = v0 + t * beta
    assert walk.var() == pytest.approx(expected_walk, rel=0.05)
    abar = (1 - beta) ** t
    assert diffusion.var() == pytest.approx(abar * v0 + 1 - abar, rel=0.05)
    if t == 1000:
        assert walk.var() > 10 and diffusion.var() == pytest.approx(1.0, rel=0.05)


def test_trajectory_layout_and_final_state_agree(key):
    s = dv.linear_schedule(30)
    x0 = jnp.arange(6.0).reshape(3, 2)
    path = dv.run_forward_chain(key, s, x0, trajectory=True)
    assert path.shape == (31, 3, 2) and path.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(path[0]), np.asarray(x0))
    np.testing.assert_array_equal(np.asarray(path[-1]), np.asarray(dv.run_forward_chain(key, s, x0)))
    assert dv.run_forward_chain(key, s, x0, num_steps=0).shape == (3, 2)


def test_one_step_sampler_matches_its_parameters(key):
    s = dv.linear_schedule(1000)
    t = 700
    xs = np.asarray(dv.sample_forward_step(key, s, jnp.full((N,), 2.0), t), np.float64)
    mean, std = dv.forward_step_params(s, jnp.float32(2.0), t)
    beta = np.linspace(1e-4, 0.02, 1000)[t - 1]
    assert float(mean) == pytest.approx(np.sqrt(1 - beta) * 2.0, rel=1e-6)
    assert float(std) == pytest.approx(np.sqrt(beta), rel=1e-6)
    assert stats.kstest(xs, "norm", args=(float(mean), float(std))).pvalue > 1e-3


def test_sample_marginal_returns_the_noise_it_used(key):
    s = dv.cosine_schedule(200)
    x0 = jnp.linspace(-2, 2, 50)
    xt, eps = dv.sample_marginal(key, s, x0, 120)
    abar = float(s.alpha_bars[120])
    np.testing.assert_allclose(np.asarray(xt), np.sqrt(abar) * np.asarray(x0) + np.sqrt(1 - abar) * np.asarray(eps), rtol=1e-5, atol=1e-6)
    big = dv.sample_marginal(key, s, jnp.zeros((N,)), 120)[1]
    assert stats.kstest(np.asarray(big), "norm").pvalue > 1e-3


def test_prior_kl_matches_numerical_integration():
    s = dv.linear_schedule(50)
    x0 = jnp.asarray([0.7, -1.2])
    for t in (1, 10, 50):
        mean, std = dv.marginal_params(s, x0, t)
        grid = np.linspace(-12, 12, 400_001)
        total = 0.0
        for m in np.asarray(mean, np.float64):
            q = stats.norm.pdf(grid, m, float(std))
            lp = stats.norm.logpdf(grid, m, float(std)) - stats.norm.logpdf(grid)
            total += np.trapezoid(q * lp, grid)
        assert float(dv.prior_kl(s, x0, t)) == pytest.approx(total, rel=2e-3, abs=1e-6)


def test_prior_kl_shows_when_T_is_too_small():
    x0 = jnp.ones((2,))
    assert float(dv.prior_kl(dv.linear_schedule(1000), x0)) < 1e-3
    assert float(dv.prior_kl(dv.linear_schedule(50), x0)) > 0.3


# T from a few values only: each new array length costs JAX an eager compilation.
@given(beta=st.floats(1e-3, 0.3), T=st.sampled_from([1, 7, 60]), x0=st.floats(-5, 5), frac=st.floats(0, 1))
def test_marginal_properties_for_all_parameters(beta, T, x0, frac):
    s = dv.constant_schedule(beta, T)
    t = round(frac * T)
    mean, std = dv.marginal_params(s, jnp.float32(x0), t)
    abar = (1 - np.float32(beta)) ** t
    assert float(mean) == pytest.approx(np.sqrt(abar) * np.float32(x0), rel=1e-4, abs=1e-5)
    assert float(std) ** 2 == pytest.approx(1 - abar, rel=1e-4, abs=1e-7)
    if t >= 1:
        assert float(dv.prior_kl(s, jnp.float32(x0), t)) >= -1e-6


def test_jit_and_eager_agree(key):
    s = dv.linear_schedule(100)
    x0 = jnp.linspace(-1, 1, 8)
    eager = dv.sample_marginal(key, s, x0, 37)
    jitted = jax.jit(dv.sample_marginal)(key, s, x0, jnp.int32(37))
    for a, b in zip(eager, jitted):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
    chain = jax.jit(dv.run_forward_chain, static_argnames=("num_steps", "drift", "trajectory"))
    np.testing.assert_allclose(
        np.asarray(chain(key, s, x0, num_steps=40)), np.asarray(dv.run_forward_chain(key, s, x0, num_steps=40)), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize(
    "draw",
    [
        lambda k, s, x: dv.sample_marginal(k, s, x, 10)[0],
        lambda k, s, x: dv.sample_forward_step(k, s, x, 10),
        lambda k, s, x: dv.run_forward_chain(k, s, x),
    ],
    ids=["marginal", "one step", "chain"],
)
def test_same_key_same_draw_different_key_different_draw(draw):
    s = dv.linear_schedule(20)
    x = jnp.zeros((100,))
    a = draw(jax.random.key(0), s, x)
    b = draw(jax.random.key(0), s, x)
    c = draw(jax.random.key(1), s, x)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(a), np.asarray(c))


def test_prior_kl_stays_positive_when_alpha_bar_is_tiny():
    """For the cosine schedule abar_T ~ 2e-9: 1 - abar rounds to 1 in float32, yet KL > 0."""
    s = dv.cosine_schedule(1000)
    abar = float(s.alpha_bars[1000])
    x0 = jnp.asarray([1.5])
    expected = 0.5 * (abar * 1.5**2 - abar - np.log1p(-abar))  # float64
    assert expected > 0
    assert float(dv.prior_kl(s, x0)) == pytest.approx(expected, rel=1e-3)
