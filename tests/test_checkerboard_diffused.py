"""The exact density of the diffused checkerboard (dv.checkerboard_diffused_log_prob).

Each check is an independent computation: float64 quadrature of the 1-D Gaussian integrals in log
space (no erf, no log_ndtr), a 2-D quadrature of the convolution itself (no factorisation),
Monte Carlo (a chi-square test of diffused samples from dv.sample_checkerboard), the integral
over a grid, the two limits (no noise: dv.checkerboard_log_prob; little signal: the Gaussian with
the board's exact moments, worked out from the squares here).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

import diffviz as dv

CORNERS = [(i, j) for j in range(-2, 2) for i in range(-2, 2) if (i + j) % 2 == 0]  # black: i + j even


# --- float64 references ------------------------------------------------------------------------


def _quad(f, a, b) -> float:
    return integrate.quad(f, a, b, epsabs=0, epsrel=1e-13, limit=200)[0]


def log_interval(m: float, w: float) -> float:
    """log of the standard normal mass on [m - w/2, m + w/2], by quadrature from the end nearer 0."""
    lo, hi = m - w / 2, m + w / 2
    if lo < 0 < hi:
        val = _quad(lambda u: math.exp(-u * u / 2), 0, min(-lo, 40)) + _quad(lambda u: math.exp(-u * u / 2), 0, min(hi, 40))
        return -0.5 * math.log(2 * math.pi) + math.log(val)
    d = lo if lo >= 0 else -hi  # phi(d + u) = phi(d) exp(-d u - u^2 / 2)
    length = min(w, 40.0, 200.0 / d if d > 0 else math.inf)
    return -0.5 * d * d - 0.5 * math.log(2 * math.pi) + math.log(_quad(lambda u: math.exp(-d * u - u * u / 2), 0, length))


def reference_log_prob(x, abar: float) -> float:
    s, sigma = math.sqrt(abar), math.sqrt(1 - abar)
    terms = [sum(log_interval((x[d] - s * (c[d] + 0.5)) / sigma, s / sigma) - math.log(s) for d in range(2)) for c in CORNERS]
    return float(special.logsumexp(terms) - math.log(8))


def convolution_density(x, abar: float) -> float:
    """q_t(x) = int p_0(y) N(x; s y, sigma^2 I) dy by 2-D quadrature over each black square."""
    s, var = math.sqrt(abar), 1 - abar

    def kernel(y2, y1):
        return math.exp(-((x[0] - s * y1) ** 2 + (x[1] - s * y2) ** 2) / (2 * var)) / (2 * math.pi * var)

    return sum(integrate.dblquad(kernel, i, i + 1, j, j + 1, epsabs=0, epsrel=1e-10)[0] for i, j in CORNERS) / 8


def log_prob(x, abar) -> np.ndarray:
    return np.asarray(dv.checkerboard_diffused_log_prob(jnp.asarray(x, jnp.float32), jnp.float32(abar)), np.float64)


# --- agreement ---------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    # alpha_bar from 1e-7 to 0.1 (the noisy end), or 1 - alpha_bar from 1e-6 to 0.999 (the start): the whole chain
    abar=st.one_of(st.floats(-7.0, -1.0).map(lambda e: 10**e), st.floats(-6.0, -0.0005).map(lambda e: 1 - 10**e)),
    scale=st.sampled_from([1.0, 3.0, 30.0, 1e3, 1e5]),
    u=st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=2),
)
def test_log_density_matches_float64_quadrature_near_and_far(abar, scale, u):
    abar = float(np.float32(abar))
    x = np.asarray(u, np.float32) * np.float32(scale)
    got = float(log_prob(x[None], abar)[0])
    want = reference_log_prob(x.astype(np.float64), abar)
    assert math.isfinite(got), (x, abar)
    assert abs(got - want) <= 1e-6 * max(1.0, abs(want)), (x, abar, got, want)  # float32 rounding; measured: 7.4e-7


@pytest.mark.parametrize("abar", [0.05, 0.01, 1e-3, 1e-4])
def test_far_tail_where_a_square_is_about_one_over_the_distance_wide(abar):
    """m noise units out, a square w = s / sigma wide with w (m + 1) between 1 and 3: here 1 - Q(r)/Q(p) is of order 1
    and Q's asymptotic series carries the answer (random points rarely land here)."""
    s, sigma = math.sqrt(abar), math.sqrt(1 - abar)
    w = s / sigma
    ms = np.linspace(1.0 / w, 3.0 / w, 7) - 1.0  # (m + 1) w from 1 to 3
    ms = ms[ms >= 10.0]
    assert ms.size
    x = np.stack([s * 1.5 + sigma * ms, np.full_like(ms, 0.3)], axis=1).astype(np.float32)  # right of the squares at x1 in [1, 2)
    got = log_prob(x, abar)
    want = np.array([reference_log_prob(p.astype(np.float64), float(np.float32(abar))) for p in x])
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("abar", [1e-7, 1e-6, 1e-3, 0.5, 1 - 1e-6])
def test_finite_and_right_far_out(abar):
    """|x| up to 1e5: the log-density is about -|x|^2 / 2 and finite; two squares' edges are then closer than float32
    can tell apart at that size (1e5 has a step of 0.008), so Q's asymptotic series must carry the difference."""
    abar = float(np.float32(abar))
    x = np.array([[1e5, 0.3], [0.2, -7e4], [1e5, 1e5], [-3e3, 2e3], [40.0, -35.0]], np.float32)
    got = log_prob(x, abar)
    want = np.array([reference_log_prob(p.astype(np.float64), abar) for p in x])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("noise", [1e-6, 1e-4])
