"""Every bad input at the public boundary raises a ValueError that names the parameter."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffviz as dv

S = dv.linear_schedule(100)
MIX = dv.gaussian_mixture([0.5, 0.5], [-1.0, 1.0], [0.3, 0.3])
K = jax.random.key(0)
X = jnp.zeros((4,))
NAN = jnp.asarray([0.0, jnp.nan])
INF = jnp.asarray([jnp.inf, 0.0])

BAD = {
    # schedules: beta outside (0, 1), NaN, bad T
    "beta=0": (lambda: dv.constant_schedule(0.0, 10), r"beta must lie in the open interval \(0, 1\)"),
    "beta=1": (lambda: dv.constant_schedule(1.0, 10), r"beta must lie in the open interval \(0, 1\); got 1.0"),
    "beta=1.5": (lambda: dv.constant_schedule(1.5, 10), r"beta .*\(0, 1\)"),
    "beta<0": (lambda: dv.constant_schedule(-0.1, 10), r"beta .*\(0, 1\)"),
    "beta=nan": (lambda: dv.constant_schedule(float("nan"), 10), r"beta .*\(0, 1\)"),
    "beta vector": (lambda: dv.constant_schedule(jnp.ones(3) * 0.1, 10), r"beta must be a number"),
    "beta bool": (lambda: dv.constant_schedule(True, 10), r"beta must be a number"),
    "T=0": (lambda: dv.constant_schedule(0.1, 0), r"T must be an integer >= 1; got 0"),
    "T float": (lambda: dv.linear_schedule(2.5), r"T must be an integer >= 1"),
    "beta_end": (lambda: dv.linear_schedule(10, 1e-4, 1.2), r"beta_end must lie in the open interval"),
    "beta_start": (lambda: dv.linear_schedule(10, 0.0, 0.02), r"beta_start must lie in the open interval"),
    "betas entry": (lambda: dv.schedule_from_betas([0.1, 1.0]), r"betas must lie in the open interval \(0, 1\); got 1.0"),
    "betas nan": (lambda: dv.schedule_from_betas([0.1, float("nan")]), r"betas must be finite"),
    "betas 2d": (lambda: dv.schedule_from_betas(np.full((2, 2), 0.1)), r"betas must be a non-empty 1-D array"),
    "betas empty": (lambda: dv.schedule_from_betas([]), r"betas must be a non-empty 1-D array"),
    "cosine s": (lambda: dv.cosine_schedule(10, s=-1.0), r"s must be a finite number >= 0"),
    "cosine max_beta": (lambda: dv.cosine_schedule(10, max_beta=1.0), r"max_beta must lie in the open interval"),
    # time steps: outside 0..T, non-integer, wrong shape
    "t=-1": (lambda: dv.marginal_params(S, X, -1), r"t must be an integer time step in 0\.\.100; got -1"),
    "t=T+1": (lambda: dv.marginal_params(S, X, 101), r"t must be an integer time step in 0\.\.100; got 101"),
    # a concrete (not traced) array or NumPy integer is range-checked like a Python int
    "t=T+1 array": (lambda: dv.marginal_params(S, X, jnp.int32(101)), r"t must be an integer time step in 0\.\.100; got 101"),
    "t=-1 numpy": (lambda: dv.marginal_params(S, X, np.int64(-1)), r"t must be an integer time step in 0\.\.100; got -1"),
    "t=0 step array": (lambda: dv.forward_step_params(S, X, jnp.int32(0)), r"t must be an integer time step in 1\.\.100; got 0"),
    "t float": (lambda: dv.marginal_params(S, X, 2.5), r"t must be an integer time step in 0\.\.100; got the float 2.5"),
    "t float array": (lambda: dv.marginal_params(S, X, jnp.float32(3)), r"t must be an integer .*dtype float32"),
    "t vector": (lambda: dv.marginal_params(S, X, jnp.arange(3)), r"t must be a scalar time step .*vmap"),
    "t bool": (lambda: dv.marginal_params(S, X, True), r"t must be an integer time step"),
    "t=0 step": (lambda: dv.forward_step_params(S, X, 0), r"t must be an integer time step in 1\.\.100; got 0"),
    "t=0 posterior": (lambda: dv.posterior_params(S, X, X, 0), r"t must be an integer time step in 1\.\.100"),
    "t=0 eps": (lambda: dv.eps_to_x0(S, X, X, 0), r"t must be an integer time step in 1\.\.100"),
    "t=0 kl": (lambda: dv.prior_kl(S, X, 0), r"t must be an integer time step in 1\.\.100"),
    "t=0 eps*": (lambda: dv.optimal_eps(dv.linear_schedule(10), MIX, X[:, None], 0), r"t must be .* 1\.\.10"),
    "t mixture": (lambda: dv.diffuse_mixture(S, MIX, 500), r"t must be an integer time step in 0\.\.100"),
    "num_steps": (lambda: dv.run_forward_chain(K, S, X, num_steps=101), r"num_steps must be in 0\.\.T = 0\.\.100"),
    # data: NaN, inf, shapes
    "x0 nan": (lambda: dv.marginal_params(S, NAN, 3), r"x0 must be finite; it holds 1 NaN"),
    "x0 inf": (lambda: dv.sample_marginal(K, S, INF, 3), r"x0 must be finite"),
    "x0 chain nan": (lambda: dv.run_forward_chain(K, S, NAN), r"x0 must be finite"),
    "x_prev nan": (lambda: dv.sample_forward_step(K, S, NAN, 3), r"x_prev must be finite"),
    "x_t nan": (lambda: dv.posterior_params(S, X[:2], NAN, 3), r"x_t must be finite"),
    "x_t shape": (lambda: dv.posterior_params(S, X, jnp.zeros(3), 3), r"x_t must have shape \(4,\)"),
    "eps shape": (lambda: dv.eps_to_x0(S, X, jnp.zeros((4, 1)), 3), r"eps must have shape \(4,\)"),
    "score nan": (lambda: dv.score_to_eps(S, NAN, 3), r"score must be finite"),
    "x0 complex": (lambda: dv.marginal_params(S, jnp.ones(2, jnp.complex64), 3), r"x0 must hold real numbers"),
    "x0 string": (lambda: dv.marginal_params(S, "abc", 3), r"x0 must be a real number"),
    # keys
    "key None": (lambda: dv.sample_marginal(None, S, X, 3), r"key must be a JAX PRNG key"),
    "key int": (lambda: dv.sample_marginal(0, S, X, 3), r"key must be a JAX PRNG key"),
    "keys array": (lambda: dv.sample_marginal(jax.random.split(K, 3), S, X, 3), r"key must be a single PRNG key"),
    # mixtures
    "weights<=0": (lambda: dv.gaussian_mixture([0.5, 0.0], [0.0, 1.0], [1.0, 1.0]), r"weights must be > 0"),
    "stds<=0": (lambda: dv.gaussian_mixture([0.5, 0.5], [0.0, 1.0], [1.0, -1.0]), r"stds must be > 0"),
    "means shape": (lambda: dv.gaussian_mixture([0.5, 0.5], [0.0, 1.0, 2.0], [1.0, 1.0]), r"means must have shape"),
    "stds shape": (lambda: dv.gaussian_mixture([0.5, 0.5], [0.0, 1.0], [1.0, 1.0, 1.0]), r"stds must have shape \(2,\)"),
    "weights nan": (lambda: dv.gaussian_mixture([0.5, float("nan")], [0.0, 1.0], 1.0), r"weights must be finite"),
    "x last dim": (lambda: dv.mixture_log_prob(MIX, jnp.zeros((3, 2))), r"x must have shape \(\.\.\., 1\)"),
    "x scalar": (lambda: dv.mixture_log_prob(MIX, 0.0), r"x must have at least 1 dimension"),
    "x nan": (lambda: dv.mixture_score(S, MIX, NAN[:, None], 3), r"x must be finite"),
    "n=0": (lambda: dv.sample_mixture(K, MIX, 0), r"n must be an integer >= 1; got 0"),
    "n float": (lambda: dv.sample_mixture(K, MIX, 2.0), r"n must be an integer >= 1"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_a_named_value_error(case):
    call, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_static_checks_still_apply_under_jit():
    """Under jit, t's dtype and shape are known and checked; only its value is not."""
    with pytest.raises(ValueError, match="t must be an integer"):
        jax.jit(lambda t: dv.marginal_params(S, X, t))(jnp.float32(3.0))
    with pytest.raises(ValueError, match="t must be a scalar time step"):
        jax.jit(lambda t: dv.marginal_params(S, X, t))(jnp.arange(2))
    with pytest.raises(ValueError, match="x_t must have shape"):
        jax.jit(lambda a, b: dv.posterior_params(S, a, b, 3))(X, jnp.zeros(5))


