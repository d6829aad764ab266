"""Tests for diffviz._data: the toy data sets.

Reference values are computed independently here, in NumPy/SciPy (float64), from the
documented definitions: the arcs and spiral, the checkerboard squares, and the mixture
moments and CDFs. Fixed keys keep every Monte Carlo check deterministic.
"""

import functools
import math

import jax
import numpy as np
import pytest
from scipy import stats

from diffviz import (
    TOY_DATASETS_2D,
    checkerboard_log_prob,
    eight_gaussians_mixture,
    mixture_1d,
    mixture_log_prob,
    sample_checkerboard,
    sample_eight_gaussians,
    sample_mixture,
    sample_moons,
    sample_swiss_roll,
)


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
    """The package must not rely on implicit rank promotion (also set in conftest)."""
    with jax.numpy_rank_promotion("raise"):
        yield


def _k(seed):
    return jax.random.key(seed)


MIX1D_NAMES = ["bimodal", "trimodal", "skewed"]

# Compiling (once per sampler and sample count) is the slow part of these tests, so they all
# share one sample count N.
N = 20_000

# sample_mixture and mixture_log_prob belong to diffviz._mixture (tested with it) and run op
# by op when called eagerly; jitted copies, compiled once per number of components, keep the
# 1-D mixture tests here fast.
_sample_mixture_jit = jax.jit(sample_mixture, static_argnums=2)
_mixture_log_prob_jit = jax.jit(mixture_log_prob)


def _mix1d_sampler(name):
    def sampler(key, n):
        return _sample_mixture_jit(key, mixture_1d(name), n)

    return sampler


SAMPLERS_2D = [
    pytest.param(sample_swiss_roll, id="swiss_roll"),
    pytest.param(sample_moons, id="moons"),
    pytest.param(sample_eight_gaussians, id="eight_gaussians"),
    pytest.param(sample_checkerboard, id="checkerboard"),
]
# (sampler, data dimension d)
SAMPLERS = [pytest.param(p.values[0], 2, id=p.id) for p in SAMPLERS_2D] + [
    pytest.param(_mix1d_sampler(name), 1, id=f"mixture_1d_{name}") for name in MIX1D_NAMES
]
NOISY = [pytest.param(sample_swiss_roll, id="swiss_roll"), pytest.param(sample_moons, id="moons")]
NOISE_FREE = [
    pytest.param(sample_eight_gaussians, id="eight_gaussians"),
    pytest.param(sample_checkerboard, id="checkerboard"),
]

# The documented raw-coordinate moments, recomputed here by numerical quadrature (float64):
# the mean and std of the noise-free curve with u ~ U[0, 1] along it.


def _grid():
    return np.linspace(0.0, 1.0, 2_000_001)


@functools.cache
def _swiss_constants():
    _u = _grid()
    t = 1.5 * np.pi + 3.0 * np.pi * _u
    x, y = t * np.cos(t), t * np.sin(t)
    m = np.array([np.trapezoid(x, _u), np.trapezoid(y, _u)])
    s = np.sqrt(np.array([np.trapezoid(x**2, _u), np.trapezoid(y**2, _u)]) - m**2)
    return m, s


@functools.cache
def _moons_constants():
    _u = _grid()
    a = np.pi * _u
    upper = np.stack([np.cos(a), np.sin(a)])
    lower = np.stack([1.0 - np.cos(a), 0.5 - np.sin(a)])
    m = 0.5 * (np.trapezoid(upper, _u, axis=1) + np.trapezoid(lower, _u, axis=1))
    second = 0.5 * (np.trapezoid(upper**2, _u, axis=1) + np.trapezoid(lower**2, _u, axis=1))
    return m, np.sqrt(second - m**2)


