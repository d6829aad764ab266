"""Guidance (issue 17 item 6): labelled mixtures, the exact noisy classifier, guided fields, the tilted density.

Every quantity is checked against an independent computation: Bayes' rule with SciPy's
Gaussian densities, Monte Carlo over (x_0, c, eps), autodiff of an exact log-density, and the
package's unconditional oracle on the class's own mixture.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import diffviz as dv

SCHEDULE = dv.linear_schedule(1000)
EIGHT = dv.labelled_toy("eight_gaussians")
BIMODAL = dv.labelled_toy("bimodal")


def scipy_joint(lmix, x, t):
    """p_t(x, c) for every class, with SciPy's normal pdf: (n, C)."""
    abar = float(SCHEDULE.alpha_bars[t])
    mix = lmix.mixture
    w, mu, sd = (np.asarray(a, np.float64) for a in (mix.weights, mix.means, mix.stds))
    std = np.sqrt(abar * sd**2 + 1 - abar)  # (K, d)
    comp = np.stack([w[k] * np.prod(stats.norm.pdf(x, np.sqrt(abar) * mu[k], std[k]), axis=1) for k in range(len(w))], 1)
    labels = np.asarray(lmix.labels)
    return np.stack([comp[:, labels == c].sum(1) for c in range(lmix.num_classes)], 1)


# --- labelled mixtures ---------------------------------------------------------------------------


