"""diffviz: the companion package of an interactive course on denoising diffusion models.

Everything a notebook may use is imported here; the ``_modules`` are private. Conventions:
float32 arrays; a JAX PRNG key is always the first argument and never has a default;
discrete time ``t`` is an integer in ``0..T`` (see :class:`Schedule`); data are ``(n, d)``.

Where the maths lives (each formula is written once, in a private kernel of one module, and
the public functions there check their arguments and call it): ``_schedules`` (the betas and
alpha-bars), ``_forward`` (the forward step and the closed form of q(x_t | x_0)),
``_posterior`` (q(x_(t-1) | x_t, x_0) and the eps/x0/score conversions),
``_reverse`` (the learned step's mean and variance), ``_mixture`` (exact answers for mixture
data), ``_losses``, ``_train``, ``_sampling``, ``_metrics`` and ``_goodness_of_fit`` (KS tests
against exact answers). ``_model`` is the network (its CPU speed tricks are in ``_fast_ops``);
``_validate`` holds the argument checks.
"""

# --- schedules: beta_t, alpha_t, alpha-bar_t, SNR ---
from diffviz._schedules import (
    Schedule,
    constant_schedule,
    cosine_schedule,
    linear_schedule,
    schedule_from_betas,
)
# --- forward process: one step, the chain, the closed form q(x_t | x_0), the prior KL ---
from diffviz._forward import (
    forward_step_params,
    marginal_params,
    prior_kl,
    run_forward_chain,
    sample_forward_step,
    sample_marginal,
)
# --- posterior and reverse process: q(x_(t-1) | x_t, x_0), eps <-> x0 <-> score, the reverse step ---
from diffviz._posterior import (
    eps_to_score,
    eps_to_x0,
    posterior_params,
    posterior_variance,
    score_to_eps,
    x0_to_eps,
)
from diffviz._reverse import reverse_mean, reverse_variance
# --- mixtures and exact answers: diffused densities, scores, eps* and E[x_0 | x_t] ---
from diffviz._mixture import (
    GaussianMixture,
    diffuse_mixture,
    gaussian_mixture,
    mixture_log_prob,
    mixture_score,
    optimal_denoiser,
    optimal_eps,
    sample_mixture,
)
# --- data: 1-D mixtures and the 2-D toy sets ---
from diffviz._data import (
    TOY_DATASETS_2D,
    checkerboard_log_prob,
    eight_gaussians_mixture,
    mixture_1d,
    sample_checkerboard,
    sample_eight_gaussians,
    sample_moons,
    sample_swiss_roll,
)
# --- model: the denoiser MLP and its embeddings ---
from diffviz._model import (
    Denoiser,
    DenoiserConfig,
    apply_denoiser,
    coordinate_embedding,
    count_params,
    init_denoiser,
    sinusoidal_embedding,
)
# --- losses: the simple eps loss and the variational bound ---
from diffviz._losses import (
    BoundTerms,
    batch_eps_loss,
    eps_loss,
    nats_to_bits_per_dim,
    variational_bound,
)
# --- training: the step, the fit loop, optimizer helpers ---
from diffviz._train import StepMetrics, TrainState, adam, fit, init_train_state, make_train_step, warmup_cosine
# --- sampling: DDPM, DDIM and the noise predictors they take ---
from diffviz._sampling import (
    ddim_sample,
    ddim_timesteps,
    ddpm_sample,
    exact_eps_fn,
    model_eps_fn,
)
# --- metrics and goodness of fit: distances between samples, KS tests against exact answers ---
from diffviz._metrics import energy_distance, histogram_kl, noise_floor, sliced_wasserstein
from diffviz._goodness_of_fit import KSResult, ks_normal_test, marginal_ks_test, mixture_ks_test
# --- checkpoints: saving and loading parameters ---
from diffviz._checkpoint import load_params, save_params
# --- digits: the 8x8 digits data ---
from diffviz._digits import DigitsData, digits_from_pixels, digits_to_pixels, load_digits, nearest_neighbours
# --- the reader's set-up check ---
from diffviz._setup import check_setup
# --- drawing: figures, kernel-free players and live explorers, one module per topic in diffviz.viz ---
from diffviz.viz import (
    Diffusion2DExplorer,
    EpsExplorer,
    Forward1DExplorer,
    GaussianConditioningExplorer,
    ScheduleExplorer,
    ScoreFieldExplorer,
    density_grid,
    diffusion_2d_animation_html,
    diffusion_2d_explorer,
    eps_explorer,
    eps_scrubber_html,
    forward_1d_explorer,
    gaussian_conditioning_explorer,
    gaussian_conditioning_scrubber_html,
    plot_2d_paths,
    plot_2d_snapshot_grid,
    plot_bound_comparison,
    plot_bound_terms,
    plot_bound_vs_T,
    plot_closed_form_check,
    plot_conditional_mean,
    plot_density_contours,
    plot_diffusion_snapshot,
    plot_digit_grid,
    plot_eps_error_by_t,
    plot_eps_vs_exact,
    plot_gaussian_conditioning,
    plot_gaussian_fact,
    plot_ks_picture,
    plot_loss_curve,
    plot_mixture_1d,
    plot_noise_variance,
    plot_particle_paths,
    plot_posterior_check,
    plot_prior_kl,
    plot_quality_vs_steps,
    plot_reverse_paths,
    plot_reverse_step_check,
    plot_sample_histograms,
    plot_samples_on_density,
    plot_samples_vs_data,
    plot_schedule_grid,
    plot_schedules,
    plot_score_field,
    plot_snapshot_grid,
    plot_snr_thresholds,
    random_walk_mixture,
    reverse_animation_html,
    schedule_explorer,
    schedule_scrubber_html,
    score_field_explorer,
    score_field_scrubber_html,
    snapshot_scrubber_html,
    snr_crossings,
)