# --------------------------------------------------------------------------------------------
# Common sampler contract
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler, d", SAMPLERS)
def test_shape_dtype_finite_and_keyed(sampler, d):
    a = sampler(_k(1), N)
    assert a.shape == (N, d)
    assert a.dtype == np.float32
    a = np.asarray(a)
    assert np.all(np.isfinite(a))
    b = np.asarray(sampler(_k(1), N))
    c = np.asarray(sampler(_k(2), N))
    np.testing.assert_array_equal(a, b)  # same key, same draw
    assert not np.allclose(a, c)  # different key, different draw
    # and not merely a reordering: the sorted values differ too
    assert not np.allclose(np.sort(a, axis=0), np.sort(c, axis=0))


@pytest.mark.parametrize("sampler", NOISE_FREE)
def test_jit_with_static_n_matches_eager(sampler):
    compiled = jax.jit(sampler, static_argnums=1)(_k(3), N)
    assert compiled.shape == (N, 2) and compiled.dtype == np.float32
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(sampler(_k(3), N)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sampler", NOISY)
def test_jit_with_static_n_and_traced_noise_matches_eager(sampler):
    compiled = jax.jit(sampler, static_argnums=1)(_k(3), N, 0.3)
    assert compiled.shape == (N, 2) and compiled.dtype == np.float32
    eager = sampler(_k(3), N, noise=0.3)
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(eager), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sampler", SAMPLERS_2D)
def test_legacy_uint32_key_gives_the_same_draw(sampler):
    legacy = sampler(jax.random.PRNGKey(1), N)
    assert legacy.shape == (N, 2) and legacy.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(legacy), np.asarray(sampler(_k(1), N)))


def test_registry_maps_display_names_to_samplers():
    assert type(TOY_DATASETS_2D) is dict
    assert list(TOY_DATASETS_2D) == ["swiss roll", "two moons", "eight Gaussians", "checkerboard"]
    assert TOY_DATASETS_2D["swiss roll"] is sample_swiss_roll
    assert TOY_DATASETS_2D["two moons"] is sample_moons
    assert TOY_DATASETS_2D["eight Gaussians"] is sample_eight_gaussians
    assert TOY_DATASETS_2D["checkerboard"] is sample_checkerboard
    for sampler in TOY_DATASETS_2D.values():
        x = sampler(_k(6), N)  # called as (key, n)
        assert x.shape == (N, 2) and x.dtype == np.float32


# --------------------------------------------------------------------------------------------
# Standardisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", SAMPLERS_2D)
def test_about_unit_scale(sampler):
    x = np.asarray(sampler(_k(7), N), dtype=np.float64)
    assert np.all(np.abs(x.mean(axis=0)) < 0.1)
    std = x.std(axis=0)
    assert np.all((std > 0.7) & (std < 1.4)), std


@pytest.mark.parametrize("sampler", NOISY)
def test_noise_free_curve_is_exactly_standardised(sampler):
    # The fixed map uses the exact moments of the noise-free curve: mean 0, std 1.
    x = np.asarray(sampler(_k(8), N, noise=0.0), dtype=np.float64)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.03)
    np.testing.assert_allclose(x.std(axis=0), 1.0, atol=0.03)


def test_swiss_roll_lies_on_the_documented_spiral():
    # Undo the documented fixed map; every point must be on the spiral t (cos t, sin t). A map
    # fitted to the drawn data (off by ~1/sqrt(N) from the exact constants) fails this.
    m, s = _swiss_constants()
    raw = np.asarray(sample_swiss_roll(_k(10), N, noise=0.0), dtype=np.float64) * s + m
    r = np.hypot(raw[:, 0], raw[:, 1])  # = t
    assert np.all((r > 1.5 * np.pi - 1e-3) & (r < 4.5 * np.pi + 1e-3))
    phase = np.angle(np.exp(1j * (np.arctan2(raw[:, 1], raw[:, 0]) - r)))
    np.testing.assert_allclose(phase, 0.0, atol=1e-3)
    # the angle is uniform on [1.5 pi, 4.5 pi]
    assert stats.kstest(r, stats.uniform(1.5 * np.pi, 3.0 * np.pi).cdf).pvalue > 1e-3


