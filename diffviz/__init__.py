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

__version__ = "0.1.0"

__all__ = [
    "GaussianMixture",
    "Schedule",
    "TOY_DATASETS_2D",
    "checkerboard_log_prob",
    "constant_schedule",
    "cosine_schedule",
    "diffuse_mixture",
    "eight_gaussians_mixture",
    "eps_to_score",
    "eps_to_x0",
    "forward_step_params",
    "gaussian_mixture",
    "linear_schedule",
    "marginal_params",
    "mixture_1d",
    "mixture_log_prob",
    "mixture_score",
    "optimal_denoiser",
    "optimal_eps",
    "posterior_params",
    "posterior_variance",
    "prior_kl",
    "run_forward_chain",
    "sample_checkerboard",
    "sample_eight_gaussians",
    "sample_forward_step",
    "sample_marginal",
    "sample_mixture",
    "sample_moons",
    "sample_swiss_roll",
    "schedule_from_betas",
    "score_to_eps",
    "x0_to_eps",
]
