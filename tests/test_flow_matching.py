"""Flow matching: the exact velocity minimises the loss at the irreducible variance, the OT
pairing is the optimal permutation, velocity samplers with the exact field sample the mixture,
a small network trained through make_train_step/fit lowers the loss, bad input is refused."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

import diffviz as dv

MIX = dv.mixture_1d("bimodal")  # 0.5 N(-0.95, 0.3^2) + 0.5 N(0.95, 0.3^2)
S = dv.linear_schedule(1000)  # only for mixture_ks_test at t = 0 (the data itself)


def exact_point_velocity(interpolant):
    """dv.mixture_velocity for one point x: (d,), as the loss calls it."""
    return lambda x, t: dv.mixture_velocity(MIX, x[None], t, interpolant)[0]


def vp_coefficients_numpy(t, h=1e-6):
    """a, s, a', s' of the VP interpolant from the schedule's alpha_bars alone: log alpha_bar
    interpolated linearly between k/T (np.interp), slopes by central differences."""
    T = S.T
    abar = lambda u: np.exp(np.interp(u, np.arange(T + 1) / T, np.log(np.asarray(S.alpha_bars, np.float64))))
    a = lambda u: np.sqrt(abar(u))
    s = lambda u: np.sqrt(1 - abar(u))
    return a(t), s(t), (a(t + h) - a(t - h)) / (2 * h), (s(t + h) - s(t - h)) / (2 * h)


def irreducible_variance(interpolant, t_min=0.0):
    """E_t E ||u - E[u | x_t]||^2 for the 1-D mixture, t ~ U(t_min, 1), by quadrature, written
    from scratch in NumPy (law of total variance over the components; no package code). For
    "vp" the quadrature runs in log t (its target's variance grows like 1/t near 0)."""
    w, mu, sd = np.asarray(MIX.weights), np.asarray(MIX.means)[:, 0], np.asarray(MIX.stds)[:, 0]
    us, uw = np.polynomial.legendre.leggauss(400 if interpolant == "vp" else 200)
    if interpolant == "vp":  # t = exp(u), u in [log t_min, 0], dt = t du
        lo = np.log(t_min)
        u = lo + 0.5 * (us + 1) * (0 - lo)
        ts, tw = np.exp(u), 0.5 * (0 - lo) * uw * np.exp(u) / (1 - t_min)
    else:
        ts, tw = 0.5 * (us + 1), 0.5 * uw
    x = np.linspace(-6, 6, 4001)
    total = 0.0
    for t, wt in zip(ts, tw):
        if interpolant == "linear":
            a, s, da, ds = 1 - t, t, -1.0, 1.0
        elif interpolant == "vp":
            a, s, da, ds = vp_coefficients_numpy(t)
        else:
            a, s, da, ds = (
                np.cos(np.pi * t / 2),
                np.sin(np.pi * t / 2),
                -np.pi / 2 * np.sin(np.pi * t / 2),
                np.pi / 2 * np.cos(np.pi * t / 2),
            )
        var_x = a**2 * sd**2 + s**2  # (K,)
        cov_ux = da * a * sd**2 + ds * s  # Cov(u, x_t | k), u = da x0 + ds eps
        var_u = da**2 * sd**2 + ds**2
        dens = w * np.exp(-0.5 * (x[:, None] - a * mu) ** 2 / var_x) / np.sqrt(2 * np.pi * var_x)  # (n, K)
        p = dens.sum(1)
        r = dens / p[:, None]
        m_k = da * mu + cov_ux / var_x * (x[:, None] - a * mu)
        m = (r * m_k).sum(1)
        cond_var = (r * (var_u - cov_ux**2 / var_x + (m_k - m[:, None]) ** 2)).sum(1)
        total += wt * np.trapezoid(p * cond_var, x)
    return total


@pytest.mark.parametrize("interpolant", ["linear", "cosine", "vp"])
def test_exact_velocity_is_the_minimum_at_the_irreducible_variance(interpolant):
    # Planted bug caught: the target a' x0 + s' eps with a' and s' swapped (all three fail);
    # for "vp", t drawn from U(0, 1) instead of U(t_min, 1) (1.14 vs 0.81) and the loss calling
    # the coefficients without the schedule (fails to trace).
    # Measured: MC 1.404 +- 0.004 vs quadrature 1.399 (linear), 2.205 +- 0.005 vs 2.197 (cosine).
    schedule = S if interpolant == "vp" else None
    v_star = lambda x, t: dv.mixture_velocity(MIX, x[None], t, interpolant, schedule)[0]
    data = dv.sample_mixture(jax.random.key(1), MIX, 40_000)

    @jax.jit
    def loss(key, c):  # v* + c0 + c1 v* + c2 sin(3x) t + c3 x: c = 0 is the exact field; one compilation
        field = lambda x, t: (1 + c[1]) * v_star(x, t) + c[0] + c[2] * jnp.sin(3 * x) * t + c[3] * x
        return dv.flow_matching_loss(key, field, data, interpolant=interpolant, schedule=schedule)

    keys = jax.random.split(jax.random.key(2), 5)
    exact = np.array([loss(k, jnp.zeros(4)) for k in keys])
    mean, se = exact.mean(), exact.std(ddof=1) / np.sqrt(len(exact))
    truth = irreducible_variance(interpolant, t_min=1e-3 if interpolant == "vp" else 0.0)
    assert abs(mean - truth) < 4 * se + 2e-3, (mean, se, truth)
    for c in ([0.1, 0, 0, 0], [0, 0.1, 0, 0], [0, 0, 0.2, 0], [0, 0, 0, -0.1]):
        # same keys: common random numbers, so the difference is E[delta^2] + small noise
        assert np.mean([loss(k, jnp.array(c)) for k in keys[:2]]) > exact[:2].mean() + 1e-3


def brute_force_cost(x0, eps):
    n = len(x0)
    return min(sum(float(np.sum((x0[i] - eps[p[i]]) ** 2)) for i in range(n)) for p in itertools.permutations(range(n)))


def test_ot_pairing_is_the_optimal_permutation():
    # Planted bug caught: returning the identity (or the row indices) instead of the column assignment.
    for seed in range(3):
        k1, k2 = jax.random.split(jax.random.key(seed))
        x0 = np.asarray(jax.random.normal(k1, (6, 2)))
        eps = np.asarray(jax.random.normal(k2, (6, 2)))
        perm = np.asarray(dv.ot_pairing(x0, eps))
        assert sorted(perm.tolist()) == list(range(6))
        cost = float(np.sum((x0 - eps[perm]) ** 2))
        assert cost == pytest.approx(brute_force_cost(x0, eps), rel=1e-5)
        assert np.array_equal(np.asarray(jax.jit(dv.ot_pairing)(x0, eps)), perm)  # also under jit
    xs, es = jax.random.normal(jax.random.key(9), (2, 3, 6, 2))
    batched = jax.vmap(dv.ot_pairing)(xs, es)  # and under vmap (the callback runs per batch member)
    for i in range(3):
        np.testing.assert_array_equal(batched[i], dv.ot_pairing(xs[i], es[i]))


def test_ot_coupling_lowers_transport_cost_and_is_used_by_the_loss():
    # Planted bug caught: the loss ignoring the permutation for "minibatch_ot" (same loss as independent).
    k1, k2 = jax.random.split(jax.random.key(5))
    x0 = dv.sample_mixture(k1, MIX, 256)
    eps = jax.random.normal(k2, (256, 1))
    perm = dv.ot_pairing(x0, eps)
    independent = float(jnp.mean(jnp.sum((x0 - eps) ** 2, 1)))
    ot = float(jnp.mean(jnp.sum((x0 - eps[perm]) ** 2, 1)))
    assert ot < 0.2 * independent  # 1-D: the sorted pairing; measured 0.20 vs 2.32
    # Linear interpolant: the target is u = eps - x0, so the loss of v = 0 is the mean transport cost.
    zero = lambda x, t: jnp.zeros_like(x)
    l_ind = float(dv.flow_matching_loss(jax.random.key(6), zero, x0))
    l_ot = float(dv.flow_matching_loss(jax.random.key(6), zero, x0, coupling="minibatch_ot"))
    assert l_ot < 0.2 * l_ind


@pytest.mark.parametrize("interpolant", ["linear", "cosine", "vp"])
def test_exact_velocity_fn_equals_mixture_velocity(interpolant):
    # Planted bug caught: exact_velocity_fn("vp") dropping the schedule (a TypeError) or using
    # the linear coefficients for it.
    schedule = S if interpolant == "vp" else None
    x = jnp.linspace(-3, 3, 41)[:, None]
    f = dv.exact_velocity_fn(MIX, interpolant, schedule)
    for t in (0.0, 0.3, 0.9, 1.0) if interpolant != "vp" else (0.01, 0.3, 0.9, 1.0):
        np.testing.assert_allclose(f(x, t), dv.mixture_velocity(MIX, x, t, interpolant, schedule), rtol=1e-6, atol=1e-6)


def test_the_vp_velocity_carries_noise_to_the_data():
    # Planted bug caught: the VP velocity's s' without its 1/2 (KS p < 1e-10).
    f = dv.exact_velocity_fn(MIX, "vp", S)
    res = dv.flow_sample(jax.random.key(3), f, (4000, 1), dv.flow_time_grid(200, t_min=1e-3))
    ks = dv.mixture_ks_test(S, MIX, res.samples)
    assert ks.p_value > 0.01, ks  # measured p = 0.48


@pytest.mark.parametrize(("method", "steps"), [("euler", 200), ("heun", 40)])
def test_samplers_with_the_exact_velocity_sample_the_mixture(method, steps):
    # Planted bug caught: stepping with +|h| (integrating the wrong way) or Heun's corrector at t_i.
    f = dv.exact_velocity_fn(MIX)
    res = dv.flow_sample(jax.random.key(3), f, (4000, 1), dv.flow_time_grid(steps), method=method)
    assert res.nfe == steps * (2 if method == "heun" else 1)
    assert res.samples.shape == (4000, 1)
    ks = dv.mixture_ks_test(S, MIX, res.samples)
    assert ks.p_value > 0.01, ks
    # ... and a KS against the exact CDF written out with scipy agrees
    w, mu, sd = np.asarray(MIX.weights), np.asarray(MIX.means)[:, 0], np.asarray(MIX.stds)[:, 0]
    xs = np.sort(np.asarray(res.samples)[:, 0])
    cdf = np.sum(w * special.ndtr((xs[:, None] - mu) / sd), 1)
    n = len(xs)
    d = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert d == pytest.approx(float(ks.statistic), abs=1e-4)


def test_few_euler_steps_are_worse_than_heun_and_trajectory_shape():
    f = dv.exact_velocity_fn(MIX)
    res = dv.flow_sample(jax.random.key(4), f, (4000, 1), dv.flow_time_grid(4), method="heun", trajectory=True)
    assert res.path.shape == (5, 4000, 1)
    np.testing.assert_array_equal(res.path[-1], res.samples)
    coarse = dv.flow_sample(jax.random.key(4), f, (4000, 1), dv.flow_time_grid(2), method="euler")
    assert dv.mixture_ks_test(S, MIX, coarse.samples).statistic > dv.mixture_ks_test(S, MIX, res.samples).statistic


def test_training_through_make_train_step_lowers_the_loss():
    # Planted bug caught: make_train_step ignoring ``loss`` (training the eps objective instead).
    cfg = dv.DenoiserConfig(dim=1, width=32, depth=2, time_dim=16)
    gd, params = dv.init_denoiser(jax.random.key(0), cfg)
    step = dv.make_train_step(gd, None, dv.adam(2e-3), ema_decay=0.99, loss=dv.flow_matching_objective())
    state = dv.init_train_state(params, dv.adam(2e-3))
    data = lambda k, n: dv.sample_mixture(k, MIX, n)
    eval_data = dv.sample_mixture(jax.random.key(9), MIX, 20_000)

    def fm_loss(p):
        return float(dv.flow_matching_loss(jax.random.key(8), dv.model_velocity_fn(gd, p), eval_data))

    before = fm_loss(state.params)
    state, losses = dv.fit(jax.random.key(1), step, state, data, batch_size=256, num_steps=300, steps_per_call=300, progress=False)
    after = fm_loss(state.ema_params)
    floor = irreducible_variance("linear")
    assert losses.shape == (300,)
    assert losses[-50:].mean() < losses[:50].mean()
    assert after < 0.7 * before
    assert floor < after < floor + 0.25, (before, after, floor)
    # the OT coupling trains through the same step too (host callback inside the scan)
    step_ot = dv.make_train_step(gd, None, dv.adam(2e-3), loss=dv.flow_matching_objective(coupling="minibatch_ot"))
    _, losses_ot = dv.fit(jax.random.key(2), step_ot, state, data, batch_size=64, num_steps=20, steps_per_call=20, progress=False)
    assert np.all(np.isfinite(losses_ot))


def test_bad_input_names_the_parameter():
    f = dv.exact_velocity_fn(MIX)
    x0 = jnp.zeros((4, 1))
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="coupling"):
        dv.flow_matching_loss(key, f, x0, coupling="ot")
    with pytest.raises(ValueError, match="schedule must be a Schedule"):
        dv.flow_matching_loss(key, f, x0, interpolant="vp")
    with pytest.raises(ValueError, match="t_min must be > 0"):
        dv.flow_matching_loss(key, f, x0, interpolant="vp", schedule=S, t_min=0.0)
    with pytest.raises(ValueError, match="t_min"):
        dv.flow_matching_objective(t_min=1.0)
    with pytest.raises(ValueError, match="schedule"):
        dv.exact_velocity_fn(MIX, "vp")
    with pytest.raises(ValueError, match="interpolant"):
        dv.exact_velocity_fn(MIX, "ddpm")
    with pytest.raises(ValueError, match=r"x0 must have shape \(n, 2d\)"):
        dv.flow_matching_loss(key, f, jnp.zeros((4, 3)), coupling="pairs")
    with pytest.raises(ValueError, match="num_steps"):
        dv.flow_time_grid(0)
    with pytest.raises(ValueError, match="at least 1 step"):
        dv.flow_sample(key, f, (4, 1), jnp.array([1.0]))
    with pytest.raises(ValueError, match="at least 1 step"):
        dv.reflow_pairs(key, f, (4, 1), jnp.array([1.0]))
    with pytest.raises(ValueError, match="strictly decreasing"):
        dv.flow_straightness(key, f, (4, 1), jnp.array([1.0, 0.5, 0.5]))
    with pytest.raises(ValueError, match="v_fn"):
        dv.flow_straightness(key, None, (4, 1), dv.flow_time_grid(2))
    with pytest.raises(ValueError, match="interpolant"):
        dv.flow_matching_objective(interpolant="rectified")
    with pytest.raises(ValueError, match="coupling"):
        dv.flow_matching_objective(coupling=None)
    with pytest.raises(ValueError, match="x0"):
        dv.flow_matching_loss(key, f, x0.at[1, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="v_fn"):
        dv.flow_matching_loss(key, "not a function", x0)
    with pytest.raises(ValueError, match="eps"):
        dv.ot_pairing(x0, jnp.full((4, 1), jnp.nan))
    with pytest.raises(ValueError, match="eps"):
        dv.ot_pairing(x0, jnp.zeros((5, 1)))
    with pytest.raises(ValueError, match="grid"):
        dv.flow_sample(key, f, (4, 1), jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="grid"):
        dv.flow_sample(key, f, (4, 1), jnp.array([1.0, jnp.nan]))
    with pytest.raises(ValueError, match="method"):
        dv.flow_sample(key, f, (4, 1), dv.flow_time_grid(2), method="rk4")
    with pytest.raises(ValueError, match="v_fn"):
        dv.flow_sample(key, 3, (4, 1), dv.flow_time_grid(2))
    with pytest.raises(ValueError, match="loss"):
        dv.make_train_step(None, None, dv.adam(1e-3), loss="flow")
    with pytest.raises(ValueError, match="mix"):
        dv.exact_velocity_fn("bimodal")


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("heun", 2)])
def test_solver_order_against_a_fine_reference(method, order):
    # Planted bug caught: Heun's corrector evaluated at t_i instead of t_{i+1} (first order: ratio 2.1).
    f = dv.exact_velocity_fn(MIX)
    key = jax.random.key(7)
    ref = dv.flow_sample(key, f, (500, 1), dv.flow_time_grid(400), method="heun").samples
    errors = [
        float(jnp.max(jnp.abs(dv.flow_sample(key, f, (500, 1), dv.flow_time_grid(n), method=method).samples - ref))) for n in (20, 40)
    ]
    ratio = errors[0] / errors[1]
    assert 2**order * 0.7 < ratio < 2**order * 1.5, (errors, ratio)  # measured: Euler 1.96, Heun 3.48