def test_noise_has_the_documented_size():
    _, s = _swiss_constants()
    clean = np.asarray(sample_swiss_roll(_k(11), N, noise=0.0), dtype=np.float64)
    noisy = np.asarray(sample_swiss_roll(_k(11), N, noise=0.5), dtype=np.float64)
    # same key: same angles, so the difference is the (scaled) noise alone
    diff = (noisy - clean) * s
    np.testing.assert_allclose(diff.std(axis=0), 0.5, rtol=0.05)


# --------------------------------------------------------------------------------------------
# Moons
# --------------------------------------------------------------------------------------------


def _moon_membership(x):
    """Map standardised noise-free moons back to raw units; return (raw, is_lower, u)."""
    m, s = _moons_constants()
    raw = np.asarray(x, dtype=np.float64) * s + m
    d_upper = np.abs(np.hypot(raw[:, 0], raw[:, 1]) - 1.0)
    d_lower = np.abs(np.hypot(raw[:, 0] - 1.0, raw[:, 1] - 0.5) - 1.0)
    on_upper = (d_upper < 1e-4) & (raw[:, 1] > -1e-4)
    on_lower = (d_lower < 1e-4) & (raw[:, 1] < 0.5 + 1e-4)
    assert np.all(on_upper | on_lower), "a noise-free point is on neither arc"
    is_lower = on_lower & ~on_upper
    u = np.where(is_lower, np.arctan2(0.5 - raw[:, 1], 1.0 - raw[:, 0]), np.arctan2(raw[:, 1], raw[:, 0]))
    return raw, is_lower, u


def test_moons_lie_on_the_arcs_half_each_at_uniform_positions():
    # _moon_membership undoes the documented fixed map and asserts every point is on an arc;
    # a map fitted to the drawn data (off by ~1/sqrt(N)) would leave points 1e-3 off.
    n = N
    _, is_lower, u = _moon_membership(sample_moons(_k(12), n, noise=0.0))
    k = int(is_lower.sum())
    assert 0.48 * n < k < 0.52 * n
    assert stats.binomtest(k, n, 0.5).pvalue > 1e-3
    assert stats.kstest(u, stats.uniform(0.0, np.pi).cdf).pvalue > 1e-3
    # the arcs really are the documented ones: u spans [0, pi] on both moons
    for side in (is_lower, ~is_lower):
        assert u[side].min() < 0.05 and u[side].max() > np.pi - 0.05


def _shared_rows(a, b):
    return len({row.tobytes() for row in np.asarray(a)} & {row.tobytes() for row in np.asarray(b)})


def test_independent_moon_draws_share_no_points():
    a = np.asarray(sample_moons(_k(14), N, noise=0.0))
    b = np.asarray(sample_moons(_k(15), N, noise=0.0))
    assert _shared_rows(a, a[::-1]) >= 0.99 * N  # the check does detect shared points
    # Evenly spaced arc positions would put (almost) every point of b on a point of a. With
    # random positions only rare float32 coincidences remain (about 1 in 1000 here).
    assert _shared_rows(a, b) <= N // 100
    # and the nearest point of a is typically far from each point of b
    sub_a, sub_b = a[:500], b[:500]
    dist = np.min(np.linalg.norm(sub_a[:, None, :] - sub_b[None, :, :], axis=-1), axis=0)
    assert np.median(dist) > 1e-3


# --------------------------------------------------------------------------------------------
# Checkerboard
# --------------------------------------------------------------------------------------------

# black unit squares [i, i+1) x [j, j+1), i + j even, on [-2, 2)^2
BLACK = [(i, j) for i in range(-2, 2) for j in range(-2, 2) if (i + j) % 2 == 0]
WHITE = [(i, j) for i in range(-2, 2) for j in range(-2, 2) if (i + j) % 2 == 1]


