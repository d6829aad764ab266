"""The samplers against the exact answer: with the true eps* of a Gaussian mixture they must
give back that mixture.

The mixture's moments and CDF are computed here with NumPy/SciPy from its parameters, never
through diffviz. Single steps of a DDPM trajectory are checked against the update equation
written out in float64, and DDIM paths against an independent NumPy loop.
"""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jax.tree_util import Partial
from scipy import stats

import diffviz as dv

N = 10_000
SCHEDULE = dv.linear_schedule(1000)
BIMODAL = dv.mixture_1d("bimodal")


def _params(mix):
    return tuple(np.asarray(a, np.float64) for a in mix)  # weights (K,), means (K, d), stds (K, d)


def _mixture_moments_1d(mix):
    """Mean, variance and 4th central moment of a 1-D mixture, from its parameters."""
    w, m, s = (a.reshape(-1) if a.ndim > 1 else a for a in _params(mix))
    mean = np.sum(w * m)
    c = m - mean  # component means about the overall mean
    var = np.sum(w * (s**2 + c**2))
    m4 = np.sum(w * (c**4 + 6 * c**2 * s**2 + 3 * s**4))
    return mean, var, m4


def _mixture_cdf_1d(mix):
    w, m, s = _params(mix)
    return lambda x: np.sum(w * stats.norm.cdf((x[:, None] - m[:, 0]) / s[:, 0]), axis=1)


def _mixture_failures(x, mix, n_se=5.0, ks_p=1e-3):
    """Reasons why 1-D samples ``x`` (n,) do not look like ``mix``; empty when they do."""
    mean, var, m4 = _mixture_moments_1d(mix)
    n = x.shape[0]
    se_mean, se_var = np.sqrt(var / n), np.sqrt((m4 - var**2) / n)
    failures = []
    if not abs(x.mean() - mean) < n_se * se_mean:
        failures.append(f"mean {x.mean():.4f} vs {mean:.4f}")
    if not abs(x.var(ddof=1) - var) < n_se * se_var:
        failures.append(f"variance {x.var(ddof=1):.4f} vs {var:.4f}")
    p = stats.kstest(x, _mixture_cdf_1d(mix)).pvalue
    if not p > ks_p:
        failures.append(f"KS p-value {p:.2e}")
    return failures


def _zero_eps(x_t, t):
    return jnp.zeros_like(x_t)


# eps* of the bimodal mixture, to replay sampler steps outside the sampler (jitted: fast)
_bimodal_eps = jax.jit(lambda x_t, t: dv.optimal_eps(SCHEDULE, BIMODAL, x_t, t))


# --------------------------------------------------------------------------------------------
# DDPM reproduces the data with the exact eps*
# --------------------------------------------------------------------------------------------

SEED = 20260  # the same draws as the `key` fixture


@pytest.fixture(scope="module", params=["beta", "beta_tilde"])
def ddpm_path(request):
    """A full DDPM trajectory of N points of the bimodal mixture, sampled with the exact eps*."""
    eps_fn = dv.exact_eps_fn(SCHEDULE, BIMODAL)
    path = dv.ddpm_sample(jax.random.key(SEED), eps_fn, SCHEDULE, (N, 1), variance=request.param, trajectory=True)
    return request.param, path


def test_ddpm_with_exact_eps_reproduces_the_1d_mixture(ddpm_path):
    _, path = ddpm_path
    assert path.shape == (SCHEDULE.T + 1, N, 1) and path.dtype == jnp.float32
    assert _mixture_failures(np.asarray(path[0], np.float64)[:, 0], BIMODAL) == []
    # index T of the trajectory is the starting noise, N(0, 1)
    assert stats.kstest(np.asarray(path[SCHEDULE.T, :, 0]), "norm").pvalue > 1e-3


