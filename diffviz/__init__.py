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
    count_params,
    init_denoiser,
    sinusoidal_embedding,
)
from diffviz._train import TrainState, fit, init_train_state, make_train_step
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
# --- course: learning plots (owner: chapters 6-8) ---

__version__ = "0.1.0"

__all__ = [
    "BoundTerms",
    "Denoiser",
    "DenoiserConfig",
    "Forward1DExplorer",
    "GaussianMixture",
    "Schedule",
    "ScheduleExplorer",
    "TOY_DATASETS_2D",
    "TrainState",
    "apply_denoiser",
    "batch_eps_loss",
    "checkerboard_log_prob",
    "constant_schedule",
    "cosine_schedule",
    "count_params",
    "ddim_sample",
    "ddim_timesteps",
    "ddpm_sample",
    "diffuse_mixture",
    "eight_gaussians_mixture",
    "energy_distance",
    "eps_loss",
    "eps_to_score",
    "eps_to_x0",
    "exact_eps_fn",
    "fit",
    "forward_1d_explorer",
    "forward_step_params",
    "gaussian_mixture",
    "histogram_kl",
    "init_denoiser",
    "init_train_state",
    "linear_schedule",
    "load_params",
    "make_train_step",
    "marginal_params",
    "mixture_1d",
    "mixture_log_prob",
    "mixture_score",
    "model_eps_fn",
    "nats_to_bits_per_dim",
    "noise_floor",
    "optimal_denoiser",
    "optimal_eps",
    "plot_closed_form_check",
    "plot_diffusion_snapshot",
    "plot_particle_paths",
    "plot_prior_kl",
    "plot_schedule_grid",
    "plot_schedules",
    "plot_snapshot_grid",
    "posterior_params",
    "posterior_variance",
    "prior_kl",
    "random_walk_mixture",
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
    "score_to_eps",
    "sinusoidal_embedding",
    "sliced_wasserstein",
    "snapshot_scrubber_html",
    "variational_bound",
    "x0_to_eps",
]
