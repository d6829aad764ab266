"""8x8 digits: the data against scikit-learn itself, the pixel maps, nearest neighbours against
a brute-force NumPy search, the image grid read back from its artists, and a short training run.
"""

from __future__ import annotations

import io

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from matplotlib.figure import Figure
from sklearn import datasets as sk_datasets

import diffviz as dv


@pytest.fixture(scope="module")
def sklearn_digits():
    bunch = sk_datasets.load_digits()
    return np.asarray(bunch.data, np.float64), np.asarray(bunch.target)


# --- the data ----------------------------------------------------------------------------------


def test_load_digits_matches_sklearn(sklearn_digits):
    counts, target = sklearn_digits
    pixels, labels = dv.load_digits()
    assert isinstance(dv.load_digits(), dv.DigitsData)
    assert pixels.shape == (1797, 64) and pixels.dtype == jnp.float32
    assert labels.shape == (1797,) and labels.dtype == jnp.int32
    assert float(pixels.min()) == -1.0 and float(pixels.max()) == 1.0
    np.testing.assert_array_equal(np.asarray(pixels, np.float64), counts / 8.0 - 1.0)  # multiples of 1/8: exact
    np.testing.assert_array_equal(np.asarray(labels), target)
    np.testing.assert_array_equal(np.bincount(np.asarray(labels), minlength=10), np.bincount(target, minlength=10))
    assert np.bincount(np.asarray(labels)).min() == 174 and np.bincount(np.asarray(labels)).max() == 183


def test_the_fast_csv_path_and_sklearns_loader_agree():
    from diffviz import _digits

    path = _digits._digits_csv_path()
    assert path is not None, "scikit-learn's digits.csv.gz moved: load_digits now takes the slow path"
    counts, labels = _digits._from_csv(path)
    sk_counts, sk_labels = _digits._from_sklearn()
    np.testing.assert_array_equal(counts, sk_counts)
    np.testing.assert_array_equal(labels, sk_labels)


def test_load_digits_is_deterministic():
    a, b = dv.load_digits(), dv.load_digits()
    assert np.array_equal(a.pixels, b.pixels) and np.array_equal(a.labels, b.labels)


def test_pixel_maps_fixed_points_and_round_trip(sklearn_digits, key):
    counts, _ = sklearn_digits
    np.testing.assert_array_equal(dv.digits_from_pixels(np.array([0.0, 4.0, 8.0, 12.0, 16.0])), [-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(dv.digits_to_pixels(jnp.array([-1.0, 0.0, 1.0])), [0.0, 8.0, 16.0])
    np.testing.assert_array_equal(dv.digits_to_pixels(dv.load_digits().pixels), counts)  # back to the ink counts
    x = jax.random.uniform(key, (50, 64), minval=-1.0, maxval=1.0)
    np.testing.assert_allclose(dv.digits_from_pixels(dv.digits_to_pixels(x)), x, atol=1e-6)
    assert dv.digits_to_pixels(x).dtype == jnp.float32


def test_digits_to_pixels_clips_only_when_asked():
    x = jnp.array([-1.5, -1.0, 0.25, 1.0, 1.25])
    np.testing.assert_allclose(dv.digits_to_pixels(x), [-4.0, 0.0, 10.0, 16.0, 18.0])
    np.testing.assert_allclose(dv.digits_to_pixels(x, clip=True), [0.0, 0.0, 10.0, 16.0, 16.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dv.digits_from_pixels(np.array([0.0, 17.0])), "values must be pixel values in \\[0, 16\\]"),
        (lambda: dv.digits_from_pixels(np.array([-0.5])), "values must be pixel values"),
        (lambda: dv.digits_from_pixels(np.array([np.nan])), "values must be finite"),
        (lambda: dv.digits_to_pixels(np.array([np.inf])), "x must be finite"),
        (lambda: dv.digits_to_pixels(np.zeros(3), clip="yes"), "clip must be True or False"),
        (lambda: dv.nearest_neighbours(np.zeros((3, 64)), np.zeros((5, 63))), "reference must have the dimension of x"),
        (lambda: dv.nearest_neighbours(np.zeros(64), np.zeros((5, 64))), "x must have shape \\(rows, d\\)"),
        (lambda: dv.nearest_neighbours(np.zeros((2, 4)), np.zeros((0, 4))), "reference must have shape"),
    ],
)
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- nearest neighbours ------------------------------------------------------------------------


def test_nearest_neighbours_match_a_brute_force_search(key):
    k1, k2 = jax.random.split(key)
    x = np.asarray(jax.random.normal(k1, (150, 64)))  # 150 rows: more than one block of 64, padded
    ref = np.asarray(jax.random.normal(k2, (300, 64)))
    dist = np.sqrt(((x[:, None, :].astype(np.float64) - ref[None, :, :]) ** 2).sum(-1))  # (150, 300)
    idx, d = dv.nearest_neighbours(x, ref)
    assert idx.shape == (150,) and idx.dtype == jnp.int32 and d.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(idx), dist.argmin(1))
    np.testing.assert_allclose(np.asarray(d), dist.min(1), rtol=1e-5)