def test_an_untrained_zero_predictor_fails_the_same_check(key):
    """The check above can fail: with eps_hat = 0 each step only rescales, x_0 ~ x_T / sqrt(abar_T)."""
    x = np.asarray(dv.ddpm_sample(key, _zero_eps, SCHEDULE, (N, 1)), np.float64)[:, 0]
    failures = _mixture_failures(x, BIMODAL)
    assert any("variance" in f for f in failures) and any("KS" in f for f in failures), failures
    # and a sample of the mixture itself passes the same check
    data = np.asarray(dv.sample_mixture(key, BIMODAL, N), np.float64)[:, 0]
    assert _mixture_failures(data, BIMODAL) == []


def test_each_ddpm_step_follows_the_update_equation(ddpm_path):
    """Residuals of single steps of the trajectory, against the update written out in float64.

    z = (x_{t-1} - mu(x_t)) / sigma_t must be standard normal; using beta_t instead of
    sqrt(beta_t) as sigma_t (the classic bug) would give z a std of sqrt(beta_t) <= 0.14, and
    swapping the two variance choices changes the std of z by up to a factor 1.5 at t = 2.
    """
    variance, path = ddpm_path
    n = 4000  # points used; the steps of different points are independent
    b = np.asarray(SCHEDULE.betas, np.float64)
    abar = np.cumprod(1.0 - b)  # from the betas, independently of the schedule's own abar
    x = np.asarray(path[:, :n], np.float64)

    def mean_and_std(t):
        eps = np.asarray(_bimodal_eps(path[t, :n], t), np.float64)
        mu = (x[t] - b[t] / np.sqrt(1 - abar[t]) * eps) / np.sqrt(1 - b[t])
        var = b[t] if variance == "beta" else b[t] * (1 - abar[t - 1]) / (1 - abar[t])
        return mu, np.sqrt(var)

    z = []
    for t in (1000, 700, 300, 50, 2):
        mu, sigma = mean_and_std(t)
        z.append(((x[t - 1] - mu) / sigma).ravel())
    z = np.concatenate(z)
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03, (z.mean(), z.std())
    assert stats.kstest(z, "norm").pvalue > 1e-3
    mu, _ = mean_and_std(1)
    np.testing.assert_allclose(x[0], mu, atol=1e-4)  # no noise on the last step


def test_clipped_ddpm_is_the_same_sampler_when_the_clip_never_acts(key):
    """With clip_x0 far outside every estimate, the posterior-mean form equals the eps form."""
    eps_fn = dv.exact_eps_fn(SCHEDULE, BIMODAL)
    plain = np.asarray(dv.ddpm_sample(key, eps_fn, SCHEDULE, (2000, 1), variance="beta_tilde"))
    wide = np.asarray(dv.ddpm_sample(key, eps_fn, SCHEDULE, (2000, 1), variance="beta_tilde", clip_x0=(-1e6, 1e6)))
    np.testing.assert_allclose(wide, plain, rtol=0, atol=5e-4)  # rounding of the two forms: 7.7e-5 measured
    assert _mixture_failures(wide[:, 0].astype(np.float64), BIMODAL) == []


def test_clipping_x0_stops_runaway_samples(key):
    """The zero predictor never pulls a point back: unclipped, x_0 = x_T / sqrt(abar_T) (std ~160).

    Clipped, every step's mean is the posterior mean given an x0 estimate inside the range, and
    the last step's mean is that estimate itself, so the samples lie in the range.
    """
    loose = np.asarray(dv.ddpm_sample(key, _zero_eps, SCHEDULE, (N, 1)))
    assert np.abs(loose).max() > 100
    clipped = np.asarray(dv.ddpm_sample(key, _zero_eps, SCHEDULE, (N, 1), clip_x0=(-2.0, 3.0)))
    assert clipped.min() >= -2.0 and clipped.max() <= 3.0
    # and the clipped sampler still does the step it claims: its mean is the posterior mean
    # given clip(x0_hat) (float64, written out here), checked on one step of a trajectory
    path = np.asarray(dv.ddpm_sample(key, _bimodal_eps, SCHEDULE, (N, 1), clip_x0=(-0.5, 0.5), trajectory=True), np.float64)
    b = np.asarray(SCHEDULE.betas, np.float64)
    abar = np.cumprod(1.0 - b)
    t = 400
    eps = np.asarray(_bimodal_eps(jnp.asarray(path[t], jnp.float32), t), np.float64)
    x0_hat = np.clip((path[t] - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t]), -0.5, 0.5)
    mu = (np.sqrt(abar[t - 1]) * b[t] * x0_hat + np.sqrt(1 - b[t]) * (1 - abar[t - 1]) * path[t]) / (1 - abar[t])
    z = (path[t - 1] - mu) / np.sqrt(b[t])
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05 and stats.kstest(z[:, 0], "norm").pvalue > 1e-3


