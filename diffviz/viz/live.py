r"""Explorers that run in the browser: live on the static book site and in JupyterLab, no kernel.

An explorer here is a self-contained HTML output: the data (float32, base64), a plotting
library (uPlot, pinned in package.json and shipped in ``diffviz/viz/assets/``) and a small
front-end module, in an ``<iframe srcdoc>`` that sizes itself to its content. The front-end
computes only closed forms. The same output runs in JupyterLab (a trusted output, like
matplotlib's jshtml players) and in the book built by Jupyter Book, offline.

Why not an anywidget: the book renders saved widget state through the vendored
``@jupyter-widgets/html-manager``, which loads a custom widget's front-end module by
require.js from a CDN; an anywidget shows up blank in nbconvert/MyST-NB's static HTML.
A self-contained output needs no widget manager at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
from functools import cache
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

from diffviz import _validate as v
from diffviz._mixture import GaussianMixture, sample_mixture
from diffviz._schedules import constant_schedule
from diffviz.viz.plots_1d import plot_diffusion_snapshot

__all__ = ["Forward1DLive", "forward_1d_live"]

_ASSETS = "assets"


@cache
def _asset(name: str) -> str:
    return resources.files("diffviz.viz").joinpath(_ASSETS, name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """Text that can sit inside a ``<script>`` element (no premature ``</script>``)."""
    return text.replace("</", "<\\/")


def _b64_float32(x: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(x, dtype="<f4").tobytes()).decode("ascii")


def _unit_interval(name: str, x) -> float:
    if isinstance(x, (bool, np.bool_, str)) or np.ndim(x) != 0:
        raise ValueError(f"{name} must be a number in the open interval (0, 1); got {x!r}")
    value = float(x)
    if not 0 < value < 1:  # also False for NaN
        raise ValueError(f"{name} must lie in the open interval (0, 1); got {value!r}")
    return value


_NOTE = (
    "Computed in your browser, no kernel: each particle keeps its x₀ and one noise draw ε, and "
    "xₜ = √ᾱₜ x₀ + √(1−ᾱₜ) ε (random walk: x₀ + √(tβ) ε). That is the closed form: every "
    "snapshot is an exact sample of q(xₜ), though a particle's path across t is not the "
    "step-by-step chain's. Shaded: the exact mean ± 2 std."
)

_CSS = """
html, body { margin: 0; padding: 0; background: #fff; color: #222;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
#root { padding: 4px 2px 6px; box-sizing: border-box; max-width: 100%; overflow: hidden; }
.controls { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; }
.slider { display: flex; align-items: center; gap: 6px; flex: 1 1 220px; min-width: 0; }
.slider .name { font-weight: 600; min-width: 1.1em; }
.slider input { flex: 1 1 auto; min-width: 0; width: 100%; height: 28px; touch-action: none; }
.slider output { font-variant-numeric: tabular-nums; min-width: 3.2em; text-align: right; }
.toggle { flex: 1 1 100%; display: flex; align-items: center; gap: 6px; min-height: 28px; }
.toggle input { width: 20px; height: 20px; margin: 0; }
.title { margin: 6px 0 0; text-align: center; font-weight: 600; }
.stats, .note { margin: 2px 0 0; font-size: 12.5px; color: #444; }
.note { color: #666; }
.flag { margin: 4px 0 0; padding: 3px 6px; background: #fff3cd; border: 1px solid #e0c060; font-size: 13px; }
.plot { width: 100%; max-width: 100%; overflow: hidden; }
.fallback { max-width: 100%; height: auto; display: block; }
.u-legend { font-size: 12px; }
.u-legend .u-series th { font-weight: normal; }
"""


def _page_html(title: str, payload: dict, fallback_png: bytes, alt_text: str, script: str | tuple[str, ...]) -> str:
    """The document inside the iframe: the fallback PNG, the JSON payload, uPlot and ``script`` (assets, in order)."""
    scripts = (script,) if isinstance(script, str) else tuple(script)
    png = base64.b64encode(fallback_png).decode("ascii")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_asset('uplot.min.css')}{_CSS}</style></head>"
        f'<body><div id="root"><img class="fallback" src="data:image/png;base64,{png}" '
        f'alt="{html.escape(alt_text)}"></div>'
        f'<script type="application/json" id="diffviz-data">{_script_safe(json.dumps(payload))}</script>'
        f"<script>{_script_safe(_asset('uplot.min.js'))}</script>"
        f"<script>{_script_safe(_asset('live_common.js'))}</script>"
        + "".join(f"<script>{_script_safe(_asset(name))}</script>" for name in scripts)
        + "</body></html>"
    )


def _output_html(output_id: str, title: str, page: str, height: int) -> str:
    """The output: ``page`` in an ``<iframe srcdoc>`` that starts ``height`` px tall.

    The iframe sets its own height (ResizeObserver); the listener is for hosts where it cannot
    reach its frame element.
    """
    return (
        f'<div class="diffviz-live" style="width:100%;max-width:100%">'
        f'<iframe id="diffviz-live-{output_id}" title="{html.escape(title)}" '
        f'style="width:100%;max-width:100%;height:{height}px;border:0;display:block" '
        f'srcdoc="{html.escape(page, quote=True)}"></iframe>'
        "<script>window.addEventListener('message',function(e){var d=e.data;"
        f"if(d&&d.id==='{output_id}'&&d.diffvizLiveHeight>0){{var f=document.getElementById('diffviz-live-{output_id}');"
        "if(f)f.style.height=d.diffvizLiveHeight+'px';}});</script></div>"
    )


class Forward1DLive:
    r"""Chapter 2's forward-process explorer as a self-contained, kernel-free HTML output.

    Build with :func:`forward_1d_live`; display it in a notebook (``_repr_html_``). Attributes:

    * ``x0``, ``eps``: the ``(n,)`` float32 starting particles and their one noise draw each;
    * ``mixture``, ``T``, ``beta``, ``t``, ``drift``, ``beta_min``, ``beta_max``: the setting;
    * ``payload``: the dict handed to the front-end (``x0`` and ``eps`` as base64 float32);
    * ``page``: the HTML document that runs in the iframe; ``html``: the output itself;
    * ``fallback_png`` and ``alt_text``: the static picture of the first state (shown where
      JavaScript does not run) and its description.
    """

    def __init__(
        self,
        key,
        mixture: GaussianMixture,
        *,
        n: int = 10_000,
        T: int = 100,
        beta: float = 0.03,
        t: int = 20,
        drift: bool = True,
        beta_min: float = 0.001,
        beta_max: float = 0.2,
        beta_step: float = 0.001,
    ):
        key = v.prng_key("key", key)
        if not isinstance(mixture, GaussianMixture) or mixture.dim != 1:
            raise ValueError("mixture must be a 1-D GaussianMixture (e.g. diffviz.mixture_1d('bimodal'))")
        self.n = v.positive_int("n", n)
        self.T = v.positive_int("T", T)
        self.beta = _unit_interval("beta", beta)
        self.beta_min = _unit_interval("beta_min", beta_min)
        self.beta_max = _unit_interval("beta_max", beta_max)
        self.beta_step = _unit_interval("beta_step", beta_step)
        if not self.beta_min <= self.beta <= self.beta_max:
            raise ValueError(f"beta must lie in beta_min..beta_max = {self.beta_min}..{self.beta_max}; got {self.beta!r}")
        self.t = int(v.timestep("t", t, self.T))
        if not isinstance(drift, (bool, np.bool_)):
            raise ValueError(f"drift must be True or False; got {drift!r}")
        self.drift = bool(drift)
        self.mixture = mixture

        data_key, noise_key = jax.random.split(key)
        self.x0 = np.asarray(sample_mixture(data_key, mixture, self.n), np.float32)[:, 0]  # (n,)
        self.eps = np.asarray(jax.random.normal(noise_key, (self.n,), jnp.float32), np.float32)  # (n,)
        # The same explorer gives the same output (a rebuilt book page does not change).
        self.id = hashlib.sha256(self.x0.tobytes() + self.eps.tobytes() + repr((self.T, self.beta, self.t, self.drift)).encode()).hexdigest()[:12]
        self.payload = {
            "id": self.id,
            "x0": _b64_float32(self.x0),
            "eps": _b64_float32(self.eps),
            "T": self.T,
            "beta": self.beta,
            "t": self.t,
            "drift": self.drift,
            "beta_min": self.beta_min,
            "beta_max": self.beta_max,
            "beta_step": self.beta_step,
            "mixture": {
                "weights": [float(w) for w in np.asarray(mixture.weights, np.float32)],
                "means": [float(m) for m in np.asarray(mixture.means, np.float32)[:, 0]],
                "stds": [float(s) for s in np.asarray(mixture.stds, np.float32)[:, 0]],
            },
            "note": _NOTE,
        }
        self.fallback_png = self._fallback_png()
        self.alt_text = self._alt_text()
        self.page = self._page()
        self.html = self._output()

    # --- closed forms (what the front-end computes, in float64) ---------------------------------

    def x_t(self, beta: float, t: int, drift: bool = True) -> np.ndarray:
        """The particles at step ``t``: the closed form with the stored noise, ``(n,)`` float64."""
        x0, eps = self.x0.astype(np.float64), self.eps.astype(np.float64)
        if drift:
            abar = (1.0 - beta) ** t
            return math.sqrt(abar) * x0 + math.sqrt(1.0 - abar) * eps
        return x0 + math.sqrt(t * beta) * eps

    # --- the output -----------------------------------------------------------------------------

    def _fallback_png(self) -> bytes:
        schedule = constant_schedule(self.beta, self.T)
        x_t = self.x_t(self.beta, self.t, self.drift).astype(np.float32)
        fig = plot_diffusion_snapshot(x_t, self.mixture, schedule, self.t, drift=self.drift)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _alt_text(self) -> str:
        abar = (1.0 - self.beta) ** self.t
        what = (
            f"with the shrink, alpha-bar = {abar:.3f}" if self.drift else f"random walk without the shrink, sum of beta = {self.t * self.beta:.3g}"
        )
        return (
            f"Histogram of {self.n:,} particles after t = {self.t} steps with beta = {self.beta:.3f} ({what}), "
            "density against particle position, with the red exact density on it and the dashed standard normal "
            "where the chain ends. Live in a browser with JavaScript: sliders for beta and t and a shrink toggle."
        )

    def _page(self) -> str:
        return _page_html("Forward process, live", self.payload, self.fallback_png, self.alt_text, "forward_1d_live.js")

    def _output(self) -> str:
        title = "Live explorer of the forward process: sliders for beta and t, a shrink toggle, and the histogram"
        return _output_html(self.id, title, self.page, 470)  # 470 px: about the height of the first picture

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<forward_1d_live: {self.n:,} particles, T={self.T}, beta={self.beta}, t={self.t}, drift={self.drift}>"


def forward_1d_live(key, mixture: GaussianMixture, **options) -> Forward1DLive:
    r"""Chapter 2's explorer, live in the browser: sliders for :math:`\beta` and ``t``, a shrink toggle.

    ``n`` particles (default 10,000) are drawn from ``mixture``, each with one standard-normal
    draw :math:`\varepsilon`. The browser shows :math:`x_t = \sqrt{\bar\alpha_t}\,x_0 +
    \sqrt{1-\bar\alpha_t}\,\varepsilon` with :math:`\bar\alpha_t = (1-\beta)^t` (with the shrink)
    or :math:`x_0 + \sqrt{t\beta}\,\varepsilon` (random walk): the exact marginal at every
    ``t``, not a simulated path. On top: the exact density of :math:`x_t` and its mean
    :math:`\pm 2` std. Nothing runs in Python after this call; the output works in JupyterLab and
    in the static book alike.

    Args:
        key: a JAX PRNG key (required): split into the data key and the noise key.
        mixture: a 1-D :class:`~diffviz.GaussianMixture`, e.g. ``mixture_1d("bimodal")``.
        **options: ``n`` (particles), ``T`` (slider end, default 100), ``beta`` (initial, in
            ``beta_min..beta_max``, default 0.03), ``t`` (initial, ``0..T``, default 20),
            ``drift`` (default True: the DDPM step), ``beta_min``, ``beta_max``, ``beta_step``
            (the slider's range and step, default 0.001..0.2 by 0.001).

    Returns:
        A :class:`Forward1DLive`; display it in a notebook.

    Raises:
        ValueError: naming the parameter, for ``beta`` outside (0, 1) or its slider range, ``t``
            outside ``0..T``, ``n`` or ``T`` < 1, NaN, or a mixture that is not 1-D.
    """
    return Forward1DLive(key, mixture, **options)
