"""The explorers, driven without a kernel: set a control's value, check what was redrawn.

ipywidgets observers run synchronously when ``.value`` is set, so plain pytest can drive the
sliders. The 1-D explorer must re-simulate only when beta or the toggle changes: counted
both by the explorer itself and by a spy on the jitted simulator it calls.
"""

from __future__ import annotations

import base64

import ipywidgets as widgets
import jax
import numpy as np
import pytest
from figtools import assert_floor_note_under_the_floor
from matplotlib.figure import Figure
from scipy import stats

import diffviz as dv

N, T = 2000, 40
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def explorer(simulator_calls):
    return dv.forward_1d_explorer(jax.random.key(11), dv.mixture_1d("bimodal"), n_particles=N, T=T, beta=0.05)


def shown_png(explorer) -> bytes:
    (bundle,) = explorer.output.outputs
    return base64.b64decode(bundle["data"]["image/png"])


def histogram_heights(explorer) -> np.ndarray:
    return np.asarray(explorer._panel.hist.get_data().values)


def test_explorer_is_a_displayable_widget(explorer, simulator_calls):
    assert isinstance(explorer.widget, widgets.VBox)
    assert set(explorer.sliders) == {"beta", "t"}
    assert isinstance(explorer.sliders["t"], widgets.IntSlider) and explorer.sliders["t"].max == T
    assert isinstance(explorer.sliders["beta"], widgets.FloatSlider)
    assert explorer.drift_toggle.value is True
    assert isinstance(explorer.figure, Figure)
    assert explorer.trajectory.shape == (T + 1, N) and explorer.x0.shape == (N, 1)
    assert shown_png(explorer).startswith(PNG_MAGIC) and shown_png(explorer) == explorer.last_png
    assert explorer.simulation_count == 1 and len(simulator_calls) == 1
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_t_change_redraws_without_simulating(explorer, simulator_calls):
    before_png, before_heights = explorer.last_png, histogram_heights(explorer)
    renders = explorer.render_count
    for t in (1, 10, T):
        explorer.sliders["t"].value = t
        assert f"t = {t}" in explorer.title
    assert explorer.simulation_count == 1 and len(simulator_calls) == 1  # no new simulation
    assert explorer.render_count == renders + 3
    assert explorer.last_png != before_png and shown_png(explorer) == explorer.last_png
    heights = histogram_heights(explorer)
    assert not np.allclose(heights, before_heights)
    edges = explorer._panel.edges
    counts, _ = np.histogram(explorer.trajectory[T], edges)
    np.testing.assert_allclose(heights, counts / (N * np.diff(edges)))  # the histogram of x_T itself


def test_beta_change_simulates_once_and_is_cached(explorer, simulator_calls):
    explorer.sliders["t"].value = 20
    first = explorer.trajectory.copy()
    explorer.sliders["beta"].value = 0.1
    assert explorer.simulation_count == 2 and len(simulator_calls) == 2
    assert "β = 0.1" in explorer.title and "t = 20" in explorer.title
    assert not np.allclose(explorer.trajectory, first)
    explorer.sliders["t"].value = 30  # a t change after the new beta: still no simulation
    assert explorer.simulation_count == 2
    explorer.sliders["beta"].value = 0.05  # back to a beta seen before: from the cache
    assert explorer.simulation_count == 2 and len(simulator_calls) == 2
    np.testing.assert_array_equal(explorer.trajectory, first)


def test_trajectory_is_the_forward_chain_with_the_split_keys(explorer):
    key_data, key_chain = jax.random.split(jax.random.key(11))
    x0 = dv.sample_mixture(key_data, dv.mixture_1d("bimodal"), N)
    np.testing.assert_allclose(explorer.x0, x0)
    expected = dv.run_forward_chain(key_chain, dv.constant_schedule(0.05, T), x0, trajectory=True)
    np.testing.assert_allclose(explorer.trajectory, np.asarray(expected)[:, :, 0], atol=1e-5)