def test_reflow_pairs_of_the_exact_field_are_the_quantile_map_in_1d():
    """In 1-D the exact flow is monotone, so it maps eps to the data quantile of the same
    rank: x0 = F^-1(Phi(eps)), solved here with SciPy (no package code)."""
    # Planted bug caught: pairing each generated point with a fresh noise draw instead of its own.
    from scipy import optimize, stats

    pairs = np.asarray(dv.reflow_pairs(jax.random.key(0), dv.exact_velocity_fn(MIX), (300, 1), dv.flow_time_grid(100)))
    assert pairs.shape == (300, 2)
    x0, eps = pairs[:, 0], pairs[:, 1]
    np.testing.assert_array_equal(eps, np.asarray(jax.random.normal(jax.random.key(0), (300, 1)))[:, 0])
    w, mu, sd = np.asarray(MIX.weights), np.asarray(MIX.means)[:, 0], np.asarray(MIX.stds)[:, 0]
    cdf = lambda x: float(np.sum(w * stats.norm.cdf((x - mu) / sd)))
    quantile = np.array([optimize.brentq(lambda x, e=e: cdf(x) - stats.norm.cdf(e), -10, 10) for e in eps])
    np.testing.assert_allclose(x0, quantile, atol=3e-3)  # measured 6e-4 (100 Heun steps)


