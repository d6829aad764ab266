"""The class-conditional denoiser, label dropout and classifier-free guidance (issue 17 item 6, the trained side)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import diffviz as dv

K = 3  # classes of the small networks below; label K is the null label


def randomised(params, key):
    """Every leaf replaced by N(0, 0.25) draws (biases start at 0, the label table near 0)."""
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(tree, [0.5 * jax.random.normal(k, leaf.shape, leaf.dtype) for k, leaf in zip(keys, leaves)])


def small_net(num_classes=K, key=4):
    config = dv.DenoiserConfig(dim=2, width=16, depth=2, time_dim=8, input_dim=4, num_classes=num_classes)
    gd, params = dv.init_denoiser(jax.random.key(key), config)
    return config, gd, randomised(params, jax.random.key(6))


X = jax.random.normal(jax.random.key(5), (6, 2)) * 2


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


def test_the_conditional_network_is_the_documented_function():
    """NumPy float64, from the docstring: the label's row of the table is added before the first activation."""
    config, gd, params = small_net()
    t = jnp.arange(6) * 100
    c = jnp.array([0, 1, 2, 3, 1, 0])  # 3 = the null label
    w = jax.tree.map(lambda a: np.asarray(a, np.float64), nnx.to_pure_dict(params))
    feats = np.concatenate([np.asarray(dv.coordinate_embedding(X, 4, config.input_scale)), np.asarray(dv.sinusoidal_embedding(t, 8))], -1)
    pre = feats @ w["inp"]["kernel"] + w["inp"]["bias"] + w["label_embed"]["embedding"][np.asarray(c)]
    h = 0.5 * pre * (1 + special.erf(pre / np.sqrt(2)))
    for k in range(config.depth):
        z = h @ w["blocks"][k]["linear"]["kernel"] + w["blocks"][k]["linear"]["bias"]
        h = h + 0.5 * z * (1 + special.erf(z / np.sqrt(2)))
    want = h @ w["out"]["kernel"] + w["out"]["bias"]
    np.testing.assert_allclose(np.asarray(dv.apply_denoiser(gd, params, X, t, c)), want, rtol=1e-4, atol=1e-5)
    assert w["label_embed"]["embedding"].shape == (K + 1, config.width)


def test_num_classes_zero_is_the_unconditional_network_bit_for_bit():
    """Same key: the conditional network draws the same weights for every other layer, and with its
    label table set to zero it returns exactly the unconditional network's output."""
    gd0, p0 = dv.init_denoiser(jax.random.key(7), dv.DenoiserConfig(dim=2, input_dim=4))
    gd, p = dv.init_denoiser(jax.random.key(7), dv.DenoiserConfig(dim=2, input_dim=4, num_classes=K))
    assert dv.DenoiserConfig(dim=2).num_classes == 0
    assert "label_embed" not in nnx.to_pure_dict(p0)
    assert dv.count_params(p) - dv.count_params(p0) == (K + 1) * 64
    uncond, cond = nnx.to_pure_dict(p0), nnx.to_pure_dict(p)
    table = cond.pop("label_embed")["embedding"]
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(uncond), jax.tree.leaves(cond)))
    zeroed = jax.tree.map(lambda a: a, p)  # a copy, with the label table set to zero
    nnx.replace_by_pure_dict(zeroed, {**nnx.to_pure_dict(p), "label_embed": {"embedding": jnp.zeros_like(table)}})
    for t in (17, jnp.arange(6) * 50):  # the shared-t path and the per-row path
        want = np.asarray(dv.apply_denoiser(gd0, p0, X, t))
        for c in (None, 1, jnp.array([0, 1, 2, 3, 0, 1])):
            assert np.array_equal(np.asarray(dv.apply_denoiser(gd, zeroed, X, t, c)), want)