def test_ddpm_with_exact_eps_reproduces_the_2d_eight_gaussians(key):
    mix = dv.eight_gaussians_mixture()
    n = 4000
    x = np.asarray(dv.ddpm_sample(key, dv.exact_eps_fn(SCHEDULE, mix), SCHEDULE, (n, 2)), np.float64)
    w, m, s = _params(mix)
    mean = w @ m  # (2,)
    cov = (m - mean).T @ np.diag(w) @ (m - mean) + np.diag(w @ s**2)  # (2, 2)
    se = np.sqrt(np.diag(cov) / n)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * se)
    # Var of a sample covariance entry is about (E[x_i^2 x_j^2] - cov_ij^2)/n; < 2/n here.
    np.testing.assert_allclose(np.cov(x.T), cov, atol=5 * np.sqrt(2.0 / n))
    # beyond moments: equal mass on the 8 modes, and the right spread around each of them
    dist = np.linalg.norm(x[:, None, :] - m[None, :, :], axis=-1)  # (n, 8)
    counts = np.bincount(dist.argmin(1), minlength=8)
    assert stats.chisquare(counts, n * w).pvalue > 1e-3, counts
    # distance to the nearest mean is Rayleigh(s): mean s * sqrt(pi/2) (the modes barely overlap)
    assert dist.min(1).mean() == pytest.approx(s[0, 0] * np.sqrt(np.pi / 2), rel=0.05)


# --------------------------------------------------------------------------------------------
# DDIM
# --------------------------------------------------------------------------------------------


def test_ddim_deterministic_with_exact_eps_is_close_to_the_mixture(key):
    """50 DDIM steps with eta = 0: deterministic given x_T, and close to the mixture.

    50 steps are a coarse discretisation of the probability-flow ODE, and its bias is not
    Monte Carlo noise: measured, the variance comes out about 4% low at 50 steps (0.95-0.96
    against 0.9925) and approaches the truth as the steps grow (0.989 at 200, 0.998 at 1000).
    So the variance gets a tolerance of 0.08 (still far from a collapsed or untrained
    sampler), and the test checks that more steps shrink the error, which a discretisation
    bias does and a wrong update would not.

    The path is then replayed from its x_T by an independent float64 NumPy loop.
    """
    eps_fn = dv.exact_eps_fn(SCHEDULE, BIMODAL)
    mean, var, _ = _mixture_moments_1d(BIMODAL)
    path = dv.ddim_sample(key, eps_fn, SCHEDULE, (N, 1), num_steps=50, trajectory=True)
    assert path.shape == (51, N, 1)
    x50 = np.asarray(path[0], np.float64)
    again = dv.ddim_sample(key, dv.exact_eps_fn(SCHEDULE, BIMODAL), SCHEDULE, (N, 1), num_steps=50, trajectory=True)
    np.testing.assert_array_equal(path, again)
    assert abs(x50.mean() - mean) < 0.05
    assert abs(x50.var() - var) < 0.08, x50.var()
    x200 = np.asarray(dv.ddim_sample(key, eps_fn, SCHEDULE, (N, 1), num_steps=200), np.float64)
    assert abs(x200.var() - var) < abs(x50.var() - var)
    assert abs(x200.var() - var) < 0.03

    n = 256  # replay: each point's path depends only on its own x_T
    times = [0] + list(range(20, 1001, 20))  # T = 1000, 50 steps: 20, 40, ..., 1000
    abar = np.concatenate([[1.0], np.cumprod(1.0 - np.asarray(SCHEDULE.betas[1:], np.float64))])
    x = np.asarray(path[-1, :n], np.float64)  # x_T
    for i in range(50, 0, -1):
        t, s = times[i], times[i - 1]
        eps = np.asarray(_bimodal_eps(jnp.asarray(x, jnp.float32), t), np.float64)
        x0 = (x - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t])
        x = np.sqrt(abar[s]) * x0 + np.sqrt(1 - abar[s]) * eps
        np.testing.assert_allclose(path[i - 1, :n], x, atol=2e-3, err_msg=f"step {t} -> {s}")


