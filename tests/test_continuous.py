"""Continuous time against independent answers: the discrete chain's alpha_bars, the betas'
log-sum, simulated SDE paths, the Fokker-Planck and continuity equations by autodiff of an
exact mixture density, and DDIM's own trajectory (DDIM is Euler).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jax import lax

import diffviz as dv

LINEAR = dv.linear_schedule(1000)
SCHEDULES = {
    "linear1000": LINEAR,
    "cosine100": dv.cosine_schedule(100),
    "constant7": dv.constant_schedule(0.2, 7),
}
BETAS = {  # the betas each schedule was built from, in float64, written out here
    "linear1000": np.linspace(1e-4, 0.02, 1000),
    "constant7": np.full(7, 0.2),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_alpha_bar_is_the_schedules_at_grid_points(name):
    schedule = SCHEDULES[name]
    T = schedule.T
    t = jnp.asarray(np.arange(T + 1) / T, jnp.float32)
    np.testing.assert_allclose(dv.continuous_alpha_bar(schedule, t), schedule.alpha_bars, rtol=2e-6, atol=1e-12)
    np.testing.assert_allclose(
        dv.continuous_one_minus_alpha_bar(schedule, t), schedule.one_minus_alpha_bars, rtol=2e-5, atol=0
    )


@pytest.mark.parametrize("name", sorted(BETAS))
def test_beta_integrates_to_minus_log_alpha_bar(name):
    """int_0^{k/T} beta(u) du = -sum_{j<=k} log(1 - beta_j), by quadrature of the returned beta(t)."""
    schedule, betas = SCHEDULES[name], BETAS[name]
    T, sub = schedule.T, 4
    mids = (np.arange(T * sub) + 0.5) / (T * sub)  # midpoints of a grid 4x finer than the cells
    beta_t = np.asarray(dv.continuous_beta(schedule, jnp.asarray(mids, jnp.float32)), np.float64)
    integral = np.concatenate([[0.0], np.cumsum(beta_t) / (T * sub)])[::sub]  # at t = k/T
    np.testing.assert_allclose(integral, -np.concatenate([[0.0], np.cumsum(np.log1p(-betas))]), rtol=2e-6, atol=1e-9)


@given(st.floats(0.0005, 0.9995))
def test_beta_is_minus_the_slope_of_log_alpha_bar(t):
    T, h = LINEAR.T, 0.4 / LINEAR.T
    k = np.floor(t * T)
    t = min(max(t, (k + 0.1) / T), (k + 0.5) / T)  # keep t and t + h inside one cell
    # near t = 0, abar is 1 to float32 precision: take log(1 - (1 - abar)) there instead
    def log_abar(u):
        om = np.float64(dv.continuous_one_minus_alpha_bar(LINEAR, np.float32(u)))
        return np.log1p(-om) if om < 0.5 else np.log(np.float64(dv.continuous_alpha_bar(LINEAR, np.float32(u))))
    slope = (log_abar(t + h) - log_abar(t)) / h
    np.testing.assert_allclose(-slope, float(dv.continuous_beta(LINEAR, t)), rtol=2e-3)


def test_forward_sde_has_the_chains_marginals(key):
    """Euler-Maruyama on vp_sde from a point mass: mean sqrt(abar_k) x0, variance 1 - abar_k at t = k/T."""
    schedule = dv.linear_schedule(100)
    n, x0, sub = 20_000, 1.5, 8
    ts = jnp.asarray(np.arange(100 * sub) / (100 * sub), jnp.float32)

    def step(x, inputs):
        t, k = inputs
        drift, g = dv.vp_sde(schedule, x, t)
        dt = 1.0 / (100 * sub)
        return x + drift * dt + g * jnp.sqrt(dt) * jax.random.normal(k, x.shape), x

    _, path = jax.jit(lambda x: lax.scan(step, x, (ts, jax.random.split(key, ts.shape[0]))))(jnp.full((n, 1), x0))
    for k in (10, 50, 99):
        x = np.asarray(path[k * sub, :, 0], np.float64)
        abar, var = float(schedule.alpha_bars[k]), float(schedule.one_minus_alpha_bars[k])
        assert abs(x.mean() - np.sqrt(abar) * x0) < 5 * np.sqrt(var / n) + 2e-3, k
        assert abs(x.var() / var - 1) < 5 * np.sqrt(2 / n) + 0.01, k


MIX_1D = dv.gaussian_mixture([0.3, 0.7], [-1.0, 0.8], [0.3, 0.5])
MIX_2D = dv.gaussian_mixture([0.5, 0.5], [[-1.0, 0.5], [1.0, -0.5]], [[0.3, 0.6], [0.5, 0.2]])


@jax.jit
def _fp_residuals(mix, x, t):
    """For one point x: (d,), d_t log p_t(x) and the right-hand sides of the three equations below."""
    log_p = lambda y, u: dv.interpolant_log_prob(mix, y[None], u, "vp", LINEAR)[0]
    dlog_dt = jax.grad(log_p, argnums=1)(x, t)
    grad = jax.grad(log_p)(x, t)
    lap = jnp.trace(jax.hessian(log_p)(x, t))
    eps = lambda y: dv.interpolant_eps(mix, y[None], t, "vp", LINEAR)[0]
    forward = lambda y: dv.vp_sde(LINEAR, y, t)[0]
    reverse = lambda y: dv.reverse_sde_drift(LINEAR, y, eps(y), t)
    flow = lambda y: dv.probability_flow_drift(LINEAR, y, eps(y), t)
    diffusion = 0.5 * dv.vp_sde(LINEAR, x, t)[1] ** 2 * (lap + grad @ grad)
    rhs = [-jnp.trace(jax.jacfwd(fn)(x)) - fn(x) @ grad + sign * diffusion
           for fn, sign in ((forward, 1.0), (reverse, -1.0), (flow, 0.0))]
    return dlog_dt, jnp.stack(rhs), diffusion


@pytest.mark.parametrize("mix", [MIX_1D, MIX_2D], ids=["1d", "2d"])
@pytest.mark.parametrize("t", [0.0523, 0.3117, 0.8241])
def test_drifts_satisfy_the_continuity_and_fokker_planck_equations(mix, t):
    """With p_t the exact diffused mixture (autodiff for every derivative):
    forward SDE:  d_t log p = -div f - f.grad log p + g^2/2 (lap log p + |grad log p|^2)
    reverse SDE:  d_t log p = -div b - b.grad log p - g^2/2 (lap log p + |grad log p|^2)
    PF ODE:       d_t log p = -div v - v.grad log p."""
    for x in np.random.default_rng(0).normal(size=(4, mix.dim)):
        dlog_dt, rhs, diffusion = _fp_residuals(mix, jnp.asarray(x, jnp.float32), jnp.float32(t))
        tol = 2e-3 * (1 + abs(float(diffusion)) + abs(float(dlog_dt)))
        np.testing.assert_allclose(rhs, jnp.full(3, dlog_dt), rtol=0, atol=tol)


def test_ddim_is_euler_in_the_ddim_variables(key):
    """Every step of dv.ddim_sample (eta = 0) is y_s = y_t + (sigma_s - sigma_t) eps(x_t, t)."""
    mix, num_steps = dv.mixture_1d("bimodal"), 10
    path = dv.ddim_sample(key, dv.exact_eps_fn(LINEAR, mix), LINEAR, (256, 1), num_steps=num_steps, trajectory=True)
    times = np.concatenate([[0], np.asarray(dv.ddim_timesteps(LINEAR.T, num_steps))])  # path[i] is at times[i]
    for i in range(num_steps, 0, -1):
        t, s = int(times[i]), int(times[i - 1])
        y_t, sigma_t = dv.ddim_variables(LINEAR, path[i], t / LINEAR.T)
        _, sigma_s = dv.ddim_variables(LINEAR, path[i - 1], s / LINEAR.T)
        y_s = y_t + (sigma_s - sigma_t) * dv.optimal_eps(LINEAR, mix, path[i], t)  # one Euler step
        x_s = y_s / jnp.sqrt(1.0 + sigma_s**2)
        np.testing.assert_allclose(x_s, path[i - 1], rtol=2e-6, atol=2e-6)


@jax.jit
def _flow_in_ddim_variables(x, t):
    eps = dv.interpolant_eps(MIX_1D, x, t, "vp", LINEAR)
    v = dv.probability_flow_drift(LINEAR, x, eps, t)
    y_of = lambda x_, u: dv.ddim_variables(LINEAR, x_, u)[0]
    _, dy = jax.jvp(y_of, (x, t), (v, jnp.ones_like(t)))  # total derivative along the flow
    dsigma = jax.grad(lambda u: dv.ddim_variables(LINEAR, x, u)[1])(t)
    return dy, eps * dsigma


@pytest.mark.parametrize("t", [0.0734, 0.5555, 0.9312])
def test_the_flow_in_ddim_variables_is_dy_dsigma_equals_eps(t):
    """Along dx/dt = probability_flow_drift, (d/dt) y(x(t), t) = eps(x, t) dsigma/dt (autodiff in t)."""
    x = jnp.asarray([[-1.3], [0.2], [2.1]], jnp.float32)
    dy, expected = _flow_in_ddim_variables(x, jnp.float32(t))
    np.testing.assert_allclose(dy, expected, rtol=1e-4, atol=1e-5)


def test_bad_times_and_schedules_are_refused():
    with pytest.raises(ValueError, match=r"t must be a time in \[0, 1\]"):
        dv.continuous_alpha_bar(LINEAR, 1.5)
    with pytest.raises(ValueError, match=r"t must be a time in \[0, 1\]"):
        dv.continuous_beta(LINEAR, jnp.asarray([0.2, -0.1]))
    with pytest.raises(ValueError, match=r"t must be a time in \(0, 1\]"):
        dv.probability_flow_drift(LINEAR, jnp.zeros((2, 1)), jnp.zeros((2, 1)), 0.0)
    with pytest.raises(ValueError, match="t must be a scalar"):
        dv.vp_sde(LINEAR, jnp.zeros((2, 1)), jnp.asarray([0.1, 0.2]))
    with pytest.raises(ValueError, match="x must be finite"):
        dv.vp_sde(LINEAR, jnp.asarray([[np.nan]]), 0.5)
    with pytest.raises(ValueError, match="eps must have shape"):
        dv.reverse_sde_drift(LINEAR, jnp.zeros((2, 1)), jnp.zeros((3, 1)), 0.5)
    with pytest.raises(ValueError, match="schedule must be a Schedule"):
        dv.continuous_alpha_bar("linear", 0.5)