def _numpy_checkerboard_log_prob(x):
    """Independent reference: log(1/8) on black squares [i, i+1) x [j, j+1), i + j even."""
    x = np.asarray(x, np.float64)
    cell = np.floor(x).astype(np.int64)
    on_board = np.all((x >= -2) & (x < 2), axis=-1)
    black = (cell[..., 0] + cell[..., 1]) % 2 == 0
    return np.where(on_board & black, -np.log(8.0), -np.inf).astype(np.float32)


def test_checkerboard_samples_are_uniform_on_the_black_squares():
    n = N
    x = np.asarray(sample_checkerboard(_k(16), n), dtype=np.float64)
    assert np.all((x >= -2.0) & (x < 2.0))
    cell = np.floor(x).astype(int)
    assert np.all((cell[:, 0] + cell[:, 1]) % 2 == 0), "a sample is on a white square"
    counts = np.array([np.sum((cell[:, 0] == i) & (cell[:, 1] == j)) for i, j in BLACK])
    assert counts.sum() == n
    assert stats.chisquare(counts).pvalue > 1e-3
    # uniform inside each square
    frac = (x - cell).ravel()
    assert stats.kstest(frac, "uniform").pvalue > 1e-3


def test_checkerboard_log_prob_values():
    def centres(squares):
        return np.array([(i + 0.5, j + 0.5) for i, j in squares], np.float32)

    np.testing.assert_allclose(np.asarray(checkerboard_log_prob(centres(BLACK))), np.log(1 / 8), rtol=1e-6)
    assert np.all(np.isneginf(np.asarray(checkerboard_log_prob(centres(WHITE)))))
    outside = np.array(
        [[2.5, 0.5], [-2.5, -1.5], [0.5, 3.0], [10.0, 10.0], [2.0, -2.0], [-2.0, 2.0], [-1e9, 0.5], [0.5, 2.0]],
        np.float32,
    )
    assert np.all(np.isneginf(np.asarray(checkerboard_log_prob(outside))))
    # the samples all have the black-square density
    lp = np.asarray(checkerboard_log_prob(sample_checkerboard(_k(17), N)))
    np.testing.assert_allclose(lp, np.log(1 / 8), rtol=1e-6)


def test_checkerboard_log_prob_keeps_batch_shape_and_works_under_jit():
    x = np.random.default_rng(0).uniform(-3, 3, size=(3, 4, 2)).astype(np.float32)
    out = checkerboard_log_prob(x)
    assert out.shape == (3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(jax.jit(checkerboard_log_prob)(x)), np.asarray(out))
    np.testing.assert_array_equal(np.asarray(out), _numpy_checkerboard_log_prob(x))


def test_checkerboard_log_prob_integrates_to_one():
    h = 0.01
    g = np.arange(-3.0 + h / 2, 3.0, h)  # midpoints; square edges fall between them
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx, yy], axis=-1).astype(np.float32)
    lp = np.asarray(checkerboard_log_prob(pts))
    np.testing.assert_array_equal(lp, _numpy_checkerboard_log_prob(pts))
    np.testing.assert_allclose(np.exp(lp.astype(np.float64)).sum() * h * h, 1.0, atol=1e-3)


def test_checkerboard_log_prob_on_square_edges():
    # squares are half-open [i, i+1) x [j, j+1): an edge point belongs to the square above/right
    below_2 = np.nextafter(np.float32(2), np.float32(0))
    edges = np.array(
        [[-2, -2], [-1, -1.5], [0, 0], [1, 0], [-1.5, -1], [below_2, below_2], [-2, -1], [0, 1]], np.float32
    )
    expected = np.array([1, 0, 1, 0, 0, 1, 0, 0], bool)
    np.testing.assert_array_equal(_numpy_checkerboard_log_prob(edges) > -np.inf, expected)
    np.testing.assert_array_equal(np.asarray(checkerboard_log_prob(edges)), _numpy_checkerboard_log_prob(edges))