def test_traced_out_of_range_t_is_clamped_never_nan():
    """The documented rule for traced values: no check, but JAX clamps the index; no NaN appears."""
    mean, std = jax.jit(lambda t: dv.marginal_params(S, jnp.ones(2), t))(jnp.int32(10_000))
    assert np.all(np.isfinite(np.asarray(mean))) and np.isfinite(float(std))
    assert float(std) == pytest.approx(float(jnp.sqrt(S.one_minus_alpha_bars[100])))


def test_building_a_schedule_under_jit_is_refused_clearly():
    with pytest.raises(ValueError, match="beta must be concrete"):
        jax.jit(lambda b: dv.constant_schedule(b, 10).alpha_bars)(0.1)


def test_good_inputs_of_every_accepted_kind_pass():
    import numpy as np

    for t in (3, np.int64(3), jnp.int32(3), np.array(3)):
        mean, _ = dv.marginal_params(S, [1.0, 2.0], t)
        assert mean.dtype == jnp.float32
    assert dv.sample_marginal(jax.random.PRNGKey(0), S, X, 3)[0].shape == (4,)  # legacy uint32 keys too
    assert dv.constant_schedule(np.float32(0.1), 5).T == 5


def test_strict_rank_promotion_is_on_for_the_whole_suite():
    assert jax.config.jax_numpy_rank_promotion == "raise"
    with pytest.raises(ValueError, match="jax_numpy_rank_promotion"):
        jnp.ones((3,)) + jnp.ones((2, 3))


