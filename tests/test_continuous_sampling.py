"""Continuous-time samplers against known answers: the exact flow map of Gaussian data, the
discrete oracle at t = k/T, the network at integer steps, and mixture CDFs written out with
SciPy (never through diffviz).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import diffviz as dv

LINEAR = dv.linear_schedule(1000)
BIMODAL = dv.mixture_1d("bimodal")
GAUSS = dv.gaussian_mixture([1.0], [[0.7, -0.4]], [[0.5, 1.3]])  # one component: the flow map is affine


def _abar(t):
    """alpha_bar(t) in float64 from the schedule's betas (log-linear between grid points), written out here."""
    log_abar = np.concatenate([[0.0], np.cumsum(np.log1p(-np.linspace(1e-4, 0.02, 1000)))])
    return np.exp(np.interp(t * 1000, np.arange(1001), log_abar))


def _mixture_cdf(mix, t):
    """CDF of the 1-D mixture diffused to time t: components N(a mu, a^2 s^2 + 1 - a^2)."""
    w, m, s = (np.asarray(p, np.float64).reshape(-1) for p in mix)
    a2 = _abar(t)
    return lambda x: np.sum(w * stats.norm.cdf((x[:, None] - np.sqrt(a2) * m) / np.sqrt(a2 * s**2 + 1 - a2)), axis=1)


def _ks_p(samples, mix, t=0.0):
    return stats.kstest(np.asarray(samples[:, 0], np.float64), _mixture_cdf(mix, t)).pvalue


def _flow_map_error(key, method, steps, t_min=0.05):
    """Largest error of the ODE solution against the exact PF flow of Gaussian data N(m, S^2):
    (x(t) - a(t) m) / sd(t) is constant along the flow, sd(t)^2 = a^2 S^2 + 1 - a^2."""
    grid = dv.uniform_time_grid(steps, t_min)
    out = dv.ode_sample(key, dv.continuous_exact_eps_fn(LINEAR, GAUSS), LINEAR, (64, 2), grid, method=method, trajectory=True)
    m, S = np.asarray(GAUSS.means[0], np.float64), np.asarray(GAUSS.stds[0], np.float64)
    sd = lambda t: np.sqrt(_abar(t) * S**2 + 1 - _abar(t))
    x1 = np.asarray(out.path[0], np.float64)
    exact = np.sqrt(_abar(t_min)) * m + sd(t_min) / sd(1.0) * (x1 - np.sqrt(_abar(1.0)) * m)
    return np.max(np.abs(np.asarray(out.samples, np.float64) - exact)), out


def test_heun_follows_the_exact_flow_of_gaussian_data_at_second_order(key):
    err_20, out = _flow_map_error(key, "heun", 20)
    err_40, _ = _flow_map_error(key, "heun", 40)
    assert out.nfe == 40 and out.path.shape == (21, 64, 2)
    np.testing.assert_allclose(out.path[-1], out.samples)
    assert err_40 < 2e-3, err_40
    assert 3.0 < err_20 / err_40 < 6.0, (err_20, err_40)  # halving h quarters the error


def test_euler_follows_the_exact_flow_at_first_order(key):
    err_100, out = _flow_map_error(key, "euler", 100)
    err_200, _ = _flow_map_error(key, "euler", 200)
    assert out.nfe == 100
    assert err_200 < 2e-2, err_200
    assert 1.6 < err_100 / err_200 < 2.4, (err_100, err_200)


def test_continuous_oracle_is_the_discrete_one_at_grid_times(key):
    x = jax.random.normal(key, (50, 1)) * 2
    eps_fn = dv.continuous_exact_eps_fn(LINEAR, BIMODAL)
    for k in (1, 37, 500, 1000):
        np.testing.assert_allclose(eps_fn(x, jnp.float32(k / 1000)), dv.optimal_eps(LINEAR, BIMODAL, x, k), rtol=1e-4, atol=2e-5)


def test_model_adapter_calls_the_network_at_step_t_times_T(key):
    graphdef, params = dv.init_denoiser(key, dv.DenoiserConfig(dim=2, width=16, depth=1))
    x = jax.random.normal(key, (8, 2))
    eps_fn = dv.continuous_model_eps_fn(graphdef, params, 1000)
    for k in (1, 250, 1000):
        np.testing.assert_allclose(eps_fn(x, jnp.float32(k / 1000)), dv.apply_denoiser(graphdef, params, x, k), atol=1e-5)


@pytest.mark.parametrize(
    "run, nfe",
    [
        (lambda k, e: dv.ode_sample(k, e, LINEAR, (4000, 1), dv.uniform_time_grid(25)), 50),
        (lambda k, e: dv.sde_sample(k, e, LINEAR, (4000, 1), dv.uniform_time_grid(500)), 500),
        (lambda k, e: dv.pc_sample(k, e, LINEAR, (4000, 1), dv.uniform_time_grid(100), corrector_steps=2), 300),
    ],
    ids=["ode-heun", "sde", "pc"],
)
def test_samplers_with_the_oracle_sample_the_bimodal_mixture(key, run, nfe):
    out = run(key, dv.continuous_exact_eps_fn(LINEAR, BIMODAL))
    assert out.nfe == nfe and out.samples.shape == (4000, 1) and out.path is None
    t_min = 1e-3  # the samples are the marginal at t_min, a hair wider than the data
    assert _ks_p(out.samples, BIMODAL, t_min) > 1e-3
    assert _ks_p(out.samples, dv.mixture_1d("trimodal"), t_min) < 1e-6  # the check can tell mixtures apart