def test_straightness_of_fields_with_known_paths():
    """v = c (straight lines): S = 0. v(x, t) = x: x_t = x_1 e^(t-1), so with x_1 ~ N(0, I_d)
    S = d * int_0^1 (e^(t-1) - (1 - e^-1))^2 dt (SciPy's quad)."""
    # Planted bugs caught: the spread measured about 0 instead of the chord's velocity; the
    # weights |h| left out of the time integral (the half grid below then disagrees).
    from scipy import integrate

    key = jax.random.key(4)
    const = dv.flow_straightness(key, lambda x, t: jnp.ones_like(x) * 0.7, (2000, 2), dv.flow_time_grid(50))
    assert float(const) < 1e-10
    chord = 1 - np.exp(-1)
    truth = 2 * integrate.quad(lambda t: (np.exp(t - 1) - chord) ** 2, 0, 1)[0]
    linear = float(dv.flow_straightness(key, lambda x, t: x, (20_000, 2), dv.flow_time_grid(2000)))
    assert linear == pytest.approx(truth, rel=0.03)  # Monte Carlo over x_1: 20,000 draws
    # on [0.5, 1] with an uneven grid: x_t = x_1 e^(t-1), chord over a span of 1/2
    grid = jnp.asarray(np.concatenate([np.linspace(1, 0.75, 1500, endpoint=False), np.linspace(0.75, 0.5, 500)]), jnp.float32)
    chord_half = (1 - np.exp(-0.5)) / 0.5
    truth_half = 2 * integrate.quad(lambda t: (np.exp(t - 1) - chord_half) ** 2, 0.5, 1)[0] / 0.5
    half = float(dv.flow_straightness(key, lambda x, t: x, (20_000, 2), grid))
    assert half == pytest.approx(truth_half, rel=0.05)