def test_toys_prior_and_class_mixture():
    np.testing.assert_allclose(dv.class_prior(EIGHT), [3 / 8, 3 / 8, 2 / 8], rtol=1e-6)
    np.testing.assert_allclose(dv.class_prior(BIMODAL), [0.5, 0.5], rtol=1e-6)
    cm = dv.class_mixture(EIGHT, 2)
    np.testing.assert_allclose(cm.weights, [0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(cm.means, np.asarray(EIGHT.mixture.means)[6:], rtol=1e-6)
    # p(x) = sum_c pi_c p(x | c), at random points
    x = np.asarray(jax.random.normal(jax.random.key(0), (50, 2)))
    log_prob = jax.jit(dv.mixture_log_prob)  # one compiled call per mixture shape, not one per operation
    total = sum(float(dv.class_prior(EIGHT)[c]) * np.exp(np.asarray(log_prob(dv.class_mixture(EIGHT, c), x)))
                for c in range(3))  # fmt: skip
    np.testing.assert_allclose(total, np.exp(np.asarray(log_prob(EIGHT.mixture, x))), rtol=1e-5)


def test_sample_labelled_mixture_pairs_points_with_their_class():
    x, c = dv.sample_labelled_mixture(jax.random.key(1), EIGHT, 20_000)
    assert x.shape == (20_000, 2) and c.dtype == jnp.int32
    np.testing.assert_allclose(np.bincount(np.asarray(c)) / 20_000, [3 / 8, 3 / 8, 2 / 8], atol=0.015)
    # points of class 2 lie near components 6 and 7 (angles 270 and 315 degrees): below the axis
    assert np.mean(np.asarray(x)[np.asarray(c) == 2, 1] < 0) > 0.97


# --- the exact noisy classifier ------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 100, 400, 900])
def test_noisy_classifier_is_bayes_rule(t):
    x = np.asarray(1.5 * jax.random.normal(jax.random.key(t), (200, 2)), np.float64)
    joint = scipy_joint(EIGHT, x, t)
    expected = joint / joint.sum(1, keepdims=True)
    np.testing.assert_allclose(dv.noisy_classifier(SCHEDULE, EIGHT, x, t), expected, atol=2e-5)


def test_noisy_classifier_matches_monte_carlo_in_bins():
    """Draw (x_0, c), diffuse to x_t, and count the classes in bins of x_t (1-D bimodal)."""
    t, n = 250, 400_000
    k1, k2 = jax.random.split(jax.random.key(3))
    x0, c = dv.sample_labelled_mixture(k1, BIMODAL, n)
    x_t = dv.sample_marginal(k2, SCHEDULE, x0, t)[0][:, 0]
    edges = np.linspace(-1.5, 1.5, 13)
    which = np.digitize(np.asarray(x_t), edges) - 1
    probs = np.asarray(dv.noisy_classifier(SCHEDULE, BIMODAL, np.asarray(x_t)[:, None], t))[:, 1]
    c = np.asarray(c)
    for b in range(12):
        inside = which == b
        assert inside.sum() > 2000
        mc = c[inside].mean()
        se = np.sqrt(mc * (1 - mc) / inside.sum())
        assert abs(mc - probs[inside].mean()) < 5 * se + 1e-3, (b, mc, probs[inside].mean())


def test_two_gaussian_classifier_is_a_logistic():
    """Equal variances: p(1 | x_t) = sigmoid(2 a mu x / V), the closed form of the exercise."""
    t = 300
    abar = float(SCHEDULE.alpha_bars[t])
    a, V = np.sqrt(abar), abar * 0.3**2 + 1 - abar
    x = np.linspace(-3, 3, 41)
    expected = 1 / (1 + np.exp(-2 * a * 0.95 * x / V))
    np.testing.assert_allclose(dv.noisy_classifier(SCHEDULE, BIMODAL, x[:, None], t)[:, 1], expected, atol=1e-5)


def test_classifier_grad_is_autodiff_of_the_log_classifier():
    x = jax.random.normal(jax.random.key(4), (30, 2))
    for t, c in [(50, 0), (300, 1), (800, 2)]:
        auto = jax.jit(jax.vmap(jax.grad(lambda p, t=t, c=c: jnp.log(dv.noisy_classifier(SCHEDULE, EIGHT, p[None], t)[0, c]))))(x)
        np.testing.assert_allclose(dv.noisy_classifier_grad(SCHEDULE, EIGHT, x, t, c), auto, rtol=2e-3, atol=2e-4)


# --- class-conditional eps* and the guided fields ------------------------------------------------


@pytest.mark.parametrize(("t", "c"), [(20, 0), (300, 1), (700, 2)])
def test_class_conditional_eps_is_autodiff_of_the_class_density(t, c):
    x = 1.5 * jax.random.normal(jax.random.key(t), (40, 2))
    diffused = dv.diffuse_mixture(SCHEDULE, dv.class_mixture(EIGHT, c), t)
    score = jax.jit(jax.vmap(jax.grad(lambda p: dv.mixture_log_prob(diffused, p))))(x)
    expected = -jnp.sqrt(SCHEDULE.one_minus_alpha_bars[t]) * score
    np.testing.assert_allclose(dv.class_conditional_eps(SCHEDULE, EIGHT, x, t, c), expected, rtol=2e-3, atol=2e-4)


@settings(max_examples=25, deadline=None)
@given(t=st.integers(1, 1000), c=st.integers(0, 2), w=st.floats(0.0, 12.0), seed=st.integers(0, 10**6))
def test_classifier_guidance_equals_classifier_free_for_the_oracle(t, c, w, seed):
    x = 2.0 * jax.random.normal(jax.random.key(seed), (16, 2))
    cfg = dv.guided_eps(SCHEDULE, EIGHT, x, t, c, w, kind="cfg")
    cg = dv.guided_eps(SCHEDULE, EIGHT, x, t, c, w, kind="classifier")
    scale = 1.0 + float(jnp.max(jnp.abs(cfg)))
    np.testing.assert_allclose(cg, cfg, atol=2e-4 * scale * (1 + w))


def test_guidance_at_w_0_is_the_class_oracle_and_the_sign_of_w():
    x = jax.random.normal(jax.random.key(5), (25, 2))
    t, c = 200, 1
    oracle = jax.jit(lambda mix, x: dv.optimal_eps(SCHEDULE, mix, x, t))
    plain = oracle(dv.class_mixture(EIGHT, c), x)  # the unconditional oracle of p(x | c)
    np.testing.assert_allclose(dv.guided_eps(SCHEDULE, EIGHT, x, t, c, 0.0), plain, rtol=1e-4, atol=1e-5)
    uncond = oracle(EIGHT.mixture, x)
    w = 2.5
    np.testing.assert_allclose(dv.guided_eps(SCHEDULE, EIGHT, x, t, c, w), (1 + w) * plain - w * uncond, rtol=1e-4, atol=1e-4)


def test_continuous_and_discrete_guided_predictors_agree_on_the_grid():
    x = jax.random.normal(jax.random.key(6), (10, 2))
    for kind in ("cfg", "classifier"):
        disc = dv.guided_eps_fn(SCHEDULE, EIGHT, 2, 3.0, kind=kind)
        cont = dv.continuous_guided_eps_fn(SCHEDULE, EIGHT, 2, 3.0, kind=kind)
        for k in (10, 500, 1000):
            np.testing.assert_allclose(cont(x, jnp.float32(k / 1000)), disc(x, jnp.int32(k)), rtol=2e-3, atol=2e-4)


def test_guided_sampling_at_w_0_samples_the_class():
    """ODE sampling with the w = 0 guided oracle lands on p(x | c): SW1 at the noise floor."""
    n, c = 2000, 0
    target = dv.class_mixture(EIGHT, c)
    out = dv.ode_sample(jax.random.key(7), dv.continuous_guided_eps_fn(SCHEDULE, EIGHT, c, 0.0), SCHEDULE, (n, 2),
                        dv.power_time_grid(30)).samples  # fmt: skip
    metric = functools.partial(dv.sliced_wasserstein, jax.random.key(8))
    floor = dv.noise_floor(jax.random.key(9), metric, lambda k, m: dv.sample_mixture(k, target, m), n, repeats=3)
    sw = float(metric(out, dv.sample_mixture(jax.random.key(10), target, n)))
    assert sw < 1.8 * floor, (sw, floor)
    # and not the unconditional mixture (the check can fail)
    assert float(metric(dv.sample_mixture(jax.random.key(11), EIGHT.mixture, n), dv.sample_mixture(jax.random.key(10), target, n))) > 4 * floor


# --- the tilted density --------------------------------------------------------------------------


def test_tilted_density_at_w_0_is_the_class_density_and_holds_its_mass():
    td = dv.tilted_density(EIGHT, 1, 0.0, lim=3.5, grid_size=140)
    g = np.asarray(td.centres)
    pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    joint = scipy_joint(EIGHT, pts, 0)[:, 1] / (3 / 8)
    np.testing.assert_allclose(np.asarray(td.density).ravel(), joint, rtol=1e-3, atol=1e-6)
    assert abs(joint.sum() * td.cell**2 - 1) < 1e-3  # the grid holds the class's whole mass


def test_tilted_density_normaliser_matches_monte_carlo():
    """tilted = p(x|c) (p(c|x)/pi_c)^w / Z with Z = E_{x ~ p(x|c)}[(p(c|x)/pi_c)^w]."""
    c, w = 0, 3.0
    td = dv.tilted_density(EIGHT, c, w, lim=3.5, grid_size=140)
    x = np.asarray(dv.sample_mixture(jax.random.key(12), dv.class_mixture(EIGHT, c), 200_000), np.float64)
    joint = scipy_joint(EIGHT, x, 0)
    ratio = (joint[:, c] / joint.sum(1)) / (3 / 8)
    Z = np.mean(ratio**w)
    g = np.asarray(td.centres, np.float64)
    pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    jg = scipy_joint(EIGHT, pts, 0)
    expected = jg[:, c] / (3 / 8) * ((jg[:, c] / jg.sum(1)) / (3 / 8)) ** w / Z
    big = expected > 1e-3
    np.testing.assert_allclose(np.asarray(td.density).ravel()[big], expected[big], rtol=0.01)


def test_grid_samples_follow_the_grid_density():
    td = dv.tilted_density(BIMODAL, 1, 2.0, lim=3.0, grid_size=120)
    x = np.asarray(dv.sample_grid_density(jax.random.key(13), td, 100_000))[:, 0]
    g, dens = np.asarray(td.centres, np.float64), np.asarray(td.density, np.float64)
    np.testing.assert_allclose(x.mean(), np.sum(g * dens) * td.cell, atol=0.01)
    np.testing.assert_allclose(x.var(), np.sum((g - x.mean()) ** 2 * dens) * td.cell + td.cell**2 / 12, rtol=0.03)


def test_tilted_gap_reads_the_floor_for_exact_samples_and_more_for_others():
    td = dv.tilted_density(EIGHT, 0, 7.0, grid_size=120)
    n = 3000
    exact = dv.tilted_gap(jax.random.key(14), dv.sample_grid_density(jax.random.key(15), td, n), td, bins=20)
    assert float(exact.sw1) < 2.0 * float(exact.sw1_floor) and float(exact.tv) < 1.5 * float(exact.tv_floor)
    np.testing.assert_allclose(float(jnp.sum(exact.density_mass)), 1.0, atol=1e-5)
    other = dv.tilted_gap(jax.random.key(14), dv.sample_mixture(jax.random.key(16), dv.class_mixture(EIGHT, 0), n), td)
    assert float(other.tv) > 2 * float(other.tv_floor) and float(other.sw1) > 2 * float(other.sw1_floor)


# --- readouts ------------------------------------------------------------------------------------


def test_guidance_readout_against_hand_computations():
    means = np.asarray(EIGHT.mixture.means)
    x = np.concatenate([np.repeat(means[:3], 10, axis=0), np.repeat(means[3:4], 10, axis=0)])  # three modes of class 0, one of class 1
    r = dv.guidance_readout(EIGHT, x, 0)
    cm = dv.class_mixture(EIGHT, 0)
    lp = np.log(sum(float(cm.weights[k]) * np.prod(stats.norm.pdf(x, means[k], 0.3), axis=1) for k in range(3)))
    np.testing.assert_allclose(float(r.log_likelihood), lp.mean(), rtol=1e-4)
    np.testing.assert_allclose(float(r.on_class), 0.75, atol=1e-6)
    np.testing.assert_allclose(float(r.spread), np.sqrt(np.mean(np.sum((x - x.mean(0)) ** 2, 1))), rtol=1e-5)
    assert float(r.modes_covered) == 1.0
    one_mode = dv.guidance_readout(EIGHT, np.repeat(means[1:2], 20, axis=0), 0)
    np.testing.assert_allclose(float(one_mode.modes_covered), 1 / 3, rtol=1e-6)
    # a mode with a sample or two, under a quarter of its fair share (1/3 of the samples), is not covered
    few = np.concatenate([np.repeat(means[1:2], 30, axis=0), means[0:1], np.repeat(means[2:3], 8, axis=0)])
    np.testing.assert_allclose(float(dv.guidance_readout(EIGHT, few, 0).modes_covered), 2 / 3, rtol=1e-6)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: dv.guided_eps_fn(SCHEDULE, EIGHT, 0, float("nan")), "w"),
        (lambda: dv.guided_eps_fn(SCHEDULE, EIGHT, 0, -1.0), "w"),
        (lambda: dv.continuous_guided_eps_fn(SCHEDULE, EIGHT, 0, float("inf")), "w"),
        (lambda: dv.tilted_density(EIGHT, 0, -0.5), "w"),
        (lambda: dv.guided_eps_fn(SCHEDULE, EIGHT, 3, 1.0), "c"),
        (lambda: dv.guided_eps_fn(SCHEDULE, EIGHT, -1, 1.0), "c"),
        (lambda: dv.class_mixture(EIGHT, 1.0), "c"),
        (lambda: dv.noisy_classifier_grad(SCHEDULE, BIMODAL, np.zeros((2, 1)), 5, 2), "c"),
        (lambda: dv.guidance_readout(EIGHT, np.zeros((3, 2)), 7), "c"),
        (lambda: dv.guided_eps_fn(SCHEDULE, EIGHT, 0, 1.0, kind="free"), "kind"),
        (lambda: dv.labelled_mixture(EIGHT.mixture, [0, 0, 0, 2, 2, 2, 2, 2]), "labels"),
        (lambda: dv.labelled_mixture(EIGHT.mixture, [0, 1]), "labels"),
        (lambda: dv.labelled_toy("moons"), "name"),
        (lambda: dv.noisy_classifier(SCHEDULE, EIGHT, np.zeros((3, 1)), 5), "x_t"),
        (lambda: dv.tilted_gap(jax.random.key(0), np.zeros((5, 2)), dv.tilted_density(EIGHT, 0, 1.0, grid_size=30), bins=7), "bins"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call()