def test_langevin_samples_p_t_from_its_score_alone(key):
    t = 0.3
    x_init = 3.0 * jax.random.normal(key, (4000, 1))
    out = dv.langevin_sample(key, dv.continuous_exact_eps_fn(LINEAR, BIMODAL), LINEAR, x_init, t, step_size=0.01, num_steps=600)
    assert out.nfe == 600
    assert _ks_p(out.samples, BIMODAL, t) > 1e-3
    assert _ks_p(x_init, BIMODAL, t) < 1e-6


def test_langevin_does_not_cross_a_low_density_gap(key):
    """At small t the modes are separated: walkers started in the left one mostly stay there, far
    from the half that p_t puts in the right one (in 500 moves about 3% cross)."""
    x_init = jnp.full((500, 1), -0.95)
    out = dv.langevin_sample(key, dv.continuous_exact_eps_fn(LINEAR, BIMODAL), LINEAR, x_init, 0.01, step_size=0.002, num_steps=500)
    assert float(jnp.mean(out.samples > 0)) < 0.1


def test_a_new_grid_or_mixture_does_not_recompile(key):
    from diffviz import _continuous_sampling as cs

    dv.ode_sample(key, dv.continuous_exact_eps_fn(LINEAR, BIMODAL), LINEAR, (16, 1), dv.uniform_time_grid(5))
    before = cs._ode_kernel._cache_size()
    other = dv.mixture_1d("skewed")
    dv.ode_sample(key, dv.continuous_exact_eps_fn(LINEAR, other), LINEAR, (16, 1), dv.uniform_time_grid(5, 0.01))
    assert cs._ode_kernel._cache_size() == before


def test_power_grid():
    grid = np.asarray(dv.power_time_grid(4, 2.0, 0.01), np.float64)
    np.testing.assert_allclose(grid, 0.01 + 0.99 * np.array([1.0, 0.75, 0.5, 0.25, 0.0]) ** 2, rtol=1e-6)
    np.testing.assert_allclose(dv.power_time_grid(7, 1.0), dv.uniform_time_grid(7), rtol=1e-6)
    with pytest.raises(ValueError, match="power must be a finite number >= 1"):
        dv.power_time_grid(5, 0.5)
    with pytest.raises(ValueError, match="num_steps must be an integer >= 1"):
        dv.power_time_grid(0)


def test_bad_solver_input_is_refused(key):
    eps_fn = dv.continuous_exact_eps_fn(LINEAR, BIMODAL)
    run = lambda grid, **kw: dv.ode_sample(key, eps_fn, LINEAR, (4, 1), grid, **kw)
    with pytest.raises(ValueError, match="grid must be strictly decreasing"):
        run(jnp.asarray([0.1, 0.5, 1.0]))
    with pytest.raises(ValueError, match="grid must be strictly decreasing"):
        run(jnp.asarray([1.0, 0.5, 0.5]))
    with pytest.raises(ValueError, match="at least 2 times"):
        run(jnp.asarray([1.0]))
    with pytest.raises(ValueError, match=r"grid must be a time in \(0, 1\]"):
        run(jnp.asarray([1.2, 0.5]))
    with pytest.raises(ValueError, match=r"grid must be a time in \(0, 1\]"):
        run(jnp.asarray([1.0, 0.0]))
    with pytest.raises(ValueError, match="grid must be finite"):
        run(jnp.asarray([1.0, np.nan]))
    with pytest.raises(ValueError, match="method must be one of 'euler', 'heun'"):
        run(dv.uniform_time_grid(4), method="rk4")
    with pytest.raises(ValueError, match="num_steps must be an integer >= 1"):
        dv.uniform_time_grid(0)
    with pytest.raises(ValueError, match="t_min must be a number in"):
        dv.uniform_time_grid(10, t_min=0.0)
    with pytest.raises(ValueError, match="x_init must be finite"):
        dv.langevin_sample(key, eps_fn, LINEAR, jnp.asarray([[np.nan]]), 0.5, step_size=0.1, num_steps=3)
    with pytest.raises(ValueError, match=r"t must be a time in \(0, 1\]"):
        dv.langevin_sample(key, eps_fn, LINEAR, jnp.zeros((3, 1)), 0.0, step_size=0.1, num_steps=3)
    with pytest.raises(ValueError, match="step_size must be a finite number > 0"):
        dv.langevin_sample(key, eps_fn, LINEAR, jnp.zeros((3, 1)), 0.5, step_size=-0.1, num_steps=3)
    with pytest.raises(ValueError, match="snr must be a finite number > 0"):
        dv.pc_sample(key, eps_fn, LINEAR, (4, 1), dv.uniform_time_grid(4), snr=float("nan"))
    with pytest.raises(ValueError, match="corrector_steps must be an integer >= 0"):
        dv.pc_sample(key, eps_fn, LINEAR, (4, 1), dv.uniform_time_grid(4), corrector_steps=-1)
    with pytest.raises(ValueError, match="eps_fn must return an array shaped like x"):
        dv.sde_sample(key, lambda x, t: x[:, :0], LINEAR, (4, 1), dv.uniform_time_grid(4))
    with pytest.raises(ValueError, match="T must be an integer >= 1"):
        dv.continuous_model_eps_fn(object(), object(), 0)