def test_concrete_arrays_closed_over_inside_jit_are_accepted():
    """A global data array used inside a jitted function is concrete: checking it must not trip."""
    mix = dv.gaussian_mixture([0.5, 0.5], [-1.0, 1.0], [0.3, 0.3])
    xs = jnp.linspace(-2, 2, 7)[:, None]
    out = jax.jit(lambda t: dv.optimal_eps(S, mix, xs, t))(jnp.int32(10))
    np.testing.assert_allclose(np.asarray(out), np.asarray(dv.optimal_eps(S, mix, xs, 10)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="x0 must be finite"):
        jax.jit(lambda t: dv.marginal_params(S, NAN, t))(jnp.int32(3))


# --- the guidance scale: one validator (diffviz._validate.guidance_scale) for the exact guided field and the network's ---

SCALE_MESSAGE = "w must be a guidance scale, a finite number >= 0 (0 is plain conditional sampling)"
PER_SAMPLE = ", or a 1-D array of them (one per sample)"


def _conditional_net():
    config = dv.DenoiserConfig(dim=2, width=8, depth=1, time_dim=4, input_dim=4, num_classes=3)
    return dv.init_denoiser(jax.random.key(0), config)


@pytest.mark.parametrize(("w", "shown"), [(float("nan"), "nan"), (-0.5, "-0.5"), (float("-inf"), "-inf"), (True, "True")])
def test_guidance_scale_one_message_in_both_modules(w, shown):
    """The exact field (a scalar w) and the network's (a scalar or one per sample) refuse a bad w in the same words."""
    lmix, schedule = dv.labelled_toy("eight_gaussians"), dv.linear_schedule(10)
    for call in (
        lambda: dv.guided_eps(schedule, lmix, jnp.zeros((2, 2)), 5, 0, w),
        lambda: dv.guided_eps_fn(schedule, lmix, 0, w),
        lambda: dv.continuous_guided_eps_fn(schedule, lmix, 0, w, kind="classifier"),
        lambda: dv.tilted_density(lmix, 0, w),
    ):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value) == f"{SCALE_MESSAGE}; got {shown}"
    gd, params = _conditional_net()
    for call in (lambda: dv.cfg_eps_fn(gd, params, 0, w), lambda: dv.continuous_cfg_eps_fn(gd, params, 0, w, 10)):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value) == f"{SCALE_MESSAGE}{PER_SAMPLE}; got {shown}"


