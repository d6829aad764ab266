"""Noise schedules against values computed independently in float64 NumPy."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import diffviz as dv

SCHEDULES = {
    "constant": lambda: dv.constant_schedule(0.02, 300),
    "linear": lambda: dv.linear_schedule(1000),
    "cosine": lambda: dv.cosine_schedule(1000),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_alpha_bar_starts_at_one_and_strictly_decreases(name):
    s = SCHEDULES[name]()
    abar = np.asarray(s.alpha_bars, np.float64)
    assert abar.shape == (s.T + 1,)
    assert abar[0] == 1.0 and s.betas[0] == 0.0
    assert np.all(np.diff(abar) < 0)
    assert np.all(abar > 0)
    np.testing.assert_allclose(np.asarray(s.alpha_bars) + np.asarray(s.one_minus_alpha_bars), 1.0, atol=2e-7)


@pytest.mark.parametrize("name", SCHEDULES)
def test_arrays_are_float32(name):
    s = SCHEDULES[name]()
    for arr in (s.betas, s.alpha_bars, s.one_minus_alpha_bars, s.alphas, s.snr):
        assert arr.dtype == jnp.float32


def test_linear_schedule_matches_float64_product_and_known_value():
    s = dv.linear_schedule()
    betas64 = np.linspace(1e-4, 0.02, 1000)
    abar64 = np.cumprod(1.0 - betas64)
    np.testing.assert_allclose(np.asarray(s.betas[1:]), betas64, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(s.alpha_bars[1:]), abar64, rtol=2e-4)
    # The value quoted in the course and in Ho et al.'s set-up: about 4e-5.
    assert 4.0e-5 < float(s.alpha_bars[1000]) < 4.1e-5


def test_one_minus_alpha_bar_is_accurate_near_t0():
    s = dv.linear_schedule()
    # 1 - abar_1 = beta_1 = 1e-4 exactly; a naive float32 1 - abar would be off by ~1e-3 relative.
    assert float(s.one_minus_alpha_bars[1]) == pytest.approx(1e-4, rel=1e-6)
    abar2 = (1 - 1e-4) * (1 - np.linspace(1e-4, 0.02, 1000)[1])
    assert float(s.one_minus_alpha_bars[2]) == pytest.approx(1 - abar2, rel=1e-5)


def test_constant_schedule_is_geometric():
    beta, T = 0.05, 80
    s = dv.constant_schedule(beta, T)
    t = np.arange(T + 1)
    np.testing.assert_allclose(np.asarray(s.alpha_bars), (1 - beta) ** t, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(s.betas[1:]), beta, rtol=1e-7)


def test_cosine_schedule_follows_its_formula_and_is_clipped():
    T, s_off = 1000, 0.008
    s = dv.cosine_schedule(T)
    t = np.arange(T + 1)
    f = np.cos((t / T + s_off) / (1 + s_off) * np.pi / 2) ** 2
    abar_formula = f / f[0]
    raw_betas = 1 - abar_formula[1:] / abar_formula[:-1]
    assert raw_betas[-1] == pytest.approx(1.0)  # unclipped, the last step would destroy everything
    clipped = np.minimum(raw_betas, 0.999)
    np.testing.assert_allclose(np.asarray(s.betas[1:]), clipped, rtol=2e-4, atol=1e-9)
    assert float(s.betas[T]) == pytest.approx(0.999, rel=1e-6)
    assert float(jnp.max(s.betas)) <= 0.999 + 1e-7
    # Where no clipping happened the alpha-bars are the formula's; overall they follow the clipped betas.
    np.testing.assert_allclose(np.asarray(s.alpha_bars[:990]), abar_formula[:990], rtol=2e-4)
    np.testing.assert_allclose(np.asarray(s.alpha_bars[1:]), np.cumprod(1 - clipped), rtol=2e-3)


def test_cosine_clip_changes_the_schedule():
    loose = dv.cosine_schedule(100, max_beta=0.999)
    tight = dv.cosine_schedule(100, max_beta=0.5)
    assert float(tight.betas[100]) == pytest.approx(0.5)
    assert float(loose.alpha_bars[100]) < float(tight.alpha_bars[100])


@pytest.mark.parametrize("name", SCHEDULES)
def test_snr_is_inf_at_zero_and_decreasing(name):
    s = SCHEDULES[name]()
    snr = np.asarray(s.snr)
    assert snr[0] == np.inf
    assert np.all(np.diff(snr[1:]) < 0)
    np.testing.assert_allclose(np.exp(np.asarray(s.log_snr[1:])), snr[1:], rtol=1e-4)


def test_alphas_and_T():
    s = dv.linear_schedule(50)
    assert s.T == 50
    np.testing.assert_allclose(np.asarray(s.alphas), 1 - np.asarray(s.betas), rtol=0)


@given(beta=st.floats(1e-4, 0.5), T=st.integers(1, 300))
def test_one_step_composition_gives_next_marginal_variance(beta, T):
    """Var(x_t | x_0) = alpha_t Var(x_{t-1} | x_0) + beta_t: the recursion behind the closed form."""
    s = dv.constant_schedule(beta, T)
    om = np.asarray(s.one_minus_alpha_bars, np.float64)
    b = np.asarray(s.betas, np.float64)
    np.testing.assert_allclose(om[1:], (1 - b[1:]) * om[:-1] + b[1:], rtol=1e-4, atol=1e-7)
    assert np.all(np.diff(np.asarray(s.alpha_bars)) <= 0)


@given(betas=st.lists(st.floats(1e-5, 0.9), min_size=1, max_size=60))
def test_schedule_from_any_valid_betas(betas):
    s = dv.schedule_from_betas(betas)
    expected = np.concatenate([[1.0], np.cumprod(1 - np.asarray(betas, np.float64))])
    np.testing.assert_allclose(np.asarray(s.alpha_bars), expected, rtol=1e-4, atol=1e-30)
    assert not np.any(np.isnan(np.asarray(s.snr)))


def test_schedule_is_a_pytree_usable_under_jit():
    import jax

    s = dv.linear_schedule(100)
    out = jax.jit(lambda sch: sch.alpha_bars[sch.T])(s)
    assert float(out) == pytest.approx(float(s.alpha_bars[100]))
    assert math.isfinite(float(out))