def test_checkerboard_log_prob_rejects_bad_points():
    with pytest.raises(ValueError, match=r"^x must be finite"):
        checkerboard_log_prob(np.array([[0.5, np.nan]], np.float32))
    with pytest.raises(ValueError, match=r"^x must be finite"):
        checkerboard_log_prob(np.array([[np.inf, 0.5]], np.float32))
    with pytest.raises(ValueError, match=r"^x must have shape \(\.\.\., 2\)"):
        checkerboard_log_prob(np.zeros((4, 3), np.float32))


# --------------------------------------------------------------------------------------------
# Mixtures
# --------------------------------------------------------------------------------------------


def _analytic_moments(mix):
    """Mixture mean (d,) and covariance (d, d) by the law of total variance, in NumPy."""
    w = np.asarray(mix.weights, np.float64)
    mu = np.asarray(mix.means, np.float64)
    s = np.asarray(mix.stds, np.float64)
    mean = w @ mu
    within = np.diag(w @ s**2)
    between = np.einsum("k,ki,kj->ij", w, mu, mu) - np.outer(mean, mean)
    return mean, within + between


def test_eight_gaussians_layout():
    mix = eight_gaussians_mixture()
    assert mix.weights.shape == (8,) and mix.means.shape == (8, 2) and mix.stds.shape == (8, 2)
    weights, means, stds = (np.asarray(a, np.float64) for a in mix)
    np.testing.assert_allclose(weights, 1 / 8, rtol=1e-6)
    radii = np.linalg.norm(means, axis=1)
    np.testing.assert_allclose(radii, radii[0], rtol=1e-6)
    np.testing.assert_allclose(stds, 0.1 * radii[0], rtol=1e-5)  # documented: std = 0.1 radius
    angles = np.sort(np.mod(np.arctan2(means[:, 1], means[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), np.pi / 4, atol=1e-5)
    mean, cov = _analytic_moments(mix)
    np.testing.assert_allclose(mean, 0.0, atol=1e-6)
    np.testing.assert_allclose(cov, np.eye(2), atol=0.01)  # documented: std about 1


def test_eight_gaussians_samples_match_analytic_moments():
    mix = eight_gaussians_mixture()
    mean, cov = _analytic_moments(mix)
    x = np.asarray(sample_eight_gaussians(_k(18), N), dtype=np.float64)
    np.testing.assert_allclose(x.mean(axis=0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(x, rowvar=False), cov, atol=0.05)
    # each component gets ~1/8 of the points
    nearest = np.argmin(np.linalg.norm(x[:, None, :] - np.asarray(mix.means)[None], axis=-1), axis=1)
    assert stats.chisquare(np.bincount(nearest, minlength=8)).pvalue > 1e-3


def test_eight_gaussians_density_integrates_to_one():
    h = 0.02
    g = np.arange(-3.0 + h / 2, 3.0, h)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx, yy], axis=-1).astype(np.float32)
    dens = np.exp(np.asarray(_mixture_log_prob_jit(eight_gaussians_mixture(), pts), dtype=np.float64))
    np.testing.assert_allclose(dens.sum() * h * h, 1.0, atol=2e-3)


def _mixture_cdf(mix, x):
    w = np.asarray(mix.weights, np.float64)
    mu = np.asarray(mix.means, np.float64)[:, 0]
    s = np.asarray(mix.stds, np.float64)[:, 0]
    return np.sum(w[None, :] * stats.norm.cdf((np.asarray(x)[:, None] - mu[None, :]) / s[None, :]), axis=1)


@pytest.mark.parametrize("name", MIX1D_NAMES)
def test_mixture_1d_is_a_valid_centred_unit_scale_mixture(name):
    mix = mixture_1d(name)
    assert mix.dim == 1
    K = mix.weights.shape[0]
    assert mix.means.shape == (K, 1) and mix.stds.shape == (K, 1)
    assert all(a.dtype == np.float32 for a in mix)
    w, s = np.asarray(mix.weights, np.float64), np.asarray(mix.stds, np.float64)
    assert np.all(w > 0) and np.all(s > 0)
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-6)
    mean, cov = _analytic_moments(mix)
    assert abs(mean[0]) < 0.1
    assert 0.8 < math.sqrt(cov[0, 0]) < 1.2


