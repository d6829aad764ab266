"""diffviz.viz: every figure, player and explorer of the course, one module per topic.

The notebooks use these through the flat ``diffviz`` namespace (``dv.plot_schedules``); this
package is where each one lives. A newcomer looking for a figure:

======================  ==============================================================
module                  what it draws
======================  ==============================================================
``style``               the palette, the figure factory, number formats, shared checks
``player``              the kernel-free players of the book (``*_scrubber_html``)
``explorer``            what every live explorer shares (PNG output, blitting)
``plots_gaussian``      chapter 1: Gaussian facts, conditioning, mixtures, posteriors
``plots_1d``            chapter 2: 1-D data diffusing, particle paths, the closed form
``plots_schedules``     chapter 3: noise schedules, the prior KL
``plots_2d``            chapter 4: 2-D data diffusing, exact contours, the SNR
``plots_reverse_2d``    chapter 5: exact score/noise/denoiser fields, samples, paths
``plots_training``      chapter 6: the loss, learned against exact noise predictions
``plots_sampling``      chapter 7: samples against data, reverse paths, quality
``plots_bound``         chapter 8: the variational bound
``plots_digits``        chapter 9: 8x8 digits; chapter 13: digits by class, a guidance sweep
``plots_mistakes``      chapter 10: the KS picture, a reused key, too big a reverse step
``plots_continuous``    chapter 11: ODE against SDE paths, the sampler family by NFE
``plots_flow``          chapter 12: interpolants side by side, flow paths and couplings
``plots_guidance``      chapter 13: labelled mixtures, the noisy classifier, guided samples, the tilted density
``widgets_1d``          kernel twins of chapters 2 and 3's browser explorers
``widgets_2d``          chapter 5's field explorer; kernel twins of chapters 1 and 4's browser explorers
``widgets_learning``    the live explorer of chapter 6
``widgets_continuous``  the live explorer of chapter 11
``widgets_flow``        the live explorer of chapter 12
``widgets_guidance``    the live guidance-scale explorer of chapter 13
``live``                explorers computed in the browser, no kernel (chapter 2; the shared page);
                        the only explorers chapters 1 to 4 show
``live_schedules``      the same for chapter 3's schedules
``live_2d``             the same for chapters 4 and 5 (2-D forward, exact reverse)
``live_conditioning``   the same for chapter 1's conditioning of a 2-D Gaussian
``live_flow``           the same for chapter 12's interpolants
``live_guidance``       the same for chapter 13's guidance scale (exact guided field)
======================  ==============================================================

Modules here import the maths modules (``diffviz._mixture``, ...), never the other way round,
and none imports the ``diffviz`` package itself.
"""