@given(T=st.integers(1, 2000), data=st.data())
def test_ddim_timesteps_are_evenly_spaced_increasing_and_end_at_T(T, data):
    num_steps = data.draw(st.integers(1, T))
    ts = np.asarray(dv.ddim_timesteps(T, num_steps))
    assert ts.dtype == np.int32 and ts.shape == (num_steps,)
    assert ts[0] >= 1 and ts[-1] == T and np.all(np.diff(ts) >= 1)
    spacing = T / num_steps
    assert np.all(np.abs(np.diff(ts) - spacing) < 1)  # evenly spaced up to rounding


def test_ddim_timesteps_examples():
    np.testing.assert_array_equal(dv.ddim_timesteps(1000, 50), np.arange(20, 1001, 20))
    np.testing.assert_array_equal(dv.ddim_timesteps(10, 3), [3, 6, 10])
    np.testing.assert_array_equal(dv.ddim_timesteps(7, 7), np.arange(1, 8))
    np.testing.assert_array_equal(dv.ddim_timesteps(7, 1), [7])


# --------------------------------------------------------------------------------------------
# Layouts, keys, compilation (all on one small configuration: few compilations)
# --------------------------------------------------------------------------------------------

SMALL = dv.linear_schedule(20)
SHAPE = (16, 1)
STEPS = 20  # DDIM steps on SMALL: every step, so that eta = 1 is ancestral sampling


def test_trajectory_layouts_and_shapes(key):
    eps_fn = dv.exact_eps_fn(SMALL, BIMODAL)
    x0 = dv.ddpm_sample(key, eps_fn, SMALL, SHAPE)
    path = dv.ddpm_sample(key, eps_fn, SMALL, SHAPE, trajectory=True)
    assert x0.shape == SHAPE and x0.dtype == jnp.float32
    assert path.shape == (SMALL.T + 1, *SHAPE) and path.dtype == jnp.float32
    np.testing.assert_allclose(path[0], x0, atol=1e-5)  # index 0 is the sample
    ddim_x0 = dv.ddim_sample(key, eps_fn, SMALL, SHAPE, num_steps=STEPS, eta=0.3)
    ddim_path = dv.ddim_sample(key, eps_fn, SMALL, SHAPE, num_steps=STEPS, eta=0.3, trajectory=True)
    assert ddim_path.shape == (STEPS + 1, *SHAPE)
    np.testing.assert_array_equal(ddim_path[-1], path[SMALL.T])  # both start from the same x_T
    np.testing.assert_allclose(ddim_path[0], ddim_x0, atol=1e-5)  # index 0 is the sample


def test_ddim_with_eta_1_and_every_step_is_ancestral_sampling(key):
    """eta = 1 and num_steps = T give sigma^2 = beta_tilde and the DDPM posterior mean.

    Both samplers draw x_T and the noise of the step leaving t from the same key in the same
    way, so with the same key DDIM must agree with DDPM(beta_tilde) up to float32 rounding,
    and not with DDPM(beta) (the same noise, scaled differently).
    """
    eps_fn = dv.exact_eps_fn(SMALL, BIMODAL)
    ddim = np.asarray(dv.ddim_sample(key, eps_fn, SMALL, SHAPE, num_steps=STEPS, eta=1.0))
    tilde = np.asarray(dv.ddpm_sample(key, eps_fn, SMALL, SHAPE, variance="beta_tilde"))
    beta = np.asarray(dv.ddpm_sample(key, eps_fn, SMALL, SHAPE))
    np.testing.assert_allclose(ddim, tilde, atol=1e-4)
    assert np.median(np.abs(ddim - beta)) > 1e-2


