// Chapter 13's guidance-scale explorer, live in the browser (diffviz.guidance_live).
//
// Runs inside the self-contained page that diffviz/viz/live_guidance.py builds (an <iframe srcdoc>):
// the start x_T (int16 times a power of two, base64), the labelled mixture (weights, means, stds,
// labels), the schedule's settings and DDIM's time grid come from the JSON in #diffviz-data. For the
// class c and scale w chosen, the browser runs DDIM with eta = 0, in float64, from t = steps[S-1] = T:
//   eps = (1 + w) eps*(x_t | c) - w eps*(x_t)           (window.diffviz2D.guidedEps: both exact)
//   x0^ = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t),  x_s = sqrt(abar_s) x0^ + sqrt(1 - abar_s) eps,
// s the next step of the grid down (0 at the end: x_0 = x0^). The runs are kept per (c, w), and
// after the first picture the page runs every scale of the slider in the background (the class
// shown first, nearest scales first; 63 runs in all), so a move soon only redraws. The readout follows diffviz.guidance_readout: the mean exact
// log p(x | c) at t = 0, the share of samples the exact clean classifier p(c' | x) puts in c, and
// the spread sqrt(mean |x - mean|^2).
// window.diffvizLive exposes the numbers it computes (tests compare them with diffviz).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);
  const D = window.diffviz2D, el = window.diffvizEl; // shared: assets/live_2d.js, live_common.js
  const LIM = data.lim, GRID = 72, T = data.T, steps = data.steps, C = data.classes, mix = data.mixture;
  const xT = D.decodeInt16(data.x_T, data.scale);
  const n = xT.length / 2;
  const sched = window.diffvizSchedule(data.schedule, T, data);

  // --- the class mixtures: p(x | c) (weights renormalised) and p(x, c) (weights as they are) ------
  function pick(c, normalise) {
    const keep = data.labels.map((l, k) => (l === c ? k : -1)).filter((k) => k >= 0);
    const total = normalise ? keep.reduce((s, k) => s + mix.weights[k], 0) : 1;
    return { weights: keep.map((k) => mix.weights[k] / total), means: keep.map((k) => mix.means[k]), stds: keep.map((k) => mix.stds[k]) };
  }
  const classMix = Array.from({ length: C }, (_, c) => pick(c, true));
  const clean = classMix.map((m) => D.diffuse(m, 1, 0)); // p(x | c) at t = 0
  const joint = Array.from({ length: C }, (_, c) => D.diffuse(pick(c, false), 1, 0)); // p(x, c) at t = 0
  const fieldCache = new Map(); // "c|t" -> [diffused class mixture, diffused whole mixture]
  function fields(c, t) {
    const key = `${c}|${t}`;
    if (!fieldCache.has(key)) fieldCache.set(key, [D.diffuse(classMix[c], sched.abar[t], sched.rest[t]), D.diffuse(mix, sched.abar[t], sched.rest[t])]);
    return fieldCache.get(key);
  }

  // --- DDIM, eta = 0 ----------------------------------------------------------------------------
  const e = new Float64Array(2);
  let runs = 0;
  function run(c, w) {
    const x = Float64Array.from(xT);
    for (let i = steps.length - 1; i >= 0; i--) {
      const t = steps[i], s = i > 0 ? steps[i - 1] : 0;
      const [cc, call] = fields(c, t);
      const rt = Math.sqrt(sched.rest[t]), at = Math.sqrt(sched.abar[t]), as = Math.sqrt(sched.abar[s]), rs = Math.sqrt(sched.rest[s]);
      for (let j = 0; j < n; j++) {
        const px = x[2 * j], py = x[2 * j + 1];
        D.guidedEps(cc, call, w, px, py, e);
        x[2 * j] = as * ((px - rt * e[0]) / at) + rs * e[0];
        x[2 * j + 1] = as * ((py - rt * e[1]) / at) + rs * e[1];
      }
    }
    runs += 1;
    return x;
  }
  const cache = new Map(); // "c|w" -> {x: samples, r: readout}
  function entry(c, w) {
    const key = `${c}|${w}`;
    if (!cache.has(key)) { const x = run(c, w); cache.set(key, { x, r: readout(c, x) }); }
    return cache.get(key);
  }
  const samples = (c, w) => entry(c, w).x;

  function readout(c, x) {
    let logLik = 0, onClass = 0, mx = 0, my = 0;
    for (let j = 0; j < n; j++) {
      const px = x[2 * j], py = x[2 * j + 1];
      logLik += D.logDensity(clean[c], px, py);
      let best = 0, top = -Infinity;
      for (let k = 0; k < C; k++) {
        const l = D.logDensity(joint[k], px, py);
        if (l > top) { top = l; best = k; }
      }
      if (best === c) onClass += 1;
      mx += px; my += py;
    }
    mx /= n; my /= n;
    let ss = 0;
    for (let j = 0; j < n; j++) ss += (x[2 * j] - mx) ** 2 + (x[2 * j + 1] - my) ** 2;
    return { logLik: logLik / n, onClass: onClass / n, spread: Math.sqrt(ss / n) };
  }

  // --- saved state: clamp what is out of range, and say so -----------------------------------
  const flags = [];
  let w0 = window.diffvizClamp(flags, "w", data.w, 0, data.w_max, 0, false);
  const snapped = Math.round(w0 / data.w_step) * data.w_step;
  if (snapped !== w0) { flags.push(`w = ${w0} from the saved state is not on the slider's ${data.w_step} steps: shown at ${snapped}`); w0 = snapped; }
  const state = { c: window.diffvizClamp(flags, "c", data.c, 0, C - 1, 0, true), w: w0 };

  // --- the page --------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  const { select, lab: menu } = window.diffvizMenu("c", "class", Array.from({ length: C }, (_, c) => String(c)), String(state.c));
  const { input, out, lab: slide } = window.diffvizSlider("w", "w", 0, data.w_max, data.w_step, state.w);
  input.setAttribute("aria-label", "guidance scale w, from 0 (plain conditional sampling) to " + data.w_max);
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const flagBox = el("p", { className: "flag", role: "status" });
  const box = el("div", { className: "plot" });
  const stats = el("p", { className: "stats" });
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [menu, slide]), flagBox, title, box, stats, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  let draws = 0, current = null, heat = null, heatClass = -1;
  const layer = D.pointsLayer();
  const xs = new Float64Array(n), ys = new Float64Array(n);
  const { plot, side } = D.squareScatter(box, LIM, 460, "samples", {
      drawClear: [(u) => { if (heat) u.ctx.drawImage(heat, u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height); }],
      draw: [(u) => {
        if (!current) return;
        layer(u, [{ xs, ys, rgba: [31, 119, 180, 170] }]);
        draws += 1;
        document.body.dataset.draws = String(draws);
      }],
    });

  let heatCopy = null;
  function update() {
    const start = performance.now();
    const { x, r } = entry(state.c, state.w);
    for (let j = 0; j < n; j++) { xs[j] = x[2 * j]; ys[j] = x[2 * j + 1]; }
    current = { c: state.c, w: state.w, ...r, ms: performance.now() - start };
    if (heatClass !== state.c) { // heatImage reuses one canvas: keep a copy per class shown
      const img = D.heatImage(clean[state.c], GRID, LIM);
      heatCopy = heatCopy || document.createElement("canvas");
      heatCopy.width = heatCopy.height = GRID;
      heatCopy.getContext("2d").drawImage(img, 0, 0);
      heat = heatCopy;
      heatClass = state.c;
    }
    plot.redraw(false, false);
    input.value = String(state.w);
    select.value = String(state.c);
    out.value = state.w.toFixed(1);
    title.textContent = `class ${state.c}, w = ${state.w.toFixed(1)}` + (state.w === 0 ? " (plain conditional sampling)" : "");
    stats.textContent = `${n.toLocaleString("en-US")} samples, DDIM ${steps.length} steps · mean log p(x | c) = ${r.logLik.toFixed(2)} · ` +
      `on class ${(100 * r.onClass).toFixed(1)}% · spread ${r.spread.toFixed(3)}`;
    document.body.dataset.c = String(state.c);
    document.body.dataset.w = String(state.w);
  }
  input.addEventListener("input", () => { state.w = Number(input.value); update(); });
  select.addEventListener("change", () => { state.c = Number(select.value); update(); });
  update();

  // --- in the background: every scale of the class shown (nearest first), then the other classes ---
  const scales = Array.from({ length: Math.round(data.w_max / data.w_step) + 1 }, (_, k) => k * data.w_step);
  let ready = false;
  function fillInBackground() {
    const order = [state.c, ...Array.from({ length: C }, (_, c) => c).filter((c) => c !== state.c)];
    for (const c of order) {
      const missing = scales.filter((w) => !cache.has(`${c}|${w}`));
      if (missing.length) {
        missing.sort((a, b) => Math.abs(a - state.w) - Math.abs(b - state.w));
        entry(c, missing[0]); // one run per task: a move in between is answered first
        setTimeout(fillInBackground, 0);
        return;
      }
    }
    ready = true;
    document.body.dataset.ready = "true";
  }
  setTimeout(fillInBackground, 0);

  // --- size: the plot follows the column's width; the iframe follows the page's height ---------
  D.followSize(data.id, { box, plot, side });

  // --- for tests and benchmarks ----------------------------------------------------------------
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    get runs() { return runs; },
    get ready() { return ready; },
    snapshot() { return { ...current }; },
    guidedEps(points, t, c, w) { const [cc, call] = fields(c, t); return points.map(([x, y]) => Array.from(D.guidedEps(cc, call, w, x, y, new Float64Array(2)))); },
    samples(c, w, indices) { const x = samples(c, w); return indices.map((i) => [x[2 * i], x[2 * i + 1]]); },
    allSamples(c, w) { return Array.from(samples(c, w)); },
    timeRun(c, w) { const t0 = performance.now(); readout(c, run(c, w)); return performance.now() - t0; }, // uncached: ms
  };
})();