def test_mixture_1d_shapes_match_their_names():
    bi, tri, skew = (tuple(np.asarray(a, np.float64) for a in mixture_1d(name)) for name in MIX1D_NAMES)
    w, mu, s = bi
    assert w.shape == (2,)
    assert abs(mu[1, 0] - mu[0, 0]) > 4 * s.max()  # well separated: modes > 4 stds apart
    w, mu, s = tri
    assert w.shape == (3,) and len(set(np.round(w, 6))) == 3  # three unequal weights
    w, mu, s = skew
    assert w.shape == (2,)
    assert s.max() > 3 * s.min()  # one broad and one narrow component


@pytest.mark.parametrize("name", MIX1D_NAMES)
def test_mixture_1d_density_integrates_to_one(name):
    h = 0.004
    g = np.arange(-8.0 + h / 2, 8.0, h)
    dens = np.exp(np.asarray(_mixture_log_prob_jit(mixture_1d(name), g[:, None].astype(np.float32)), np.float64))
    np.testing.assert_allclose(dens.sum() * h, 1.0, atol=1e-3)
    # and equals the density computed independently with scipy
    mix = mixture_1d(name)
    ref = sum(
        float(w) * stats.norm.pdf(g, float(m), float(s))
        for w, m, s in zip(mix.weights, mix.means[:, 0], mix.stds[:, 0], strict=True)
    )
    np.testing.assert_allclose(dens, ref, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", MIX1D_NAMES)
def test_mixture_1d_samples_follow_the_density(name):
    mix = mixture_1d(name)
    x = np.asarray(_sample_mixture_jit(_k(19), mix, N), np.float64)[:, 0]
    assert stats.kstest(x, lambda t: _mixture_cdf(mix, t)).pvalue > 1e-3


def test_mixture_1d_unknown_name():
    with pytest.raises(ValueError, match=r"^name must be one of 'bimodal', 'trimodal', 'skewed'; got 'gaussian'"):
        mixture_1d("gaussian")
    with pytest.raises(ValueError, match=r"^name must be one of"):
        mixture_1d(None)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", SAMPLERS_2D)
@pytest.mark.parametrize("n", [0, -3, 2.5, "10", None, True])
def test_bad_n(sampler, n):
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1"):
        sampler(_k(0), n)


@pytest.mark.parametrize("sampler", SAMPLERS_2D)
@pytest.mark.parametrize("bad_key", [None, 42, np.zeros(3, np.uint32)])
def test_bad_key(sampler, bad_key):
    with pytest.raises(ValueError, match=r"^key must be a"):
        sampler(bad_key, N)


@pytest.mark.parametrize("sampler", NOISY)
@pytest.mark.parametrize("noise", [-1.0, -1e-9, float("nan"), float("inf"), np.float32("nan")])
def test_bad_noise_value(sampler, noise):
    with pytest.raises(ValueError, match=r"^noise must be a finite number >= 0"):
        sampler(_k(0), N, noise=noise)


@pytest.mark.parametrize("sampler", NOISY)
def test_bad_noise_type(sampler):
    with pytest.raises(ValueError, match=r"^noise must be a single number"):
        sampler(_k(0), N, noise=np.ones(2))
    with pytest.raises(ValueError, match=r"^noise must be"):
        sampler(_k(0), N, noise=True)


@pytest.mark.parametrize("sampler", NOISY)
def test_zero_noise_is_allowed(sampler):
    assert sampler(_k(0), N, noise=0).shape == (N, 2)