__version__ = "0.1.0"

__all__ = [
    "BoundTerms",
    "Denoiser",
    "DenoiserConfig",
    "Diffusion2DExplorer",
    "DigitsData",
    "EpsExplorer",
    "Forward1DExplorer",
    "GaussianConditioningExplorer",
    "GaussianMixture",
    "KSResult",
    "Schedule",
    "ScheduleExplorer",
    "ScoreFieldExplorer",
    "StepMetrics",
    "TOY_DATASETS_2D",
    "TrainState",
    "adam",
    "apply_denoiser",
    "batch_eps_loss",
    "check_setup",
    "checkerboard_log_prob",
    "constant_schedule",
    "coordinate_embedding",
    "cosine_schedule",
    "count_params",
    "ddim_sample",
    "ddim_timesteps",
    "ddpm_sample",
    "density_grid",
    "diffuse_mixture",
    "diffusion_2d_animation_html",
    "diffusion_2d_explorer",
    "digits_from_pixels",
    "digits_to_pixels",
    "eight_gaussians_mixture",
    "energy_distance",
    "eps_explorer",
    "eps_loss",
    "eps_scrubber_html",
    "eps_to_score",
    "eps_to_x0",
    "exact_eps_fn",
    "fit",
    "forward_1d_explorer",
    "forward_step_params",
    "gaussian_conditioning_explorer",
    "gaussian_conditioning_scrubber_html",
    "gaussian_mixture",
    "histogram_kl",
    "init_denoiser",
    "init_train_state",
    "ks_normal_test",
    "linear_schedule",
    "load_digits",
    "load_params",
    "make_train_step",
    "marginal_ks_test",
    "marginal_params",
    "mixture_1d",
    "mixture_ks_test",
    "mixture_log_prob",
    "mixture_score",
    "model_eps_fn",
    "nats_to_bits_per_dim",
    "nearest_neighbours",
    "noise_floor",
    "optimal_denoiser",
    "optimal_eps",
    "plot_2d_paths",
    "plot_2d_snapshot_grid",
    "plot_bound_comparison",
    "plot_bound_terms",
    "plot_bound_vs_T",
    "plot_closed_form_check",
    "plot_conditional_mean",
    "plot_density_contours",
    "plot_diffusion_snapshot",
    "plot_digit_grid",
    "plot_eps_error_by_t",
    "plot_eps_vs_exact",
    "plot_gaussian_conditioning",
    "plot_gaussian_fact",
    "plot_ks_picture",
    "plot_loss_curve",
    "plot_mixture_1d",
    "plot_noise_variance",
    "plot_particle_paths",
    "plot_posterior_check",
    "plot_prior_kl",
    "plot_quality_vs_steps",
    "plot_reverse_paths",
    "plot_reverse_step_check",
    "plot_sample_histograms",
    "plot_samples_on_density",
    "plot_samples_vs_data",
    "plot_schedule_grid",
    "plot_schedules",
    "plot_score_field",
    "plot_snapshot_grid",
    "plot_snr_thresholds",
    "posterior_params",
    "posterior_variance",
    "prior_kl",
    "random_walk_mixture",
    "reverse_animation_html",
    "reverse_mean",
    "reverse_variance",
    "run_forward_chain",
    "sample_checkerboard",
    "sample_eight_gaussians",
    "sample_forward_step",
    "sample_marginal",
    "sample_mixture",
    "sample_moons",
    "sample_swiss_roll",
    "save_params",
    "schedule_explorer",
    "schedule_from_betas",
    "schedule_scrubber_html",
    "score_field_explorer",
    "score_field_scrubber_html",
    "score_to_eps",
    "sinusoidal_embedding",
    "sliced_wasserstein",
    "snapshot_scrubber_html",
    "snr_crossings",
    "variational_bound",
    "warmup_cosine",
    "x0_to_eps",
]