def test_just_off_an_edge_at_little_noise(noise):
    """sigma = 1e-3 or 1e-2, points 3 to 30 sigma from a square's edge (either side): the edge offsets are computed
    one by one (not as the centre's offset -+ half the width) and without rounding s y at full size."""
    abar = float(np.float32(1 - noise))
    sigma = math.sqrt(1 - abar)
    offsets = np.array([-30, -10, -3, 3, 10, 30]) * sigma
    x1 = (np.arange(-2, 3)[:, None] + offsets[None, :]).ravel()
    x = np.stack([np.concatenate([x1, np.full(4, 0.5)]), np.concatenate([np.full(x1.size, 0.5), [-2.0625, -0.9375, 1.0625, 2.03]])], 1)
    x = x.astype(np.float32)
    got = log_prob(x, abar)
    want = np.array([reference_log_prob(p.astype(np.float64), abar) for p in x])
    assert np.all(np.abs(got - want) <= 1e-6 * np.maximum(1.0, np.abs(want))), np.max(np.abs(got - want) / np.maximum(1, np.abs(want)))


@pytest.mark.parametrize("abar", [0.9, 0.5, 0.05])
def test_density_is_the_2d_convolution_of_the_board_with_the_noise(abar):
    x = np.array([[0.3, -0.2], [1.1, 0.9], [-1.6, 0.4], [0.05, 1.7], [2.2, -2.0], [-1.5, -1.5], [3.0, 0.5]], np.float32)
    got = np.exp(log_prob(x, abar))
    want = np.array([convolution_density(p.astype(np.float64), abar) for p in x])
    np.testing.assert_allclose(got, want, rtol=1e-5)  # measured: 1.6e-6 (0.9), 3e-7, 5e-7


def test_diffused_samples_follow_the_density():
    """Chi-square: counts of 200,000 diffused samples in 0.25-wide bins against the density's bin masses."""
    n, abar = 200_000, 0.95
    k0, k1 = jax.random.split(jax.random.key(11))
    x = np.sqrt(abar) * np.asarray(dv.sample_checkerboard(k0, n), np.float64) + np.sqrt(1 - abar) * np.asarray(
        jax.random.normal(k1, (n, 2)), np.float64
    )
    edges = np.linspace(-3.0, 3.0, 25)  # 24 x 24 bins of side 0.25
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])
    sub = (np.arange(10) + 0.5) / 10 * 0.25  # 10 x 10 midpoints inside a bin
    mids = (edges[:-1, None] + sub[None, :]).ravel()  # (240,)
    gx, gy = np.meshgrid(mids, mids, indexing="ij")
    dens = np.exp(log_prob(np.stack([gx.ravel(), gy.ravel()], 1), abar)).reshape(24, 10, 24, 10)
    mass = dens.sum(axis=(1, 3)) * (0.25 / 10) ** 2  # (24, 24), the density integrated over each bin
    assert 0.995 < mass.sum() <= 1.0
    expected = n * mass
    keep = expected >= 5
    chi2 = float((((counts - expected) ** 2) / expected)[keep].sum())
    dof = int(keep.sum()) - 1
    p = stats.chi2.sf(chi2, dof)
    assert p > 1e-3, (chi2, dof, p)
    assert counts[~keep].sum() <= 5 * max(1.0, expected[~keep].sum())  # where the density says rare, it is rare


@settings(max_examples=8, deadline=None)
@given(abar=st.floats(0.01, 0.99))
def test_density_integrates_to_one(abar):
    xs = np.arange(-7.0, 7.0, 0.02) + 0.01
    gx, gy = np.meshgrid(xs, xs)
    total = float(np.exp(log_prob(np.stack([gx, gy], -1), abar)).sum()) * 0.02**2
    assert total == pytest.approx(1.0, abs=2e-4)


# --- the limits --------------------------------------------------------------------------------