from diffviz.viz.live import Forward1DLive, forward_1d_live
from diffviz.viz.live_2d import Forward2DLive, Reverse2DLive, forward_2d_live, reverse_2d_live
from diffviz.viz.live_conditioning import GaussianConditioningLive, gaussian_conditioning_live
from diffviz.viz.live_flow import InterpolantLive, interpolant_live
from diffviz.viz.live_guidance import GuidanceLive, guidance_live
from diffviz.viz.live_schedules import ScheduleLive, schedule_live
from diffviz.viz.plots_1d import (
    plot_closed_form_check,
    plot_diffusion_snapshot,
    plot_particle_paths,
    plot_snapshot_grid,
    random_walk_mixture,
    snapshot_scrubber_html,
)
from diffviz.viz.plots_2d import (
    density_grid,
    diffusion_2d_animation_html,
    plot_2d_snapshot_grid,
    plot_density_contours,
    plot_snr_thresholds,
    snr_crossings,
)
from diffviz.viz.plots_bound import plot_bound_comparison, plot_bound_terms, plot_bound_vs_T
from diffviz.viz.plots_continuous import plot_ode_sde_paths, solver_scrubber_html
from diffviz.viz.plots_digits import plot_digit_grid, plot_digits_by_class, plot_guidance_sweep
from diffviz.viz.plots_flow import interpolant_scrubber_html, plot_flow_paths
from diffviz.viz.plots_gaussian import (
    gaussian_conditioning_scrubber_html,
    plot_conditional_mean,
    plot_gaussian_conditioning,
    plot_gaussian_fact,
    plot_mixture_1d,
    plot_posterior_check,
)
from diffviz.viz.plots_guidance import (
    guidance_scrubber_html,
    plot_guidance_readouts,
    plot_guided_samples,
    plot_labelled_mixture,
    plot_noisy_classifier,
    plot_tilted_gap,
)
from diffviz.viz.plots_mistakes import plot_ks_picture, plot_noise_variance, plot_reverse_step_check
from diffviz.viz.plots_reverse_2d import (
    plot_2d_paths,
    plot_samples_on_density,
    plot_score_field,
    score_field_scrubber_html,
)
from diffviz.viz.plots_sampling import (
    plot_quality_vs_steps,
    plot_reverse_paths,
    plot_sample_histograms,
    plot_samples_vs_data,
    reverse_animation_html,
)
from diffviz.viz.plots_schedules import plot_prior_kl, plot_schedule_grid, plot_schedules, schedule_scrubber_html
from diffviz.viz.plots_training import eps_scrubber_html, plot_eps_error_by_t, plot_eps_vs_exact, plot_loss_curve
from diffviz.viz.widgets_1d import Forward1DExplorer, ScheduleExplorer, forward_1d_explorer, schedule_explorer
from diffviz.viz.widgets_2d import (
    Diffusion2DExplorer,
    GaussianConditioningExplorer,
    ScoreFieldExplorer,
    diffusion_2d_explorer,
    gaussian_conditioning_explorer,
    score_field_explorer,
)
from diffviz.viz.widgets_continuous import SolverExplorer, solver_explorer
from diffviz.viz.widgets_flow import InterpolantExplorer, interpolant_explorer
from diffviz.viz.widgets_guidance import GuidanceExplorer, guidance_explorer, guided_sweep
from diffviz.viz.widgets_learning import EpsExplorer, eps_explorer

__all__ = [
    "Diffusion2DExplorer",
    "EpsExplorer",
    "Forward1DExplorer",
    "Forward1DLive",
    "Forward2DLive",
    "GaussianConditioningExplorer",
    "GaussianConditioningLive",
    "GuidanceExplorer",
    "GuidanceLive",
    "InterpolantExplorer",
    "InterpolantLive",
    "Reverse2DLive",
    "ScheduleExplorer",
    "ScheduleLive",
    "ScoreFieldExplorer",
    "SolverExplorer",
    "density_grid",
    "diffusion_2d_animation_html",
    "diffusion_2d_explorer",
    "eps_explorer",
    "eps_scrubber_html",
    "forward_1d_explorer",
    "forward_1d_live",
    "forward_2d_live",
    "gaussian_conditioning_explorer",
    "gaussian_conditioning_live",
    "gaussian_conditioning_scrubber_html",
    "guidance_explorer",
    "guidance_live",
    "guidance_scrubber_html",
    "guided_sweep",
    "interpolant_explorer",
    "interpolant_live",
    "interpolant_scrubber_html",
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
    "plot_digits_by_class",
    "plot_eps_error_by_t",
    "plot_eps_vs_exact",
    "plot_flow_paths",
    "plot_gaussian_conditioning",
    "plot_gaussian_fact",
    "plot_guidance_readouts",
    "plot_guidance_sweep",
    "plot_guided_samples",
    "plot_ks_picture",
    "plot_labelled_mixture",
    "plot_loss_curve",
    "plot_mixture_1d",
    "plot_noise_variance",
    "plot_noisy_classifier",
    "plot_ode_sde_paths",
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
    "plot_tilted_gap",
    "random_walk_mixture",
    "reverse_2d_live",
    "reverse_animation_html",
    "schedule_explorer",
    "schedule_live",
    "schedule_scrubber_html",
    "score_field_explorer",
    "score_field_scrubber_html",
    "snapshot_scrubber_html",
    "snr_crossings",
    "solver_explorer",
    "solver_scrubber_html",
]
