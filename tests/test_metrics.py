"""The sample distances against independent SciPy/NumPy computations and known values."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import diffviz as dv

RNG = np.random.default_rng(7)


def _directions(key, num, d):
    """The documented recipe: normalised rows of jax.random.normal(key, (num, d))."""
    g = np.asarray(jax.random.normal(key, (num, d), jnp.float32), np.float64)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Sliced Wasserstein
# --------------------------------------------------------------------------------------------


N, D, P = 2000, 2, 256  # the common configuration: one compilation for most tests


@pytest.mark.parametrize("n, d, num_projections", [(N, D, P), (300, 5, 130)])
def test_sliced_wasserstein_matches_scipy_per_direction(key, n, d, num_projections):
    """130 directions also exercises a partial last chunk (chunks of 64)."""
    x = RNG.normal(size=(n, d))
    y = RNG.standard_t(df=3, size=(n, d)) * 0.7 + 0.2
    u = _directions(key, num_projections, d)
    expected = np.mean([stats.wasserstein_distance(x @ dir_, y @ dir_) for dir_ in u])
    got = dv.sliced_wasserstein(key, x, y, num_projections)
    assert got.dtype == jnp.float32 and got.shape == ()
    assert float(got) == pytest.approx(expected, rel=1e-4)


def test_sliced_wasserstein_of_a_shift_approaches_two_over_pi_times_its_length(key):
    """y = x + c: every projection is shifted by u.c, so SW1 = mean |u.c| -> |c| E|cos| = 2|c|/pi."""
    x = RNG.normal(size=(N, D))
    c = np.array([1.2, -0.5])
    got = float(dv.sliced_wasserstein(key, x, x + c, num_projections=8192))
    # Monte Carlo over directions: std of |cos| is sqrt(1/2 - 4/pi^2) = 0.31, /sqrt(8192) -> 0.34%
    assert got == pytest.approx(np.linalg.norm(c) * 2 / np.pi, rel=0.015)


def test_sliced_wasserstein_is_zero_for_identical_inputs_and_ignores_order(key):
    x = RNG.normal(size=(N, D))
    assert float(dv.sliced_wasserstein(key, x, x)) == 0.0
    assert float(dv.sliced_wasserstein(key, x, x[::-1])) == 0.0  # a permutation: same sample
    assert float(dv.sliced_wasserstein(key, x, x + 0.1)) > 0.0


def test_sliced_wasserstein_same_key_same_value_legacy_key_too(key):
    x, y = RNG.normal(size=(N, D)), RNG.normal(size=(N, D)) + 0.3
    assert float(dv.sliced_wasserstein(key, x, y)) == float(dv.sliced_wasserstein(key, x, y))
    legacy = jax.random.PRNGKey(5)
    assert float(dv.sliced_wasserstein(legacy, x, y)) == float(dv.sliced_wasserstein(jax.random.wrap_key_data(legacy), x, y))


def test_sliced_wasserstein_of_a_shift_at_ten_thousand_points(key):
    """A shift by (1, 1): W1 along direction u is |u . (1, 1)|, whose mean over the circle is
    sqrt(2) * 2 / pi. (Its speed at this size is a benchmark's business, not a test's.)"""
    x = jax.random.normal(key, (10_000, 2))
    y = x + 1.0
    value = dv.sliced_wasserstein(jax.random.fold_in(key, 1), x, y)
    assert float(value) == pytest.approx(np.sqrt(2) * 2 / np.pi, rel=0.1)


# --------------------------------------------------------------------------------------------
# Energy distance
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, m, shift", [(300, 300, 0.0), (400, 250, 0.5), (1000, 700, 2.0)])
def test_energy_distance_equals_scipy_in_1d(n, m, shift):
    x = RNG.normal(size=n)
    y = RNG.exponential(size=m) + shift
    got = dv.energy_distance(x[:, None], y[:, None])
    assert got.dtype == jnp.float32 and got.shape == ()
    assert float(got) == pytest.approx(stats.energy_distance(x, y), rel=1e-3)


def test_energy_distance_matches_a_direct_numpy_computation_in_3d():
    x, y = RNG.normal(size=(200, 3)), RNG.normal(size=(150, 3)) * 1.5

    def mean_dist(a, b):
        return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1).mean()

    expected = np.sqrt(2 * mean_dist(x, y) - mean_dist(x, x) - mean_dist(y, y))
    assert float(dv.energy_distance(x, y)) == pytest.approx(expected, rel=1e-3)


def test_energy_distance_is_near_zero_for_one_distribution_and_grows_with_a_shift(key):
    k1, k2 = jax.random.split(key)
    x, y = dv.sample_moons(k1, N), dv.sample_moons(k2, N)
    same = float(dv.energy_distance(x, y))
    shifts = [float(dv.energy_distance(x, y + jnp.array([[s, 0.0]]))) for s in (0.25, 0.5, 1.0, 2.0)]
    assert same < 0.05
    assert same < shifts[0] and np.all(np.diff(shifts) > 0), (same, shifts)
    assert float(dv.energy_distance(x, x)) == pytest.approx(0.0, abs=1e-3)


def test_energy_distance_uses_the_first_max_points_rows():
    x = RNG.normal(size=(500, 2))
    y = RNG.normal(size=(600, 2)) + 1.0
    assert float(dv.energy_distance(x, y, max_points=100)) == pytest.approx(float(dv.energy_distance(x[:100], y[:100])), rel=1e-6)
    # a block of rows smaller than the data (several blocks, a padded last one) changes nothing
    big = RNG.normal(size=(3000, 2))
    expected = stats.energy_distance(big[:, 0], big[::-1, 0] * 1.3 + 0.2)
    assert float(dv.energy_distance(big[:, :1], big[::-1, :1] * 1.3 + 0.2)) == pytest.approx(expected, rel=1e-3)


# --------------------------------------------------------------------------------------------
# Histogram KL
# --------------------------------------------------------------------------------------------


def test_histogram_kl_matches_a_hand_computed_value():
    # bins [0, .5) and [.5, 1]: p = (1/2, 1/2), q = (1/4, 3/4)
    # KL = 1/2 log(2) + 1/2 log(2/3) = 1/2 log(4/3)
    x = np.array([0.0, 0.1, 0.9, 1.0])
    y = np.array([0.2, 0.6, 0.7, 1.0])
    got = dv.histogram_kl(x, y, bins=2, range=(0.0, 1.0), eps=0.0)
    assert got.dtype == jnp.float32
    assert float(got) == pytest.approx(0.5 * np.log(4 / 3), rel=1e-6)
    # the default smoothing eps = 1e-6 barely moves it
    assert float(dv.histogram_kl(x, y, bins=2, range=(0.0, 1.0))) == pytest.approx(0.5 * np.log(4 / 3), rel=1e-4)


def test_histogram_kl_matches_scipy_entropy_of_numpy_histograms():
    x = RNG.normal(size=5000)
    y = RNG.normal(size=4000) * 1.3 + 0.4
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    px, _ = np.histogram(x, bins=40, range=(lo, hi))
    py, _ = np.histogram(y, bins=40, range=(lo, hi))
    eps = 1e-3
    p = (px / px.sum() + eps) / (1 + 40 * eps)
    q = (py / py.sum() + eps) / (1 + 40 * eps)
    got = float(dv.histogram_kl(x, y[:, None], bins=40, eps=eps))  # (n,) and (m, 1) both accepted
    assert got == pytest.approx(stats.entropy(p, q), rel=1e-4)


def test_histogram_kl_is_zero_for_identical_samples_and_infinite_unsmoothed_on_a_missed_bin():
    x = RNG.normal(size=1000)
    assert float(dv.histogram_kl(x, x)) == pytest.approx(0.0, abs=1e-7)
    missed = dv.histogram_kl(np.array([0.0, 1.0]), np.array([0.0, 0.0]), bins=2, eps=0.0)
    assert np.isinf(float(missed))
    # smoothed: finite, about p log(p / eps)
    smoothed = float(dv.histogram_kl(np.array([0.0, 1.0]), np.array([0.0, 0.0]), bins=2))
    assert np.isfinite(smoothed) and smoothed > 5


def test_histogram_kl_ignores_points_outside_the_range():
    x = np.array([0.1, 0.6, 5.0])
    y = np.array([0.2, 0.7, -3.0, 9.0])
    assert float(dv.histogram_kl(x, y, bins=2, range=(0.0, 1.0), eps=0.0)) == pytest.approx(0.0, abs=1e-7)


# --------------------------------------------------------------------------------------------
# Noise floor
# --------------------------------------------------------------------------------------------


def test_noise_floor_is_positive_and_below_the_distance_between_different_data(key):
    k_metric, k_floor, k_a, k_b = jax.random.split(key, 4)
    metric = functools.partial(dv.sliced_wasserstein, k_metric)
    floor = dv.noise_floor(k_floor, metric, dv.sample_moons, N)
    assert isinstance(floor, float) and floor > 0
    different = float(metric(dv.sample_moons(k_a, N), dv.sample_checkerboard(k_b, N)))
    assert floor < different / 3, (floor, different)


def test_noise_floor_averages_the_repeats_by_hand(key):
    calls = []

    def sampler(k, n):
        calls.append(n)
        return jax.random.normal(k, (n, 1))

    def metric(x, y):
        return jnp.abs(jnp.mean(x) - jnp.mean(y))

    value = dv.noise_floor(key, metric, sampler, 50, repeats=4)
    keys = jax.random.split(key, 8)
    by_hand = np.mean([float(metric(sampler(keys[2 * r], 50), sampler(keys[2 * r + 1], 50))) for r in range(4)])
    assert value == pytest.approx(by_hand, rel=1e-6)
    assert calls == [50] * 16  # 2 draws per repeat, noise_floor's 8 and the 8 above


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------

K = jax.random.key(0)
X = np.zeros((10, 2))
X1 = np.zeros(10)
NAN = np.array([[0.0, np.nan]] * 10)

BAD = {
    "sw key": (lambda: dv.sliced_wasserstein(None, X, X), r"key must be a JAX PRNG key"),
    "sw n differs": (lambda: dv.sliced_wasserstein(K, X, X[:5]), r"y must have shape \(10, 2\)"),
    "sw d differs": (lambda: dv.sliced_wasserstein(K, X, np.zeros((10, 3))), r"y must have shape \(10, 2\)"),
    "sw 1-D": (lambda: dv.sliced_wasserstein(K, X1, X1), r"x must have shape \(n, d\)"),
    "sw nan": (lambda: dv.sliced_wasserstein(K, X, NAN), r"y must be finite"),
    "sw projections": (lambda: dv.sliced_wasserstein(K, X, X, 0), r"num_projections must be an integer >= 1; got 0"),
    "ed d differs": (lambda: dv.energy_distance(X, np.zeros((4, 3))), r"y must have the dimension of x"),
    "ed nan": (lambda: dv.energy_distance(NAN, X), r"x must be finite"),
    "ed empty": (lambda: dv.energy_distance(np.zeros((0, 2)), X), r"x must have shape \(n, d\) with n, d >= 1"),
    "ed max_points": (lambda: dv.energy_distance(X, X, max_points=0.5), r"max_points must be an integer >= 1"),
    "kl 2-D": (lambda: dv.histogram_kl(X, X), r"x must be a 1-D sample"),
    "kl nan": (lambda: dv.histogram_kl(X1, np.array([np.nan])), r"y must be finite"),
    "kl bins": (lambda: dv.histogram_kl(X1, X1, bins=0), r"bins must be an integer >= 1; got 0"),
    "kl range order": (lambda: dv.histogram_kl(X1, X1, range=(1.0, 0.0)), r"range must be None or a pair \(low, high\)"),
    "kl range shape": (lambda: dv.histogram_kl(X1, X1, range=(0.0,)), r"range must be None or a pair"),
    "kl range inf": (lambda: dv.histogram_kl(X1, X1, range=(0.0, np.inf)), r"range must be None or a pair"),
    "kl eps": (lambda: dv.histogram_kl(X1, X1, eps=-1e-3), r"eps must be a finite number >= 0"),
    "kl outside": (lambda: dv.histogram_kl(X1, X1 + 5, range=(-1.0, 1.0)), r"y has no point inside range"),
    "floor metric": (lambda: dv.noise_floor(K, "sw", dv.sample_moons, 10), r"metric must be callable"),
    "floor sampler": (lambda: dv.noise_floor(K, dv.energy_distance, None, 10), r"sampler must be callable"),
    "floor n": (lambda: dv.noise_floor(K, dv.energy_distance, dv.sample_moons, 0), r"n must be an integer >= 1; got 0"),
    "floor repeats": (lambda: dv.noise_floor(K, dv.energy_distance, dv.sample_moons, 10, repeats=0), r"repeats must be an integer >= 1"),
    "floor not scalar": (
        lambda: dv.noise_floor(K, lambda x, y: x - y, dv.sample_moons, 10),
        r"metric must return a finite scalar",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_a_named_value_error(case):
    call, pattern = BAD[case]
    with pytest.raises(ValueError, match=pattern):
        call()