def test_clipped_ddim_with_eta_1_and_every_step_is_clipped_ancestral_sampling(key):
    """The DDIM clip (clip x0_hat, recompute eps from it) is the DDPM clip (posterior mean given
    the clipped x0_hat): with eta = 1 and every step the two samplers must agree, on a predictor
    whose estimates the clip cuts at nearly every step (the bimodal means are at -1 and 1)."""
    eps_fn = dv.exact_eps_fn(SMALL, BIMODAL)
    shape = (2000, 1)
    ddim = np.asarray(dv.ddim_sample(key, eps_fn, SMALL, shape, num_steps=STEPS, eta=1.0, clip_x0=(-0.5, 0.5)))
    tilde = np.asarray(dv.ddpm_sample(key, eps_fn, SMALL, shape, variance="beta_tilde", clip_x0=(-0.5, 0.5)))
    np.testing.assert_allclose(ddim, tilde, atol=1e-4)
    unclipped = np.asarray(dv.ddim_sample(key, eps_fn, SMALL, shape, num_steps=STEPS, eta=1.0))
    assert np.mean(np.abs(unclipped) > 0.5) > 0.5  # the clip acts on most points
    assert ddim.min() >= -0.5 and ddim.max() <= 0.5


def test_clipped_ddim_keeps_a_zero_predictor_in_range_and_replays_in_float64(key):
    """With eps_hat = 0, eta = 0 and no clip, DDIM returns x_T / sqrt(abar_T) (std ~160); with
    the clip every step re-noises a clipped estimate, and the sample is that estimate.

    A 10-step path is then replayed by a float64 NumPy loop written from the docstring."""
    loose = np.asarray(dv.ddim_sample(key, _zero_eps, SCHEDULE, (N, 1), num_steps=10))
    assert np.abs(loose).max() > 100
    path = np.asarray(dv.ddim_sample(key, _bimodal_eps, SCHEDULE, (N, 1), num_steps=10, eta=0.5, clip_x0=(-2.0, 0.5), trajectory=True), np.float64)
    assert path[0].min() >= -2.0 and path[0].max() <= 0.5
    zero = np.asarray(dv.ddim_sample(key, _zero_eps, SCHEDULE, (N, 1), num_steps=10, clip_x0=(-2.0, 3.0)))
    assert zero.min() >= -2.0 and zero.max() <= 3.0

    # replay with eta = 0.5: the noise z of each step is read off the path (it is the only
    # unknown), so check that it is standard normal and that the deterministic part matches
    abar = np.concatenate([[1.0], np.cumprod(1.0 - np.asarray(SCHEDULE.betas[1:], np.float64))])
    times = [0] + list(range(100, 1001, 100))
    for i in (10, 6, 2):
        t, s = times[i], times[i - 1]
        x = path[i]
        eps = np.asarray(_bimodal_eps(jnp.asarray(x, jnp.float32), t), np.float64)
        x0 = np.clip((x - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t]), -2.0, 0.5)
        eps = (x - np.sqrt(abar[t]) * x0) / np.sqrt(1 - abar[t])
        var = 0.25 * (1 - abar[s]) / (1 - abar[t]) * (1 - abar[t] / abar[s])
        mean = np.sqrt(abar[s]) * x0 + np.sqrt(1 - abar[s] - var) * eps
        z = (path[i - 1] - mean) / np.sqrt(var)
        assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05, (t, z.mean(), z.std())
        assert stats.kstest(z[:, 0], "norm").pvalue > 1e-3, t
    # the last step (s = 0) has no noise: the sample is the clipped estimate itself
    x, t = path[1], times[1]
    eps = np.asarray(_bimodal_eps(jnp.asarray(x, jnp.float32), t), np.float64)
    x0 = np.clip((x - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t]), -2.0, 0.5)
    np.testing.assert_allclose(path[0], x0, atol=1e-4)