def test_nearest_neighbour_of_a_copy_is_itself_and_ties_go_to_the_first_row():
    pixels = np.asarray(dv.load_digits().pixels)
    rows = np.array([5, 400, 1796])
    idx, d = dv.nearest_neighbours(pixels[rows] + 0.01, pixels)  # a tiny shift, far smaller than any gap
    np.testing.assert_allclose(np.asarray(d), 0.01 * 8.0, rtol=1e-4)  # |0.01 * ones(64)| = 0.08
    same = (np.abs(pixels[np.asarray(idx)] - pixels[rows]).max(axis=1) == 0)
    assert same.all()  # the row itself, or an identical image
    ref = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    idx, d = dv.nearest_neighbours(np.array([[0.0, 0.1]]), ref)
    assert int(idx[0]) == 1 and abs(float(d[0]) - 0.1) < 1e-7


# --- the image grid ----------------------------------------------------------------------------


def images_by_gid(fig: Figure) -> dict:
    return {im.get_gid(): im for ax in fig.axes for im in ax.get_images()}


def texts_by_gid(fig: Figure) -> dict:
    return {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}


@pytest.mark.usefixtures("no_leaked_figures")
def test_digit_grid_draws_every_image_as_given():
    pixels = np.asarray(dv.load_digits().pixels)[:13]
    fig = dv.plot_digit_grid(pixels, ncols=5, title="thirteen digits")
    assert isinstance(fig, Figure)
    drawn = images_by_gid(fig)
    assert sorted(drawn) == sorted(f"digit:{i}" for i in range(13))  # 3 rows of 5, two empty slots
    assert len(fig.axes) == 1
    # reading order: image 7 is row 1, column 2 of the grid (y grows downwards)
    left, right, _, top = drawn["digit:7"].get_extent()
    first = drawn["digit:0"].get_extent()
    assert left > first[0] and top > first[3] and right - left == pytest.approx(1.0)
    assert drawn["digit:5"].get_extent()[0] == pytest.approx(first[0])  # image 5 starts row 1
    for i in range(13):
        np.testing.assert_array_equal(np.asarray(drawn[f"digit:{i}"].get_array()), pixels[i].reshape(8, 8))
    im = drawn["digit:0"]
    assert (im.norm.vmin, im.norm.vmax) == (-1.0, 1.0)
    np.testing.assert_allclose(im.to_rgba(-1.0)[:3], (1.0, 1.0, 1.0))  # paper is white
    np.testing.assert_allclose(im.to_rgba(1.0)[:3], (0.0, 0.0, 0.0))  # ink is black
    fig.savefig(io.BytesIO(), format="png")  # renders with Agg


@pytest.mark.usefixtures("no_leaked_figures")
def test_digit_grid_layout_is_row_major():
    one = -np.ones((1, 64))
    one[0, 8 * 2 + 5] = 1.0  # ink at row 2, column 5
    drawn = images_by_gid(dv.plot_digit_grid(one))
    arr = np.asarray(drawn["digit:0"].get_array())
    assert arr[2, 5] == 1.0 and arr.sum() == -62.0


