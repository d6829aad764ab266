"""diffviz: the companion package of an interactive course on denoising diffusion models.

Everything a notebook may use is imported here; the ``_modules`` are private. Conventions:
float32 arrays; a JAX PRNG key is always the first argument and never has a default;
discrete time ``t`` is an integer in ``0..T`` (see :class:`Schedule`); data are ``(n, d)``.
"""

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
from diffviz._forward import (
    forward_step_params,
    marginal_params,
    prior_kl,
    run_forward_chain,
    sample_forward_step,
    sample_marginal,
)
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
from diffviz._posterior import (
    eps_to_score,
    eps_to_x0,
    posterior_params,
    posterior_variance,
    score_to_eps,
    x0_to_eps,
)
from diffviz._schedules import (
    Schedule,
    constant_schedule,
    cosine_schedule,
    linear_schedule,
    schedule_from_betas,
)

# --- learning: model and training (owner: training) ---
from diffviz._losses import (
    BoundTerms,
    batch_eps_loss,
    eps_loss,
    nats_to_bits_per_dim,
    reverse_mean,
    reverse_variance,
    variational_bound,
)
from diffviz._model import (
    Denoiser,
    DenoiserConfig,
    apply_denoiser,
    coordinate_embedding,
    count_params,
    init_denoiser,
    sinusoidal_embedding,
)
from diffviz._train import StepMetrics, TrainState, adam, fit, init_train_state, make_train_step, warmup_cosine
# --- learning: samplers, metrics, checkpoints (owner: sampling) ---
from diffviz._checkpoint import load_params, save_params
from diffviz._metrics import energy_distance, histogram_kl, noise_floor, sliced_wasserstein
from diffviz._sampling import (
    ddim_sample,
    ddim_timesteps,
    ddpm_sample,
    exact_eps_fn,
    model_eps_fn,
)
# --- course: plots and widgets (owner: notebooks) ---
from diffviz._plots import (
    plot_closed_form_check,
    plot_diffusion_snapshot,
    plot_particle_paths,
    plot_prior_kl,
    plot_schedule_grid,
    plot_schedules,
    plot_snapshot_grid,
    random_walk_mixture,
    snapshot_scrubber_html,
)
from diffviz._widgets import Forward1DExplorer, ScheduleExplorer, forward_1d_explorer, schedule_explorer
# --- course: 2-D and reverse-process plots (owner: chapters 0-1, 4-5) ---
from diffviz._plots_2d import (
    density_grid,
    diffusion_2d_animation_html,
    plot_2d_paths,
    plot_2d_snapshot_grid,
    plot_conditional_mean,
    plot_density_contours,
    plot_gaussian_conditioning,
    plot_gaussian_fact,
    plot_mixture_1d,
    plot_posterior_check,
    plot_samples_on_density,
    plot_score_field,
    plot_snr_thresholds,
    snr_crossings,
)
from diffviz._widgets_2d import (
    Diffusion2DExplorer,
    GaussianConditioningExplorer,
    ScoreFieldExplorer,
    check_setup,
    diffusion_2d_explorer,
    gaussian_conditioning_explorer,
    score_field_explorer,
)
# --- course: learning plots (owner: chapters 6-8) ---
from diffviz._plots_learning import (
    plot_bound_comparison,
    plot_bound_terms,
    plot_bound_vs_T,
    plot_eps_error_by_t,
    plot_eps_vs_exact,
    plot_loss_curve,
    plot_quality_vs_steps,
    plot_reverse_paths,
    plot_sample_histograms,
    plot_samples_vs_data,
    reverse_animation_html,
)
from diffviz._widgets_learning import EpsExplorer, eps_explorer
# --- course: kernel-free scrubbers for the book, one per live explorer (owner: book players) ---
from diffviz._plots import schedule_scrubber_html
from diffviz._plots_2d import gaussian_conditioning_scrubber_html, score_field_scrubber_html
from diffviz._plots_learning import eps_scrubber_html
# --- course: goodness-of-fit checks (owner: chapter 10) ---
from diffviz._checks import KSResult, ks_normal_test, marginal_ks_test, mixture_ks_test
# --- course: 8x8 digits (owner: chapter 9) ---
from diffviz._digits import DigitsData, digits_from_pixels, digits_to_pixels, load_digits, nearest_neighbours
from diffviz._plots_digits import plot_digit_grid
# --- course: explorers that run in the browser, no kernel (owner: live explorers) ---
from diffviz.viz.live import Forward1DLive, forward_1d_live

__version__ = "0.1.0"

__all__ = [
    "BoundTerms",
    "Denoiser",
    "DenoiserConfig",
    "Diffusion2DExplorer",
    "DigitsData",
    "EpsExplorer",
    "Forward1DExplorer",
    "Forward1DLive",
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
    "cosine_schedule",
    "coordinate_embedding",
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
    "forward_1d_live",
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
    "plot_loss_curve",
    "plot_mixture_1d",
    "plot_particle_paths",
    "plot_posterior_check",
    "plot_prior_kl",
    "plot_quality_vs_steps",
    "plot_reverse_paths",
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