def test_same_key_same_samples_and_different_keys_differ(key):
    eps_fn = dv.exact_eps_fn(SMALL, BIMODAL)
    k1, k2 = jax.random.split(key)
    for sample in (
        lambda k: dv.ddpm_sample(k, eps_fn, SMALL, SHAPE),
        lambda k: dv.ddim_sample(k, eps_fn, SMALL, SHAPE, num_steps=STEPS, eta=0.5),
    ):
        np.testing.assert_array_equal(sample(k1), sample(k1))
        assert not np.allclose(sample(k1), sample(k2))
    # the same x_T with eta = 0 and eta = 1: different results (eta is used)
    a0 = dv.ddim_sample(k1, eps_fn, SMALL, SHAPE, num_steps=STEPS, eta=0.0)
    assert not np.allclose(a0, dv.ddim_sample(k1, eps_fn, SMALL, SHAPE, num_steps=STEPS, eta=1.0))
    # a legacy uint32[2] key gives the same draws as the typed key it stands for
    legacy = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(
        dv.ddpm_sample(legacy, eps_fn, SMALL, SHAPE), dv.ddpm_sample(jax.random.wrap_key_data(legacy), eps_fn, SMALL, SHAPE)
    )


TRACES = []


def _counting_eps(schedule, mix, x_t, t):
    TRACES.append(1)  # runs once per trace, not once per call
    return dv.optimal_eps(schedule, mix, x_t, t)


@contextlib.contextmanager
def _jit_traces():
    """The names of the functions ``jax.jit`` traces inside the block, from JAX's public
    compile events (``jax.monitoring``): a jitted function is traced only on a cache miss,
    i.e. when it is about to be compiled anew."""
    names = []

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/jaxpr_trace_duration":
            names.append(kwargs.get("fun_name", "?"))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def test_samplers_compile_once_for_new_predictors_and_keys(key):
    TRACES.clear()
    for i in range(3):
        dv.ddpm_sample(jax.random.fold_in(key, i), Partial(_counting_eps, SMALL, BIMODAL), SMALL, SHAPE)
    assert len(TRACES) == 1
    # the public exact predictor, rebuilt for every call (even from another schedule of the
    # same length) and a new eta: no new compilation
    dv.ddpm_sample(key, dv.exact_eps_fn(SMALL, BIMODAL), SMALL, SHAPE)
    dv.ddim_sample(key, dv.exact_eps_fn(SMALL, BIMODAL), SMALL, SHAPE, num_steps=STEPS, eta=0.0)
    other = dv.linear_schedule(20, beta_end=0.03)
    k9 = jax.random.fold_in(key, 9)
    with _jit_traces() as traced:
        dv.ddpm_sample(k9, dv.exact_eps_fn(other, BIMODAL), other, SHAPE)
        dv.ddim_sample(k9, dv.exact_eps_fn(SMALL, BIMODAL), SMALL, SHAPE, num_steps=STEPS, eta=0.7)
    assert traced == [], traced
    # the check can fail: a new static option (another number of steps) is a new compilation
    with _jit_traces() as traced:
        dv.ddim_sample(k9, dv.exact_eps_fn(SMALL, BIMODAL), SMALL, SHAPE, num_steps=STEPS - 1, eta=0.7)
    assert traced, "a new num_steps should have compiled the DDIM kernel anew"


def test_model_eps_fn_runs_with_an_initialised_denoiser(key):
    graphdef, params = dv.init_denoiser(jax.random.key(0), dv.DenoiserConfig(dim=2))
    eps_fn = dv.model_eps_fn(graphdef, params)
    # any sample shape (..., d) works; the predictor sees exactly that shape
    out = dv.ddpm_sample(key, eps_fn, SMALL, (2, 4, 2), trajectory=True)
    assert out.shape == (SMALL.T + 1, 2, 4, 2) and out.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(out)))


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------

S = dv.linear_schedule(10)
EPS = dv.exact_eps_fn(S, BIMODAL)
K = jax.random.key(0)