def test_no_noise_gives_back_the_board_and_little_noise_nearly():
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, (4000, 2)).astype(np.float32)
    board = np.asarray(dv.checkerboard_log_prob(x), np.float64)
    np.testing.assert_array_equal(log_prob(x, 1.0), board)  # -inf off the black squares, as there
    # sigma = 1e-3: 0.01 from every edge is 10 sigma, so q_t = p_0 to 1e-6 there; off the squares tiny but finite
    abar = float(np.float32(1 - 1e-6))
    clear = np.min(np.abs(x - np.round(x)), axis=1) > 0.01
    near = log_prob(x, abar)
    np.testing.assert_allclose(near[clear & np.isfinite(board)], -math.log(8), atol=1e-5)
    assert np.all(np.isfinite(near)) and np.all(near[clear & ~np.isfinite(board)] < -40)


def test_little_signal_gives_the_gaussian_with_the_boards_moments():
    """alpha_bar -> 0: q_t -> N(sqrt(abar) mean, (1 - abar) I + abar Cov), up to O(abar^2) (odd cumulants vanish)."""
    c = np.asarray(CORNERS, np.float64) + 0.5
    mean = c.mean(0)  # each square's centre; inside a square the offset has mean 0 and variance 1/12
    cov = (c - mean).T @ (c - mean) / len(c) + np.eye(2) / 12
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, (500, 2))
    for abar, tol in ((1e-3, 2e-5), (1e-5, 5e-6)):  # measured: 6.1e-6, 2.5e-6 (float32)
        gauss = stats.multivariate_normal(np.sqrt(abar) * mean, (1 - abar) * np.eye(2) + abar * cov).logpdf(x)
        np.testing.assert_allclose(log_prob(x, abar), gauss, atol=tol)


# --- shapes, jit and bad input -----------------------------------------------------------------


def test_one_minus_alpha_bar_keeps_the_first_steps_precise():
    """Linear schedule, t = 1 (sigma = 0.01): with the schedule's own 1 - alpha-bar the log-density is float64's to
    1e-6 relative 0.1 to 0.3 from an edge; with 1 - alpha_bar rounded in float32 it is off by far more."""
    sched = dv.linear_schedule(1000)
    rest64 = float(sched.one_minus_alpha_bars[1])
    x = np.array([[0.3, -0.2], [1.1, 0.9], [0.05, 1.7], [-2.1, 0.5]], np.float32)
    want = np.array([reference_log_prob(p.astype(np.float64), 1.0 - rest64) for p in x])
    got = np.asarray(dv.checkerboard_diffused_log_prob(x, sched.alpha_bars[1], one_minus_alpha_bar=sched.one_minus_alpha_bars[1]))
    np.testing.assert_allclose(got, want, rtol=2e-6)
    rounded = np.asarray(dv.checkerboard_diffused_log_prob(x, sched.alpha_bars[1]))
    assert np.max(np.abs(rounded - want) / np.abs(want)) > 1e-4
    np.testing.assert_array_equal(dv.checkerboard_diffused_log_prob(x, 1.0, one_minus_alpha_bar=0.0), dv.checkerboard_log_prob(x))


def test_shapes_and_jit():
    x = jnp.zeros((3, 4, 2))
    assert dv.checkerboard_diffused_log_prob(x, 0.5).shape == (3, 4)
    assert dv.checkerboard_diffused_log_prob(x, 0.5).dtype == jnp.float32
    f = jax.jit(dv.checkerboard_diffused_log_prob)
    pts = jnp.array([[0.5, 0.5], [-0.5, 0.5]])
    np.testing.assert_allclose(f(pts, 1.0), dv.checkerboard_log_prob(pts))  # the traced alpha_bar = 1 branch
    np.testing.assert_allclose(f(pts, 0.3), dv.checkerboard_diffused_log_prob(pts, 0.3), rtol=1e-6)


@pytest.mark.parametrize(
    ("x", "abar", "name"),
    [
        ([[0.0, 0.0]], 0.0, "alpha_bar"),
        ([[0.0, 0.0]], -0.2, "alpha_bar"),
        ([[0.0, 0.0]], 1.01, "alpha_bar"),
        ([[0.0, 0.0]], float("nan"), "alpha_bar"),
        ([[0.0, 0.0]], [0.5, 0.5], "alpha_bar"),
        ([[0.0, 0.0]], True, "alpha_bar"),
        ([[0.0, 0.0]], (0.5, 0.6), "one_minus_alpha_bar"),
        ([[0.0, 0.0]], (0.5, -0.1), "one_minus_alpha_bar"),
        ([[0.0, 0.0]], (0.5, [0.5]), "one_minus_alpha_bar"),
        ([[0.0, 0.0, 0.0]], 0.5, "x"),
        ([[float("nan"), 0.0]], 0.5, "x"),
        ([[float("inf"), 0.0]], 0.5, "x"),
        (0.3, 0.5, "x"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(x, abar, name):
    abar, rest = abar if isinstance(abar, tuple) else (abar, None)
    with pytest.raises(ValueError, match=name):
        dv.checkerboard_diffused_log_prob(x, abar, one_minus_alpha_bar=rest)