def test_guidance_scale_per_sample_forms():
    gd, params = _conditional_net()
    for w, shown in ((jnp.array([1.0, jnp.nan, 2.0]), "nan"), (jnp.array([0.0, jnp.inf]), "inf"), (np.array([0.5, -1.0]), "-1.0"), ([2, 3, -4], "-4.0")):
        with pytest.raises(ValueError, match=rf"^{re.escape(SCALE_MESSAGE + PER_SAMPLE)}; got {shown}$"):
            dv.cfg_eps_fn(gd, params, 0, w)
    with pytest.raises(ValueError, match=rf"^{re.escape(SCALE_MESSAGE + PER_SAMPLE)}; got dtype float32, shape \(2, 2\)$"):
        dv.cfg_eps_fn(gd, params, 0, jnp.ones((2, 2)))
    with pytest.raises(ValueError, match=rf"^{re.escape(SCALE_MESSAGE)}; got Array"):  # the exact field takes one number
        dv.guided_eps_fn(dv.linear_schedule(10), dv.labelled_toy("eight_gaussians"), 0, jnp.ones(3))
    for w in (0, 0.0, 7, np.float32(2.5)):  # accepted: 0 (plain conditional sampling) and any finite w > 0
        assert dv.guided_eps_fn(dv.linear_schedule(10), dv.labelled_toy("eight_gaussians"), 0, w) is not None
        assert dv.cfg_eps_fn(gd, params, 0, w) is not None


def test_per_sample_labels_and_scales_must_match_the_batch():
    """One w or c per sample, meeting a sampler batch of another size: a ValueError naming it (while tracing, under jit)."""
    gd, params = _conditional_net()
    schedule = dv.linear_schedule(10)
    cases = [
        (dv.cfg_eps_fn(gd, params, 0, jnp.array([1.0, 2.0, 3.0])), "w"),
        (dv.cfg_eps_fn(gd, params, jnp.array([0, 1, 2]), 1.0), "c"),
        (dv.conditional_eps_fn(gd, params, jnp.array([0, 1, 2])), "c"),
        (dv.continuous_cfg_eps_fn(gd, params, 0, jnp.array([1.0, 2.0, 3.0]), 10), "w"),
    ]
    for i, (eps_fn, name) in enumerate(cases):
        expected = rf"^{name} must be one value for all samples or one per sample, shape \(\) or \(5,\) for 5 samples; got shape \(3,\)"
        with pytest.raises(ValueError, match=expected):
            if i < 3:
                dv.ddim_sample(jax.random.key(1), eps_fn, schedule, (5, 2), num_steps=2)
            else:
                dv.ode_sample(jax.random.key(1), eps_fn, schedule, (5, 2), dv.power_time_grid(2))
    # one per sample of the right size, or one for all (shape () or (1,)), samples
    for c, w in ((jnp.array([0, 1, 2, 0, 1]), jnp.array([0.0, 1.0, 2.0, 3.0, 4.0])), (0, jnp.array([2.0])), (jnp.array([1]), 2.0)):
        out = dv.ddim_sample(jax.random.key(1), dv.cfg_eps_fn(gd, params, c, w), schedule, (5, 2), num_steps=2)
        assert out.shape == (5, 2) and bool(jnp.all(jnp.isfinite(out)))
