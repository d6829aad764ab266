"""The training objectives and the reverse step they score: the simple epsilon loss, the
variational bound (term by term against float64 NumPy and against the exact -log p(x0) of
mixture data), and the ValueErrors of their public boundary."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.tree_util import Partial

import diffviz as dv

S = dv.linear_schedule(1000)
MIX = dv.mixture_1d("bimodal")


def test_variational_bound_with_the_exact_eps_is_a_tight_upper_bound():
    """With eps = eps*, the bound must sit at or above the exact -log p(x0) of the mixture data.

    The mixture's exact log-density is an independent computation; with T = 1000 and
    sigma_t^2 = beta_t the gap is small (a few hundredths of a nat here).
    """
    n = 8000
    x0 = dv.sample_mixture(jax.random.key(5), MIX, n)
    eps_exact = lambda x, t: dv.optimal_eps(S, MIX, x[None], t)[0]
    keys = jax.random.split(jax.random.key(6), n)
    nll = -np.asarray(dv.mixture_log_prob(MIX, x0), np.float64)
    for variance, max_gap in (("beta", 0.05), ("beta_tilde", 1.0)):
        terms = jax.jit(jax.vmap(lambda k, x, v=variance: dv.variational_bound(k, eps_exact, S, x, variance=v)))(keys, x0)
        gap = np.asarray(terms.total, np.float64) - nll
        se = gap.std() / np.sqrt(n)
        assert gap.mean() > -3 * se, (variance, gap.mean(), se)
        assert gap.mean() < max_gap, (variance, gap.mean())
    # A bad predictor (zeros) gives a much looser bound: the check can fail.
    zeros = lambda x, t: jnp.zeros_like(x)
    bad = jax.jit(jax.vmap(lambda k, x: dv.variational_bound(k, zeros, S, x)))(keys[:500], x0[:500])
    assert float(jnp.mean(bad.total)) > nll[:500].mean() + 1.0
    bits = dv.nats_to_bits_per_dim(terms.total.mean(), 1)
    assert float(bits) == pytest.approx(float(terms.total.mean()) / np.log(2), rel=1e-6)


@pytest.mark.parametrize("schedule", [dv.linear_schedule(50), dv.cosine_schedule(20)], ids=["linear50", "cosine20"])
@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_variational_bound_terms_with_an_oracle_that_knows_x0(schedule, variance, key):
    """Term by term, with no Monte Carlo error. An oracle predicting the true noise of each
    draw, eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t), makes mu_theta equal the posterior
    mean, so every term is a fixed number, computed here in float64 from the schedule's arrays:
    L_{t-1} = d/2 (r - 1 - log r) with r = beta-tilde_t / sigma_t^2 (0 for sigma^2 = beta-tilde),
    L_0 = d/2 log(2 pi beta_1), and L_T the closed-form prior KL. Linear with T = 50 leaves
    L_T = 0.98 nats for this x0 (at T = 1000 it is 2e-5 nats, under any Monte Carlo error);
    cosine with T = 20 takes big steps, where beta and beta-tilde differ most."""
    x0 = jnp.array([0.7, -1.3], jnp.float32)
    d = x0.shape[0]
    abar = np.asarray(schedule.alpha_bars, np.float64)
    om = np.asarray(schedule.one_minus_alpha_bars, np.float64)
    beta = np.asarray(schedule.betas, np.float64)

    def oracle(x, t):
        return (x - jnp.sqrt(schedule.alpha_bars[t]) * x0) / jnp.sqrt(schedule.one_minus_alpha_bars[t])

    terms = dv.variational_bound(key, oracle, schedule, x0, variance=variance)
    t = np.arange(2, schedule.T + 1)
    beta_tilde = beta[t] * om[t - 1] / om[t]
    r = beta_tilde / (beta[t] if variance == "beta" else beta_tilde)
    diffusion = 0.5 * d * np.sum(r - 1 - np.log(r))
    decoder = 0.5 * d * np.log(2 * np.pi * beta[1])
    x0_64 = np.asarray(x0, np.float64)
    prior = 0.5 * np.sum(abar[-1] * x0_64**2 - abar[-1] - np.log(om[-1]))
    assert float(terms.prior) == pytest.approx(prior, rel=1e-4, abs=1e-6)
    assert float(terms.diffusion) == pytest.approx(diffusion, rel=1e-3, abs=1e-4)
    assert float(terms.decoder) == pytest.approx(decoder, rel=1e-4, abs=1e-4)
    assert float(terms.total) == pytest.approx(prior + diffusion + decoder, rel=1e-3, abs=1e-4)


def test_eps_loss_is_zero_for_the_true_noise_and_matches_a_direct_computation():
    x0, eps, t = jnp.asarray([0.5, -1.0]), jnp.asarray([0.3, 1.2]), 400
    abar = float(S.alpha_bars[t])
    x_t = np.sqrt(abar) * np.asarray(x0) + np.sqrt(1 - abar) * np.asarray(eps)
    oracle = lambda x, s: (x - jnp.sqrt(S.alpha_bars[s]) * x0) / jnp.sqrt(S.one_minus_alpha_bars[s])
    assert float(dv.eps_loss(oracle, S, x0, t, eps)) == pytest.approx(0.0, abs=1e-8)
    zero = lambda x, s: jnp.zeros_like(x)
    assert float(dv.eps_loss(zero, S, x0, t, eps)) == pytest.approx(float(np.mean(np.asarray(eps) ** 2)), rel=1e-6)
    shifted = lambda x, s: x
    assert float(dv.eps_loss(shifted, S, x0, t, eps)) == pytest.approx(float(np.mean((x_t - np.asarray(eps)) ** 2)), rel=1e-5)


def test_batch_loss_draws_t_uniformly_from_1_to_T():
    """A predictor that answers t itself makes the loss (t - eps)^2, whose batch mean is
    E[t^2] + 1: 39.5 for t uniform on 1..10, 29.5 on 0..9 and 36 on 0..10 (s.e. here ~0.1)."""
    s = dv.constant_schedule(0.1, 10)
    says_t = lambda x, t: jnp.full_like(x, t)
    loss = float(dv.batch_eps_loss(jax.random.key(2), says_t, s, jnp.zeros((100_000, 1))))
    assert loss == pytest.approx(11 * 21 / 6 + 1, abs=0.5)


def test_batch_loss_of_the_zero_predictor_is_the_noise_variance():
    zero = lambda x, s: jnp.zeros_like(x)
    x0 = jnp.zeros((20_000, 2))
    assert float(dv.batch_eps_loss(jax.random.key(0), zero, S, x0)) == pytest.approx(1.0, abs=0.03)


# --------------------------------------------------------------------------------------------
# The public boundary: bad input raises a ValueError naming the parameter
# --------------------------------------------------------------------------------------------

SMALL = dv.linear_schedule(10)
K = jax.random.key(0)
X1 = jnp.asarray([0.5, -1.0])  # one example (d,)
XB = jnp.zeros((4, 2))  # a batch (n, d)
NAN1 = jnp.asarray([0.0, jnp.nan])
ZERO = lambda x, t: jnp.zeros_like(x)

BAD = {
    # eps_loss(eps_fn, schedule, x0, t, eps)
    "eps_loss eps_fn": (lambda: dv.eps_loss("net", SMALL, X1, 3, X1), r"eps_fn must be a callable eps_fn\(x_t, t\) -> eps_hat; got str"),
    "eps_loss t=0": (lambda: dv.eps_loss(ZERO, SMALL, X1, 0, X1), r"t must be an integer time step in 1\.\.10; got 0"),
    "eps_loss t=T+1": (lambda: dv.eps_loss(ZERO, SMALL, X1, 11, X1), r"t must be an integer time step in 1\.\.10; got 11"),
    "eps_loss t float": (lambda: dv.eps_loss(ZERO, SMALL, X1, 2.5, X1), r"t must be an integer time step in 1\.\.10; got the float 2.5"),
    "eps_loss x0 batch": (lambda: dv.eps_loss(ZERO, SMALL, XB, 3, XB), r"x0 must be one example of shape \(d,\) \(use jax.vmap for a batch\); got shape \(4, 2\)"),
    "eps_loss x0 nan": (lambda: dv.eps_loss(ZERO, SMALL, NAN1, 3, X1), r"x0 must be finite; it holds 1 NaN"),
    "eps_loss eps shape": (lambda: dv.eps_loss(ZERO, SMALL, X1, 3, jnp.zeros(3)), r"eps must have shape \(2,\) \(the shape of x0\); got \(3,\)"),
    "eps_loss eps nan": (lambda: dv.eps_loss(ZERO, SMALL, X1, 3, NAN1), r"eps must be finite"),
    "eps_loss answer shape": (lambda: dv.eps_loss(lambda x, t: x[:1], SMALL, X1, 3, X1), r"eps_fn must return an array shaped like x_t \(2,\); got shape \(1,\)"),
    # batch_eps_loss(key, eps_fn, schedule, x0)
    "batch key None": (lambda: dv.batch_eps_loss(None, ZERO, SMALL, XB), r"key must be a JAX PRNG key"),
    "batch old order": (lambda: dv.batch_eps_loss(ZERO, SMALL, XB, K), r"key must be a JAX PRNG key .*got function"),
    "batch eps_fn": (lambda: dv.batch_eps_loss(K, SMALL, SMALL, XB), r"eps_fn must be a callable"),
    "batch x0 1-D": (lambda: dv.batch_eps_loss(K, ZERO, SMALL, X1), r"x0 must have shape \(n, d\) with n, d >= 1 \(a set of points\); got \(2,\)"),
    "batch x0 empty": (lambda: dv.batch_eps_loss(K, ZERO, SMALL, jnp.zeros((0, 2))), r"x0 must have shape \(n, d\) with n, d >= 1"),
    "batch x0 nan": (lambda: dv.batch_eps_loss(K, ZERO, SMALL, NAN1[:, None]), r"x0 must be finite"),
    "batch answer shape": (lambda: dv.batch_eps_loss(K, lambda x, t: x[:1], SMALL, XB), r"eps_fn must return an array shaped like x_t \(2,\); got shape \(1,\)"),
    # variational_bound(key, eps_fn, schedule, x0, *, variance)
    "bound variance": (lambda: dv.variational_bound(K, ZERO, SMALL, X1, variance="sigma"), r"variance must be one of 'beta', 'beta_tilde'; got 'sigma'"),
    "bound T=1": (lambda: dv.variational_bound(K, ZERO, dv.constant_schedule(0.1, 1), X1), r"schedule.T must be >= 2 for the variational bound; got 1"),
    "bound key": (lambda: dv.variational_bound(0, ZERO, SMALL, X1), r"key must be a JAX PRNG key"),
    "bound eps_fn": (lambda: dv.variational_bound(K, None, SMALL, X1), r"eps_fn must be a callable .*got NoneType"),
    "bound x0 batch": (lambda: dv.variational_bound(K, ZERO, SMALL, XB), r"x0 must be one example of shape \(d,\)"),
    "bound x0 nan": (lambda: dv.variational_bound(K, ZERO, SMALL, NAN1), r"x0 must be finite"),
    # reverse_mean(schedule, eps_hat, x_t, t), reverse_variance(schedule, t, variance)
    "mean t=0": (lambda: dv.reverse_mean(SMALL, X1, X1, 0), r"t must be an integer time step in 1\.\.10; got 0"),
    "mean t=T+1": (lambda: dv.reverse_mean(SMALL, X1, X1, jnp.int32(11)), r"t must be an integer time step in 1\.\.10; got 11"),
    "mean eps_hat shape": (lambda: dv.reverse_mean(SMALL, jnp.zeros(3), X1, 3), r"eps_hat must have shape \(2,\) \(the shape of x_t\); got \(3,\)"),
    "mean x_t nan": (lambda: dv.reverse_mean(SMALL, X1, NAN1, 3), r"x_t must be finite"),
    "mean eps_hat nan": (lambda: dv.reverse_mean(SMALL, NAN1, X1, 3), r"eps_hat must be finite"),
    "variance name": (lambda: dv.reverse_variance(SMALL, 3, "tilde"), r"variance must be one of 'beta', 'beta_tilde'; got 'tilde'"),
    "variance not str": (lambda: dv.reverse_variance(SMALL, 3, None), r"variance must be one of 'beta', 'beta_tilde'; got None"),
    "variance t=0": (lambda: dv.reverse_variance(SMALL, 0, "beta"), r"t must be an integer time step in 1\.\.10; got 0"),
    "variance t vector": (lambda: dv.reverse_variance(SMALL, jnp.arange(3), "beta"), r"t must be a scalar time step"),
    # nats_to_bits_per_dim(nats, dim)
    "bits dim=0": (lambda: dv.nats_to_bits_per_dim(1.0, 0), r"dim must be an integer >= 1; got 0"),
    "bits dim float": (lambda: dv.nats_to_bits_per_dim(1.0, 2.0), r"dim must be an integer >= 1"),
    "bits nats nan": (lambda: dv.nats_to_bits_per_dim(float("nan"), 1), r"nats must be finite"),
    "bits nats str": (lambda: dv.nats_to_bits_per_dim("3 nats", 1), r"nats must be a real number"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_a_named_value_error(case):
    call, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_checks_under_jit_and_vmap_skip_values_but_keep_shapes():
    """Traced arguments: shapes and dtypes are still checked, values (range, NaN) are not."""
    # a traced t out of range is not checked (JAX clamps the index), and the loss is finite
    loss = jax.jit(lambda t: dv.eps_loss(ZERO, SMALL, X1, t, X1))(jnp.int32(50))
    assert np.isfinite(float(loss))
    # shape errors are found while tracing
    with pytest.raises(ValueError, match=r"eps must have shape \(2,\)"):
        jax.jit(lambda e: dv.eps_loss(ZERO, SMALL, X1, 3, e))(jnp.zeros(3))
    with pytest.raises(ValueError, match=r"eps_hat must have shape \(2,\)"):
        jax.jit(lambda e: dv.reverse_mean(SMALL, e, X1, 3))(jnp.zeros(3))
    with pytest.raises(ValueError, match=r"t must be an integer time step .*dtype float32"):
        jax.jit(lambda t: dv.reverse_variance(SMALL, t, "beta"))(jnp.float32(3))
    # vmap over examples, and jit of the whole public function (as chapters 6, 8 and 9 do)
    x0 = jnp.linspace(-1, 1, 6).reshape(3, 2)
    t = jnp.asarray([1, 5, 10], jnp.int32)
    batched = jax.jit(jax.vmap(dv.eps_loss, in_axes=(None, None, 0, 0, 0)))(Partial(ZERO), SMALL, x0, t, x0)
    np.testing.assert_allclose(np.asarray(batched), np.mean(np.asarray(x0) ** 2, axis=1), rtol=1e-6)
    assert np.isfinite(float(jax.jit(dv.batch_eps_loss)(K, dv.exact_eps_fn(SMALL, MIX), SMALL, x0[:, :1])))
    terms = jax.jit(dv.variational_bound)(K, dv.exact_eps_fn(SMALL, MIX), SMALL, x0[0, :1])
    assert np.isfinite(float(terms.total))