def test_the_null_label_is_the_default_and_labels_broadcast():
    _, gd, params = small_net()
    null = dv.apply_denoiser(gd, params, X, 40)
    np.testing.assert_array_equal(np.asarray(dv.apply_denoiser(gd, params, X, 40, K)), np.asarray(null))
    np.testing.assert_allclose(np.asarray(dv.conditional_eps_fn(gd, params, K)(X, 40)), np.asarray(null), rtol=1e-6, atol=1e-6)
    # one label for every row = that label repeated; per-row labels = each row with its own label
    labels = jnp.array([2, 0, 1, 3, 2, 0])
    rows = np.asarray(dv.apply_denoiser(gd, params, X, 40, labels))
    for k in range(K + 1):
        alone = np.asarray(dv.apply_denoiser(gd, params, X, 40, k))
        np.testing.assert_allclose(alone, np.asarray(dv.apply_denoiser(gd, params, X, 40, jnp.full(6, k))), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rows[np.asarray(labels) == k], alone[np.asarray(labels) == k], rtol=1e-5, atol=1e-6)
    assert not np.allclose(rows, np.asarray(null))  # the label reaches the output


# --------------------------------------------------------------------------------------------
# Guidance
# --------------------------------------------------------------------------------------------


_, GD, PARAMS = small_net()


@settings(max_examples=15, deadline=None)
@given(st.floats(0.0, 20.0, width=32), st.integers(0, K - 1), st.integers(1, 1000))
def test_cfg_is_the_guided_combination_for_every_scale_class_and_step(w, c, t):
    cond = np.asarray(dv.apply_denoiser(GD, PARAMS, X, t, c), np.float64)
    uncond = np.asarray(dv.apply_denoiser(GD, PARAMS, X, t), np.float64)
    got = np.asarray(dv.cfg_eps_fn(GD, PARAMS, c, w)(X, t))
    want = (1 + w) * cond - w * uncond
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * (1 + w) * np.abs(cond).max())


def test_cfg_special_cases_rows_and_continuous_time():
    _, gd, params = small_net()
    # w = 0 is the conditional predictor
    np.testing.assert_allclose(
        np.asarray(dv.cfg_eps_fn(gd, params, 2, 0.0)(X, 300)), np.asarray(dv.conditional_eps_fn(gd, params, 2)(X, 300)),
        rtol=1e-6, atol=1e-6,
    )  # fmt: skip
    # per-row labels and scales: row i is the scalar call with (c_i, w_i)
    labels, scales = jnp.array([0, 1, 2, 0, 1, 2]), jnp.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    rows = np.asarray(dv.cfg_eps_fn(gd, params, labels, scales)(X, 300))
    for i in range(6):
        one = np.asarray(dv.cfg_eps_fn(gd, params, int(labels[i]), float(scales[i]))(X, 300))[i]
        np.testing.assert_allclose(rows[i], one, rtol=1e-5, atol=1e-5)
    # the continuous-time version calls the network at the float step t * T
    cont = dv.continuous_cfg_eps_fn(gd, params, 1, 2.0, 1000)(X, jnp.float32(0.3))
    np.testing.assert_allclose(np.asarray(cont), np.asarray(dv.cfg_eps_fn(gd, params, 1, 2.0)(X, 300.0)), rtol=1e-5, atol=1e-5)


def test_cfg_runs_inside_the_samplers_and_reuses_the_compilation():
    _, gd, params = small_net()
    schedule = dv.linear_schedule(20)
    a = dv.ddim_sample(jax.random.key(1), dv.cfg_eps_fn(gd, params, 0, 1.0), schedule, (6, 2), num_steps=5)
    b = dv.ddim_sample(jax.random.key(1), dv.cfg_eps_fn(gd, params, 0, 1.0), schedule, (6, 2), num_steps=5)
    c = dv.ddim_sample(jax.random.key(1), dv.cfg_eps_fn(gd, params, 2, 4.0), schedule, (6, 2), num_steps=5)
    assert a.shape == (6, 2) and np.all(np.isfinite(np.asarray(a)))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.allclose(np.asarray(a), np.asarray(c))


