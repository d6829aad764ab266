"""The likelihood by the ODE against exact log-densities: Gaussian mixtures in 1-D and 2-D at
the default settings, and Gaussian data at a large t_min, where every term of the returned
formula (the sqrt(alpha_bar) scaling, the d/2 log alpha_bar correction, the prior) matters.
The exact densities are written out here with SciPy, never through diffviz. The data are
centred: the prior N(0, I) at t = 1 is off by about sqrt(alpha_bar(1)) E[x0].x(1) otherwise
(0.006 |E[x0]| |x(1)| nats for the linear schedule).
"""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import diffviz as dv

LINEAR = dv.linear_schedule(1000)
MIXTURES = {
    "bimodal": dv.mixture_1d("bimodal"),
    "skewed": dv.mixture_1d("skewed"),
    "eight": dv.eight_gaussians_mixture(),
    "anisotropic": dv.gaussian_mixture([0.5, 0.5], [[-1.0, 0.5], [1.0, -0.5]], [[0.3, 0.6], [0.5, 0.2]]),
}


def _log_density(mix, x, a=1.0):
    """log of sum_k w_k N(x; a mu_k, diag(a^2 S_k^2 + 1 - a^2)), in float64 with SciPy."""
    w, m, s = (np.asarray(p, np.float64) for p in mix)
    sd = np.sqrt(a**2 * s**2 + 1 - a**2)  # (K, d)
    comp = stats.norm.logpdf(np.asarray(x, np.float64)[:, None, :], a * m[None], sd[None]).sum(axis=2)  # (n, K)
    return logsumexp(np.log(w)[None] + comp, axis=1)


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_exact_score_gives_the_mixtures_log_density_within_001_nats(key, name):
    mix = MIXTURES[name]
    x = dv.sample_mixture(key, mix, 300)
    out = dv.ode_log_prob(dv.continuous_exact_eps_fn(LINEAR, mix), LINEAR, x)
    err = np.abs(np.asarray(out.log_prob, np.float64) - _log_density(mix, x))
    assert out.nfe == 400 and out.latent.shape == x.shape
    assert err.max() < 0.01, (err.max(), err.mean())


def test_at_a_large_t_min_it_is_log_p_t_min_of_the_scaled_point_plus_the_correction(key):
    """Gaussian data: log p_0(x) ~ log p_tmin(sqrt(abar) x) + d/2 log abar, each term known exactly."""
    mix = dv.gaussian_mixture([1.0], [[0.0, 0.0]], [[0.4, 1.5]])
    x = dv.sample_mixture(key, mix, 50)
    t_min = 0.3
    log_abar = -np.sum(-np.log1p(-np.linspace(1e-4, 0.02, 1000))[:300])  # abar(0.3) = abar_300
    a = np.exp(0.5 * log_abar)
    expected = _log_density(mix, a * np.asarray(x, np.float64), a) + 0.5 * 2 * log_abar
    out = dv.ode_log_prob(dv.continuous_exact_eps_fn(LINEAR, mix), LINEAR, x, t_min=t_min)
    np.testing.assert_allclose(out.log_prob, expected, atol=2e-3)


def test_euler_converges_to_the_same_answer_more_slowly(key):
    mix = MIXTURES["bimodal"]
    x = dv.sample_mixture(key, mix, 100)
    eps_fn = dv.continuous_exact_eps_fn(LINEAR, mix)
    exact = _log_density(mix, x)
    errs = [np.abs(np.asarray(dv.ode_log_prob(eps_fn, LINEAR, x, num_steps=n, method="euler").log_prob) - exact).mean() for n in (200, 400)]
    assert errs[1] < errs[0] < 0.1 and 1.5 < errs[0] / errs[1] < 2.5, errs


def test_works_with_a_network(key):
    graphdef, params = dv.init_denoiser(key, dv.DenoiserConfig(dim=2, width=16, depth=1))
    out = dv.ode_log_prob(dv.continuous_model_eps_fn(graphdef, params, 1000), LINEAR, jnp.zeros((5, 2)), num_steps=10, t_min=1e-3)
    assert out.log_prob.shape == (5,) and bool(jnp.all(jnp.isfinite(out.log_prob)))


def test_bad_input_is_refused():
    eps_fn = dv.continuous_exact_eps_fn(LINEAR, MIXTURES["bimodal"])
    x = jnp.zeros((3, 1))
    with pytest.raises(ValueError, match="x must be finite"):
        dv.ode_log_prob(eps_fn, LINEAR, jnp.asarray([[np.nan]]))
    with pytest.raises(ValueError, match=r"x must have shape \(n, d\)"):
        dv.ode_log_prob(eps_fn, LINEAR, jnp.zeros(3))
    with pytest.raises(ValueError, match="num_steps must be an integer >= 1"):
        dv.ode_log_prob(eps_fn, LINEAR, x, num_steps=0)
    for t_min in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match=r"t_min must be a number in the open interval \(0, 1\)"):
            dv.ode_log_prob(eps_fn, LINEAR, x, t_min=t_min)
    with pytest.raises(ValueError, match="method must be one of 'euler', 'heun'"):
        dv.ode_log_prob(eps_fn, LINEAR, x, method="rk45")
    with pytest.raises(ValueError, match="schedule must be a Schedule"):
        dv.ode_log_prob(eps_fn, None, x)