BAD = {
    "key None": (lambda: dv.ddpm_sample(None, EPS, S, (4, 1)), r"key must be a JAX PRNG key"),
    "key int": (lambda: dv.ddim_sample(3, EPS, S, (4, 1), num_steps=2), r"key must be a JAX PRNG key"),
    "eps_fn": (lambda: dv.ddpm_sample(K, "eps", S, (4, 1)), r"eps_fn must be a callable"),
    "eps_fn shape": (lambda: dv.ddpm_sample(K, lambda x, t: x[:, :0], S, (4, 1)), r"eps_fn must return an array shaped like x_t"),
    "schedule": (lambda: dv.ddpm_sample(K, EPS, S.betas, (4, 1)), r"schedule must be a Schedule"),
    "shape int": (lambda: dv.ddpm_sample(K, EPS, S, 4), r"shape must be a tuple of positive ints"),
    "shape empty": (lambda: dv.ddpm_sample(K, EPS, S, ()), r"shape must be a tuple of positive ints"),
    "shape zero": (lambda: dv.ddpm_sample(K, EPS, S, (0, 1)), r"shape must be a tuple of positive ints"),
    "shape float": (lambda: dv.ddim_sample(K, EPS, S, (4.0, 1), num_steps=2), r"shape must be a tuple of positive ints"),
    "variance": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), variance="sigma"), r"variance must be one of 'beta', 'beta_tilde'; got 'sigma'"),
    "trajectory": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), trajectory="yes"), r"trajectory must be True or False"),
    "clip_x0 order": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), clip_x0=(1.0, -1.0)), r"clip_x0 must be None or a pair \(low, high\) of finite numbers with low < high; got \(1.0, -1.0\)"),
    "clip_x0 scalar": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), clip_x0=2.0), r"clip_x0 must be None or a pair"),
    "clip_x0 nan": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), clip_x0=(float("nan"), 1.0)), r"clip_x0 must be None or a pair"),
    "clip_x0 three": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), clip_x0=(0, 1, 2)), r"clip_x0 must be None or a pair"),
    "clip_x0 bools": (lambda: dv.ddpm_sample(K, EPS, S, (4, 1), clip_x0=(False, True)), r"clip_x0 must be None or a pair"),
    "ddim clip_x0": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=2, clip_x0=(0.0, 0.0)), r"clip_x0 must be None or a pair \(low, high\) of finite numbers with low < high; got \(0.0, 0.0\)"),
    "num_steps 0": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=0), r"num_steps must be an integer in 1\.\.T = 1\.\.10; got 0"),
    "num_steps > T": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=11), r"num_steps must be an integer in 1\.\.T = 1\.\.10; got 11"),
    "num_steps float": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=5.0), r"num_steps must be an integer"),
    "eta > 1": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=2, eta=1.5), r"eta must be a finite number in \[0, 1\]; got 1.5"),
    "eta < 0": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=2, eta=-0.1), r"eta must be a finite number in \[0, 1\]"),
    "eta nan": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=2, eta=float("nan")), r"eta must be a finite number in \[0, 1\]; got nan"),
    "eta str": (lambda: dv.ddim_sample(K, EPS, S, (4, 1), num_steps=2, eta="0"), r"eta must be a number in \[0, 1\]"),
    "timesteps T": (lambda: dv.ddim_timesteps(0, 1), r"T must be an integer >= 1; got 0"),
    "timesteps num_steps": (lambda: dv.ddim_timesteps(10, 20), r"num_steps must be an integer in 1\.\.T = 1\.\.10; got 20"),
    "exact mix": (lambda: dv.exact_eps_fn(S, [0.5, 0.5]), r"mix must be a GaussianMixture"),
    "exact schedule": (lambda: dv.exact_eps_fn("linear", BIMODAL), r"schedule must be a Schedule"),
    "model None": (lambda: dv.model_eps_fn(None, None), r"graphdef and params"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_a_named_value_error(case):
    call, pattern = BAD[case]
    with pytest.raises(ValueError, match=pattern):
        call()