# --------------------------------------------------------------------------------------------
# Label dropout and the objective
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, 0.1, 0.35, 1.0])
def test_label_dropout_rate_and_the_kept_labels(p):
    n = 200_000
    labels = jax.random.randint(jax.random.key(2), (n,), 0, K)
    out = np.asarray(dv.drop_labels(jax.random.key(3), labels, K, p))
    dropped = out == K
    rate = dropped.mean()
    assert abs(rate - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12, rate  # binomial, 5 standard errors
    np.testing.assert_array_equal(out[~dropped], np.asarray(labels)[~dropped])
    # the dropped rows are spread evenly over the classes (a drop does not depend on the label)
    if 0 < p < 1:
        for k in range(K):
            share = dropped[np.asarray(labels) == k].mean()
            assert abs(share - p) < 6 * np.sqrt(p * (1 - p) / (n / K))


@pytest.mark.parametrize("p_uncond,rows", [(0.0, {0}), (1.0, {K}), (0.5, {0, K})])
def test_the_objective_trains_exactly_the_rows_it_uses(p_uncond, rows):
    """The gradient reaches the label table only in the rows of the labels after dropout."""
    _, gd, params = small_net()
    loss = dv.conditional_eps_objective(dv.linear_schedule(50), num_classes=K, p_uncond=p_uncond)
    batch = (X, jnp.zeros(6, jnp.int32))  # every example of class 0
    grads = jax.grad(lambda p: loss(jax.random.key(8), gd, p, batch))(params)
    table = np.asarray(nnx.to_pure_dict(grads)["label_embed"]["embedding"])
    assert {k for k in range(K + 1) if np.any(table[k] != 0)} == rows


# --------------------------------------------------------------------------------------------
# A labelled toy, trained: two separated Gaussians, the class is which one
# --------------------------------------------------------------------------------------------

MEANS, STD = (-2.0, 2.0), 0.4


@pytest.fixture(scope="module")
def toy_model():
    per_class = [dv.sample_mixture(jax.random.key(10 + k), dv.gaussian_mixture([1.0], [m], STD), 2000) for k, m in enumerate(MEANS)]
    x, labels = jnp.concatenate(per_class), jnp.repeat(jnp.arange(2), 2000)
    schedule = dv.linear_schedule(200)
    gd, params = dv.init_denoiser(jax.random.key(0), dv.DenoiserConfig(dim=1, width=64, depth=2, time_dim=16, num_classes=2))
    optimizer = dv.adam(dv.warmup_cosine(3e-3, 50, 400))
    loss = dv.conditional_eps_objective(schedule, num_classes=2, p_uncond=0.2)
    step = dv.make_train_step(gd, schedule, optimizer, ema_decay=0.99, loss=loss)
    state, losses = dv.fit(
        jax.random.key(1), step, dv.init_train_state(params, optimizer), (x, labels),
        batch_size=128, num_steps=400, steps_per_call=200, progress=False,
    )  # fmt: skip
    return gd, state.ema_params, schedule, losses


def test_the_trained_toy_samples_the_asked_for_class(toy_model):
    gd, params, schedule, losses = toy_model
    assert losses[-50:].mean() < 0.6 * losses[:20].mean()
    left = {}
    for name, fn in {
        "class 0": dv.conditional_eps_fn(gd, params, 0),
        "class 1": dv.conditional_eps_fn(gd, params, 1),
        "unconditional": dv.conditional_eps_fn(gd, params, 2),
        "class 0, w = 3": dv.cfg_eps_fn(gd, params, 0, 3.0),
    }.items():
        samples = np.asarray(dv.ddpm_sample(jax.random.key(2), fn, schedule, (800, 1)))[:, 0]
        left[name] = (np.mean(samples < 0), np.std(samples[samples < 0]) if np.any(samples < 0) else 0.0)
    assert left["class 0"][0] > 0.9 and left["class 1"][0] < 0.1
    assert 0.35 < left["unconditional"][0] < 0.65  # covers both components (each half the data)
    # guidance: still class 0, and tighter than the component (pushed away from the other class)
    assert left["class 0, w = 3"][0] > 0.97 and left["class 0, w = 3"][1] < left["class 0"][1]


def test_fit_takes_a_labelled_sampler():
    gd, params = dv.init_denoiser(jax.random.key(0), dv.DenoiserConfig(dim=1, width=8, depth=1, time_dim=4, num_classes=2))
    optimizer = dv.adam(1e-3)
    step = dv.make_train_step(gd, None, optimizer, loss=dv.conditional_eps_objective(dv.linear_schedule(10), num_classes=2))

    def sampler(key, n):
        labels = jax.random.randint(key, (n,), 0, 2)
        return labels[:, None].astype(jnp.float32) * 2 - 1, labels

    state, losses = dv.fit(jax.random.key(1), step, dv.init_train_state(params, optimizer), sampler, batch_size=16, num_steps=3, progress=False)
    assert losses.shape == (3,) and np.all(np.isfinite(losses)) and int(state.step) == 3


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_bad_guidance_scales_and_labels_are_refused():
    _, gd, params = small_net()
    for w in (float("nan"), -0.5, float("inf"), jnp.array([1.0, -1.0]), "3", True, jnp.ones((2, 2))):
        with pytest.raises(ValueError, match=r"^w must be a guidance scale, a finite number >= 0 \(0 is plain conditional sampling\), or a 1-D array of them \(one per sample\); got"):
            dv.cfg_eps_fn(gd, params, 0, w)
    for c in (K, -1, jnp.array([0, 5]), 1.0, True):  # the null label K is not a class to guide towards
        with pytest.raises(ValueError, match=r"c must be class labels, integers in 0\.\.2"):
            dv.cfg_eps_fn(gd, params, c, 1.0)
    with pytest.raises(ValueError, match=r"c must be class labels, integers in 0\.\.3 \(3 = the null label"):
        dv.conditional_eps_fn(gd, params, 4)
    with pytest.raises(ValueError, match=r"c must be class labels"):
        dv.apply_denoiser(gd, params, X, 5, -2)
    _, gd0, p0 = small_net(num_classes=0)
    with pytest.raises(ValueError, match="params must belong to a class-conditional denoiser"):
        dv.cfg_eps_fn(gd0, p0, 0, 1.0)
    with pytest.raises(ValueError, match="c must be None for an unconditional denoiser"):
        dv.apply_denoiser(gd0, p0, X, 5, 0)
    with pytest.raises(ValueError, match=r"config\.num_classes must be an integer >= 0"):
        dv.init_denoiser(jax.random.key(0), dv.DenoiserConfig(dim=2, num_classes=-1))


def test_bad_dropout_and_objective_arguments_are_refused():
    schedule = dv.linear_schedule(10)
    for p in (-0.1, 1.5, float("nan"), None):
        with pytest.raises(ValueError, match="p_uncond must be a number in"):
            dv.conditional_eps_objective(schedule, num_classes=2, p_uncond=p)
        with pytest.raises(ValueError, match="p_uncond must be a number in"):
            dv.drop_labels(jax.random.key(0), jnp.zeros(3, jnp.int32), 2, p)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        dv.conditional_eps_objective(schedule, num_classes=0)
    with pytest.raises(ValueError, match=r"labels must be class labels, integers in 0\.\.1"):
        dv.drop_labels(jax.random.key(0), jnp.array([0, 2]), 2, 0.1)
    _, gd, params = small_net()
    with pytest.raises(ValueError, match=f"num_classes = 2, but the network has {K} classes"):
        dv.conditional_eps_objective(schedule, num_classes=2)(jax.random.key(0), gd, params, (X, jnp.zeros(6, jnp.int32)))
    with pytest.raises(ValueError, match="batch must be the pair"):
        dv.conditional_eps_objective(schedule, num_classes=K)(jax.random.key(0), gd, params, X)


def test_fit_refuses_bad_labelled_data_and_the_plain_loss_a_labelled_batch():
    _, gd, params = small_net()
    optimizer = dv.adam(1e-3)
    step = dv.make_train_step(gd, dv.linear_schedule(10), optimizer, loss=dv.conditional_eps_objective(dv.linear_schedule(10), num_classes=K))
    state = dv.init_train_state(params, optimizer)
    for data, message in [
        ((X, jnp.zeros(5, jnp.int32)), r"data\[1\] \(labels\) must be integer class labels of shape \(6,\)"),
        ((X, jnp.zeros(6)), r"data\[1\] \(labels\) must be integer class labels"),
        ((X, -jnp.ones(6, jnp.int32)), r"data\[1\] \(labels\) must be integers >= 0"),
        ((X, jnp.full(6, K, jnp.int32)), r"data\[1\] \(labels\) must be class labels in 0\.\.2 \(the loss's num_classes = 3\); got the largest 3"),
        ((X, jnp.zeros(6, jnp.int32), X), "data as a tuple must be the pair"),
        ((X[:, 0], jnp.zeros(6, jnp.int32)), r"data\[0\] \(x\) must be an array of shape \(N, d\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            dv.fit(jax.random.key(0), step, state, data, batch_size=4, num_steps=1, progress=False)
    plain = dv.make_train_step(gd, dv.linear_schedule(10), optimizer)
    with pytest.raises(ValueError, match="the default eps loss takes x0 alone"):
        plain(jax.random.key(0), state, (X, jnp.zeros(6, jnp.int32)))


# --------------------------------------------------------------------------------------------
# Figures: digits by class and a guidance sweep
# --------------------------------------------------------------------------------------------


def _drawn(fig):
    images = {im.get_gid(): np.asarray(im.get_array()) for ax in fig.axes for im in ax.get_images()}
    texts = {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid()}
    return images, texts


@pytest.mark.usefixtures("no_leaked_figures")
def test_digits_by_class_puts_class_k_in_row_k():
    pixels = np.asarray(dv.load_digits().pixels)
    samples = pixels[:12].reshape(3, 4, 64)  # 3 classes, 4 samples each
    images, texts = _drawn(dv.plot_digits_by_class(samples, class_names=["zero", "one", "two"]))
    assert len(images) == 12
    for k in range(3):
        assert texts[f"row:{k}"] == ["zero", "one", "two"][k]
        for j in range(4):
            np.testing.assert_array_equal(images[f"digit:{4 * k + j}"], samples[k, j].reshape(8, 8))
    assert _drawn(dv.plot_digits_by_class(samples.reshape(3, 4, 8, 8)))[1]["row:2"] == "2"


@pytest.mark.usefixtures("no_leaked_figures")
def test_guidance_sweep_puts_scales_in_column_groups():
    pixels = np.asarray(dv.load_digits().pixels)
    one = pixels[:6].reshape(2, 3, 64)  # 2 classes x 3 scales, one sample each
    images, texts = _drawn(dv.plot_guidance_sweep(one, [0, 1, 3.5]))
    assert [texts[f"title:{i}"] for i in range(3)] == ["w = 0", "w = 1", "w = 3.5"]
    assert all(texts[f"title:{i}"] == "" for i in range(3, 6))
    np.testing.assert_array_equal(images["digit:4"], one[1, 1].reshape(8, 8))  # row 1 (class 1), column 1 (w = 1)
    many = pixels[:24].reshape(2, 3, 4, 64)  # 4 samples per class and scale
    images, texts = _drawn(dv.plot_guidance_sweep(many, (0.0, 1.0, 3.0), class_names=["a", "b"]))
    assert [texts[f"title:{i}"] for i in range(12)] == ["w = 0", "", "", "", "w = 1", "", "", "", "w = 3", "", "", ""]
    assert texts["row:1"] == "b"
    np.testing.assert_array_equal(images["digit:18"], many[1, 1, 2].reshape(8, 8))  # row 1: 12 + 4 * 1 + 2
    np.testing.assert_array_equal(_drawn(dv.plot_guidance_sweep(many.reshape(2, 3, 4, 8, 8), [0, 1, 3]))[0]["digit:18"], many[1, 1, 2].reshape(8, 8))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dv.plot_digits_by_class(np.zeros((3, 64))), r"samples must have shape \(K, m, 64\)"),
        (lambda: dv.plot_digits_by_class(np.zeros((2, 0, 64))), r"samples must have shape"),
        (lambda: dv.plot_digits_by_class(np.zeros((2, 3, 64)), class_names=["a"]), "class_names must be a list of 2 strings"),
        (lambda: dv.plot_guidance_sweep(np.zeros((2, 3, 64)), [0, 1]), "scales must be 3 finite numbers"),
        (lambda: dv.plot_guidance_sweep(np.zeros((2, 3, 64)), [0, 1, np.nan]), "scales must be 3 finite numbers"),
        (lambda: dv.plot_guidance_sweep(np.full((2, 3, 64), np.nan), [0, 1, 2]), "samples must be finite"),
    ],
)
@pytest.mark.usefixtures("no_leaked_figures")
def test_class_figures_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