def test_one_reflow_straightens_the_paths():
    """Train a new velocity on the exact field's reflow pairs: its paths are nearly straight,
    so one Euler step lands near where 100 do; the exact field's one step collapses every
    point to the data mean (v*(x, 1) = x - E[x0] for the linear interpolant)."""
    # Planted bug caught: coupling="pairs" reading the pairs' columns the wrong way round
    # (x0 as noise): straightness stays at 0.4.
    f = dv.exact_velocity_fn(MIX)
    pairs = dv.reflow_pairs(jax.random.key(0), f, (4000, 1), dv.flow_time_grid(100))
    cfg = dv.DenoiserConfig(dim=1, width=32, depth=2, time_dim=16)
    gd, params = dv.init_denoiser(jax.random.key(0), cfg)
    opt = dv.adam(2e-3)
    step = dv.make_train_step(gd, None, opt, ema_decay=0.99, loss=dv.flow_matching_objective(coupling="pairs"))
    state, _ = dv.fit(jax.random.key(1), step, dv.init_train_state(params, opt), pairs, batch_size=256, num_steps=600, steps_per_call=600, progress=False)
    g = dv.model_velocity_fn(gd, state.ema_params)

    def one_vs_many(v_fn):
        one = dv.flow_sample(jax.random.key(5), v_fn, (4000, 1), dv.flow_time_grid(1), method="euler").samples
        many = dv.flow_sample(jax.random.key(5), v_fn, (4000, 1), dv.flow_time_grid(100), method="euler").samples
        return float(jnp.mean((one - many) ** 2))

    before, after = one_vs_many(f), one_vs_many(g)
    s_before = float(dv.flow_straightness(jax.random.key(6), f, (4000, 1), dv.flow_time_grid(200)))
    s_after = float(dv.flow_straightness(jax.random.key(6), g, (4000, 1), dv.flow_time_grid(200)))
    assert before > 0.8  # ~ E[x0^2] = 0.99: the one step lands on 0
    assert after < 0.05 * before, (before, after)  # measured 1.00 -> 0.006 (1000 steps)
    assert s_after < 0.05 * s_before, (s_before, s_after)  # measured 0.47 -> 0.001
    # the reflowed field still samples the data (its many-step samples pass the KS test)
    many = dv.flow_sample(jax.random.key(7), g, (4000, 1), dv.flow_time_grid(100), method="euler").samples
    assert dv.mixture_ks_test(S, MIX, many).p_value > 0.001
