// Chapter 2's forward-process explorer, live in the browser (diffviz.forward_1d_live).
//
// Runs inside the self-contained page that diffviz/viz/live.py builds (an <iframe srcdoc>):
// the data (x0 and one noise draw eps per particle, float32, base64) and the mixture come
// from the JSON in #diffviz-data; uPlot (inlined, pinned in package.json) draws. Only closed
// forms are computed here:
//   with the shrink (DDPM):  abar_t = (1 - beta)^t,  x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps,
//                            component k ~ N(sqrt(abar_t) mu_k, abar_t s_k^2 + 1 - abar_t);
//   random walk:             x_t = x0 + sqrt(t beta) eps,  component k ~ N(mu_k, s_k^2 + t beta).
// window.diffvizLive exposes the numbers it computes (tests compare them with diffviz).
(function () {
  "use strict";
  const COLORS = { particles: "#9ebfe0", exact: "#b2182b", reference: "#595959", band: "rgba(178, 24, 43, 0.08)" };
  const SUB = 4; // grid points per histogram bin (the density is drawn on the same x grid)
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);

  function decode(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }
  const x0 = decode(data.x0);
  const eps = decode(data.eps);
  const n = x0.length;
  const T = data.T;
  const mix = data.mixture; // {weights: [K], means: [K], stds: [K]}
  const K = mix.weights.length;
  let m0 = 0, ex2 = 0;
  for (let k = 0; k < K; k++) {
    m0 += mix.weights[k] * mix.means[k];
    ex2 += mix.weights[k] * (mix.stds[k] ** 2 + mix.means[k] ** 2);
  }
  const v0 = ex2 - m0 * m0;

  // --- saved state: clamp what is out of range, and say so -----------------------------------
  const flags = [];
  const clampNumber = (...args) => window.diffvizClamp(flags, ...args); // shared: assets/live_common.js
  const state = {
    beta: clampNumber("β", data.beta, data.beta_min, data.beta_max, data.beta_min, false),
    t: clampNumber("t", data.t, 0, T, 0, true),
    drift: data.drift !== false,
  };

  // --- closed forms --------------------------------------------------------------------------
  function alphaBar(beta, t) {
    return Math.pow(1 - beta, t);
  }
  function components(beta, t, drift) {
    // means and variances of the K components of x_t's exact distribution
    const means = new Float64Array(K), vars = new Float64Array(K);
    const abar = alphaBar(beta, t);
    for (let k = 0; k < K; k++) {
      const s2 = mix.stds[k] ** 2;
      if (drift) {
        means[k] = Math.sqrt(abar) * mix.means[k];
        vars[k] = abar * s2 + (1 - abar);
      } else {
        means[k] = mix.means[k];
        vars[k] = s2 + t * beta;
      }
    }
    return { means, vars };
  }
  function moments(beta, t, drift) {
    const abar = alphaBar(beta, t);
    return drift ? { mean: Math.sqrt(abar) * m0, variance: abar * v0 + (1 - abar) } : { mean: m0, variance: v0 + t * beta };
  }
  function densityAt(comp, xs, out) {
    const res = out || new Float64Array(xs.length);
    const coef = new Float64Array(K), inv = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      coef[k] = mix.weights[k] / Math.sqrt(2 * Math.PI * comp.vars[k]);
      inv[k] = -0.5 / comp.vars[k];
    }
    for (let i = 0; i < xs.length; i++) {
      let p = 0;
      for (let k = 0; k < K; k++) {
        const d = xs[i] - comp.means[k];
        p += coef[k] * Math.exp(inv[k] * d * d);
      }
      res[i] = p;
    }
    return res;
  }

  // --- the layout of one (beta, drift): x range, bins, grid, y range (as diffviz's figure) -----
  let layout = null;
  function makeLayout(beta, drift) {
    let lo = -4, hi = 4;
    for (let t = 0; t <= T; t++) {
      const m = moments(beta, t, drift), sd = Math.sqrt(Math.max(m.variance, 0));
      lo = Math.min(lo, m.mean - 4.5 * sd);
      hi = Math.max(hi, m.mean + 4.5 * sd);
    }
    const bins = Math.min(120, Math.max(60, Math.ceil((hi - lo) / 0.1)));
    const points = bins * SUB + 1;
    const grid = new Float64Array(points);
    for (let j = 0; j < points; j++) grid[j] = lo + ((hi - lo) * j) / (points - 1);
    let top = 1 / Math.sqrt(2 * Math.PI);
    const scratch = new Float64Array(points);
    for (let t = 0; t <= T; t++) {
      densityAt(components(beta, t, drift), grid, scratch);
      for (let j = 0; j < points; j++) if (scratch[j] > top) top = scratch[j];
    }
    const normal = Array.from(grid, (x) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
    return { beta, drift, lo, hi, bins, grid: Array.from(grid), normal, yMax: 1.2 * top };
  }

  // --- one frame's numbers -------------------------------------------------------------------
  function frame() {
    const { beta, t, drift } = state;
    if (!layout || layout.beta !== beta || layout.drift !== drift) layout = makeLayout(beta, drift);
    const abar = alphaBar(beta, t);
    const a = drift ? Math.sqrt(abar) : 1;
    const b = drift ? Math.sqrt(1 - abar) : Math.sqrt(t * beta);
    const { lo, hi, bins } = layout;
    const counts = new Float64Array(bins);
    const scale = bins / (hi - lo);
    let sum = 0, sum2 = 0;
    for (let i = 0; i < n; i++) {
      const x = a * x0[i] + b * eps[i];
      sum += x;
      sum2 += x * x;
      const j = Math.floor((x - lo) * scale);
      if (j >= 0 && j < bins) counts[j] += 1; // (x = hi exactly: outside, as numpy's last bin would not be)
    }
    const width = (hi - lo) / bins;
    const hist = new Array(layout.grid.length);
    for (let j = 0; j < hist.length; j++) hist[j] = counts[Math.min(bins - 1, Math.floor(j / SUB))] / (n * width);
    const comp = components(beta, t, drift);
    const density = Array.from(densityAt(comp, layout.grid));
    const m = moments(beta, t, drift);
    const particleMean = sum / n;
    return {
      beta, t, drift, abar, mean: m.mean, variance: m.variance,
      particleMean, particleVariance: sum2 / n - particleMean * particleMean,
      hist, density, comp,
    };
  }

  // --- the page --------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  const el = window.diffvizEl; // shared: assets/live_common.js
  const slider = window.diffvizSlider; // shared: assets/live_common.js
  const sBeta = slider("beta", "β", data.beta_min, data.beta_max, data.beta_step, state.beta);
  const sT = slider("t", "t", 0, T, 1, state.t);
  const walk = el("input", { type: "checkbox", id: "s-walk", checked: !state.drift });
  const toggle = el("label", { htmlFor: "s-walk", className: "toggle" }, [walk, " drop the √(1−β) shrink (random walk)"]);
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const stats = el("p", { className: "stats" });
  const flagBox = el("p", { className: "flag", role: "status" });
  const plotBox = el("div", { className: "plot" });
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [sBeta.lab, sT.lab, toggle]), flagBox, title, plotBox, stats, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  const fmt = (x) => (x >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));
  let current = null;
  let draws = 0;
  const plotHeight = (w) => Math.round(Math.max(200, Math.min(340, w * 0.56)));
  const opts = {
    width: Math.max(240, plotBox.clientWidth || 600),
    height: plotHeight(plotBox.clientWidth || 600),
    pxAlign: 0,
    cursor: { show: false },
    legend: { show: true, live: false },
    scales: {
      x: { time: false, range: () => [layout.lo, layout.hi] },
      y: { range: () => [0, layout.yMax] },
    },
    axes: [
      { label: "particle position xₜ", labelSize: 22, size: 36, stroke: "#333", font: "11px sans-serif", labelFont: "12px sans-serif" },
      { label: "density (per unit of x)", labelSize: 22, size: 44, stroke: "#333", font: "11px sans-serif", labelFont: "12px sans-serif" },
    ],
    series: [
      {},
      { label: `${n.toLocaleString("en-US")} particles`, stroke: "#7fa6cf", width: 0, fill: COLORS.particles, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      { label: "N(0, 1), where DDPM ends", stroke: COLORS.reference, width: 1.1, dash: [5, 4], points: { show: false } },
      { label: "exact density of xₜ", stroke: COLORS.exact, width: 1.8, points: { show: false } },
    ],
    hooks: {
      drawAxes: [
        (u) => { // the mean ± 2 std band of x_t's exact distribution, under the bars
          if (!current) return;
          const sd = Math.sqrt(current.variance);
          const l = u.valToPos(current.mean - 2 * sd, "x", true), r = u.valToPos(current.mean + 2 * sd, "x", true);
          const { top, height, left, width } = u.bbox;
          const x1 = Math.max(left, l), x2 = Math.min(left + width, r);
          u.ctx.save();
          u.ctx.fillStyle = COLORS.band;
          u.ctx.fillRect(x1, top, Math.max(0, x2 - x1), height);
          u.ctx.strokeStyle = "rgba(178, 24, 43, 0.45)";
          u.ctx.setLineDash([2, 3]);
          u.ctx.beginPath();
          for (const x of [l, r]) if (x >= left && x <= left + width) { u.ctx.moveTo(x, top); u.ctx.lineTo(x, top + height); }
          u.ctx.stroke();
          u.ctx.restore();
        },
      ],
      draw: [() => { draws += 1; document.body.dataset.draws = String(draws); }],
    },
  };

  function update() {
    current = frame();
    const f = current;
    const seriesData = [layout.grid, f.hist, layout.normal, f.density];
    if (!plot) plot = new uPlot(opts, seriesData, plotBox);
    else plot.setData(seriesData, true);
    sBeta.out.value = f.beta.toFixed(3);
    sT.out.value = String(f.t);
    title.textContent = f.drift
      ? `β = ${f.beta.toFixed(3)},  t = ${f.t},  ᾱₜ = ${fmt(f.abar)}`
      : `random walk (no shrink): β = ${f.beta.toFixed(3)},  t = ${f.t},  Σβₛ = ${(f.t * f.beta).toPrecision(3)}`;
    const sd = Math.sqrt(f.variance);
    stats.textContent =
      `variance of xₜ: particles ${f.particleVariance.toFixed(3)}, exact ${f.variance.toFixed(3)}  ·  ` +
      `shaded: exact mean ± 2 std = ${(f.mean - 2 * sd).toFixed(2)} … ${(f.mean + 2 * sd).toFixed(2)}`;
    const ds = document.body.dataset;
    ds.beta = String(f.beta); ds.t = String(f.t); ds.drift = String(f.drift);
    ds.abar = String(f.abar); ds.mean = String(f.mean); ds.variance = String(f.variance);
  }
  let plot = null;

  sBeta.input.addEventListener("input", () => { state.beta = Number(sBeta.input.value); update(); });
  sT.input.addEventListener("input", () => { state.t = Number(sT.input.value); update(); });
  walk.addEventListener("change", () => { state.drift = !walk.checked; update(); });
  update();

  // --- size: the plot follows the column's width; the iframe follows the page's height -------
  window.diffvizFollowSize(data.id, () => {
    const w = plotBox.clientWidth;
    if (w > 0 && plot && Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: plotHeight(w) });
  });

  // --- for tests and benchmarks ------------------------------------------------------------------
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    snapshot(xs) {
      const f = current;
      const out = { beta: f.beta, t: f.t, drift: f.drift, abar: f.abar, mean: f.mean, variance: f.variance,
        particleMean: f.particleMean, particleVariance: f.particleVariance, lo: layout.lo, hi: layout.hi, bins: layout.bins,
        hist: f.hist.filter((_, j) => j % SUB === 0).slice(0, layout.bins) };
      if (xs) out.density = Array.from(densityAt(f.comp, xs));
      return out;
    },
  };
})();