def test_toggle_switches_to_the_random_walk(explorer, simulator_calls):
    explorer.sliders["t"].value = T
    explorer.drift_toggle.value = False
    assert explorer.simulation_count == 2 and simulator_calls[-1]["drift"] is False
    assert explorer.title.startswith("random walk")
    mixture = dv.mixture_1d("bimodal")
    x = np.asarray(explorer._panel.exact.get_xdata(), np.float64)
    w, mu, s = (np.asarray(a, np.float64).ravel() for a in mixture)
    expected = sum(wk * stats.norm.pdf(x, mk, np.sqrt(sk**2 + T * 0.05)) for wk, mk, sk in zip(w, mu, s, strict=True))
    np.testing.assert_allclose(explorer._panel.exact.get_ydata(), expected, rtol=2e-4, atol=1e-6)
    var0 = float(np.sum(w * (s**2 + mu**2)))
    assert np.var(explorer.trajectory[T]) == pytest.approx(var0 + T * 0.05, rel=0.1)  # 2000 particles
    explorer.drift_toggle.value = True
    assert explorer.simulation_count == 2  # cached
    assert not explorer.title.startswith("random walk")


def test_only_one_figure_legend_after_many_changes(explorer):
    for beta in (0.02, 0.03, 0.04):
        explorer.sliders["beta"].value = beta
    explorer.drift_toggle.value = False
    assert len(explorer.figure.legends) == 1


def test_a_key_is_required():
    mixture = dv.mixture_1d("bimodal")
    with pytest.raises(TypeError):
        dv.forward_1d_explorer(mixture=mixture)  # no default key
    with pytest.raises(ValueError, match="key"):
        dv.forward_1d_explorer(None, mixture)
    with pytest.raises(ValueError, match="beta"):
        dv.forward_1d_explorer(jax.random.key(0), mixture, beta=1.5)


def test_schedule_explorer_marks_clipped_values_and_keeps_one_kl_axis():
    """Cosine at T = 1000 takes the SNR and the KL below float32's resolution: both axes say
    where the clipped values are drawn. Linear at T = 50 clips nothing and gets no note (its
    SNR axis is not stretched down to the floor). The KL axis does not move between schedules,
    and each schedule is drawn in its colour in the chapter's player (C0, C1, C2)."""
    floor = 1e-8
    cos = dv.cosine_schedule(1000)
    assert float(np.min(np.asarray(cos.alpha_bars[1:]) / np.asarray(cos.one_minus_alpha_bars[1:]))) < floor
    explorer = dv.schedule_explorer(T=50, T_min=10, T_max=1000)
    names = list(explorer.controls["schedule"].options)
    ax_var, ax_snr, ax_kl = explorer.figure.axes

    def notes(ax):
        return [t for t in ax.texts if t.get_gid() == "floor-note"]

    assert notes(ax_snr) == [] and notes(ax_kl) == []
    assert ax_snr.get_ylim()[0] > 0.1, "an unclipped SNR axis was stretched down to the floor"
    kl_limits = ax_kl.get_ylim()
    assert [line.get_color() for line in ax_var.get_lines()] == ["C0", "C0"]
    explorer.controls["schedule"].value = names[1]
    explorer.controls["T"].value = 1000
    assert "KL" in explorer.figure.get_suptitle() and f"< {floor:g}" in explorer.figure.get_suptitle()
    assert_floor_note_under_the_floor(ax_snr, floor)
    assert_floor_note_under_the_floor(ax_kl, floor)
    assert ax_kl.get_ylim() == kl_limits
    assert {line.get_color() for line in ax_var.get_lines() + ax_snr.get_lines()} == {"C1"}
    explorer.controls["schedule"].value = names[2]
    assert ax_kl.get_ylim() == kl_limits
    assert {line.get_color() for line in ax_snr.get_lines()} == {"C2"}


def test_schedule_explorer_redraws_on_T_and_schedule():
    explorer = dv.schedule_explorer(T=50, T_min=10, T_max=400, num_T=8)
    assert isinstance(explorer.widget, widgets.VBox)
    assert set(explorer.controls) == {"schedule", "T"}
    assert explorer.last_png.startswith(PNG_MAGIC)
    assert "T = 50" in explorer.figure.get_suptitle() and "0.603" in explorer.figure.get_suptitle()
    renders = explorer.render_count
    explorer.controls["T"].value = 200
    assert explorer.render_count == renders + 1 and "T = 200" in explorer.figure.get_suptitle()
    names = list(explorer.controls["schedule"].options)
    explorer.controls["schedule"].value = names[1]
    assert names[1] in explorer.figure.get_suptitle()
    T_values, kl = explorer.kl_curve(names[0])
    direct = [float(dv.prior_kl(explorer.schedules[names[0]](int(T_)), np.ones(1, np.float32))) for T_ in T_values]
    np.testing.assert_allclose(kl, direct, rtol=1e-5, atol=1e-8)
    for ax in explorer.figure.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