@pytest.mark.usefixtures("no_leaked_figures")
def test_digit_grid_titles_row_labels_and_panels():
    pixels = np.asarray(dv.load_digits().pixels)
    fig = dv.plot_digit_grid(
        pixels[:6].reshape(6, 8, 8), ncols=3, titles=[f"t = {t}" for t in range(6)], row_labels=["a", "b"],
        value_range=(-3.0, 3.0),
    )  # fmt: skip
    texts = texts_by_gid(fig)
    assert [texts[f"title:{i}"] for i in range(6)] == [f"t = {t}" for t in range(6)]
    assert [texts["row:0"], texts["row:1"]] == ["a", "b"]
    assert images_by_gid(fig)["digit:5"].norm.vmax == 3.0
    panels = dv.plot_digit_grid({"samples": pixels[:20], "real digits": pixels[20:30]}, ncols=5)
    drawn = images_by_gid(panels)
    assert len(drawn) == 30
    assert {g.rsplit(":", 1)[0] for g in drawn} == {"digit:samples", "digit:real digits"}
    np.testing.assert_array_equal(np.asarray(drawn["digit:real digits:9"].get_array()), pixels[29].reshape(8, 8))
    assert texts_by_gid(panels) == {"panel:samples": "samples", "panel:real digits": "real digits"}
    # the second panel lies entirely to the right of the first
    assert drawn["digit:real digits:0"].get_extent()[0] > max(drawn[f"digit:samples:{i}"].get_extent()[1] for i in range(20))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((3, 63))}, "images must have shape \\(n, 64\\) or \\(n, 8, 8\\)"),
        ({"images": np.zeros((0, 64))}, "images must have shape"),
        ({"images": np.full((2, 64), np.nan)}, "images must be finite"),
        ({"images": {}}, "images must hold at least one panel"),
        ({"images": {"a": np.zeros((2, 7, 7))}}, "images\\['a'\\] must have shape"),
        ({"images": np.zeros((4, 64)), "ncols": 0}, "ncols must be an integer >= 1"),
        ({"images": np.zeros((4, 64)), "value_range": (1.0, 1.0)}, "value_range must be a pair \\(low, high\\) of finite numbers with low < high"),
        ({"images": np.zeros((4, 64)), "value_range": 3}, "value_range must be a pair"),
        ({"images": np.zeros((4, 64)), "titles": ["a"]}, "titles must be a list of 4 strings"),
        ({"images": np.zeros((4, 64)), "ncols": 2, "row_labels": ["a"]}, "row_labels must be a list of 2 strings"),
        ({"images": {"a": np.zeros((2, 64))}, "titles": ["x", "y"]}, "titles is only supported for a single grid"),
        ({"images": np.zeros((4, 64)), "cell_size": 0}, "cell_size must be a number of inches"),
    ],
)
@pytest.mark.usefixtures("no_leaked_figures")
def test_digit_grid_bad_input_names_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dv.plot_digit_grid(**kwargs)


# --- training on digits ------------------------------------------------------------------------


def test_a_short_training_run_on_digits_lowers_the_eps_loss():
    pixels = dv.load_digits().pixels
    train, held_out = pixels[:1500], pixels[1500:]
    schedule = dv.linear_schedule(1000)
    graphdef, params = dv.init_denoiser(jax.random.key(0), dv.DenoiserConfig(dim=64, width=128, depth=2, time_dim=32))
    opt = optax.adam(3e-3)
    step = dv.make_train_step(graphdef, schedule, opt, ema_decay=0.98)
    state = dv.init_train_state(params, opt)
    state, losses = dv.fit(jax.random.key(1), step, state, train, batch_size=64, num_steps=300, steps_per_call=150, progress=False)

    def held_out_loss(p):  # same t and noise draws for both: only the parameters differ
        eps_fn = dv.model_eps_fn(graphdef, p)
        return float(dv.batch_eps_loss(jax.random.key(2), eps_fn, schedule, held_out))

    before, after = held_out_loss(params), held_out_loss(state.ema_params)
    # Predicting eps = 0 scores exactly E|eps|^2 / d = 1; a trained network must do far better on
    # digits it never saw (about 0.19 after these 300 steps).
    assert after < 0.35 and after < 0.5 * before, (before, after)
    assert losses[-50:].mean() < 0.5 * losses[:20].mean()
