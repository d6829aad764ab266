// Chapter 5's exact reverse process, live in the browser (diffviz.reverse_2d_live).
//
// Runs inside the self-contained page that diffviz/viz/live_2d.py builds (an <iframe srcdoc>):
// the start x_T (int16 times a power of two, base64), the mixture, the schedule's settings and a
// 32-bit seed come from the JSON in #diffviz-data. The browser runs DDPM's chain itself, in float64:
//   x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps*(x_t, t)) / sqrt(1 - beta_t) + sigma_t z,
//   sigma_t = sqrt(beta_t) for t > 1, 0 for t = 1,
// with the exact eps* of the mixture (window.diffviz2D.epsStar: log-sum-exp) and the noise z of
// particle i at step t a fixed function of (seed, t, i) (noise() below; diffviz.chain_noise in
// Python computes the same numbers). The run is kept every CHECK steps (checkpoints, filled in
// the background after the page opens); step t is computed from the checkpoint above it, and the
// frames computed are kept for the last 4 blocks used, so a slider step costs at most CHECK - 1
// chain steps (one step when moving down, none when coming back).
// window.diffvizLive exposes the numbers it computes (tests compare them with diffviz).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);
  const D = window.diffviz2D, el = window.diffvizEl; // shared: assets/live_2d.js, live_common.js
  const LIM = data.lim, GRID = 64, CHECK = 10, PATH_EVERY = 20, T = data.T, mix = data.mixture;
  const xT = D.decodeInt16(data.x_T, data.scale);
  const n = xT.length / 2;
  const sched = window.diffvizSchedule(data.schedule, T, data);
  const paths = data.paths;

  // --- the step noise: a counter-based hash (lowbias32) and Box-Muller --------------------------
  function hash(x) {
    x ^= x >>> 16; x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15; x = Math.imul(x, 0x846ca68b);
    return (x ^ (x >>> 16)) >>> 0;
  }
  const seedMix = hash(data.seed >>> 0);
  function noise(t, i, out) {
    const c = 2 * (t * n + i) + seedMix; // < 2^53: exact; taken mod 2^32 by >>> 0
    const u0 = (hash(c >>> 0) + 0.5) / 4294967296, u1 = (hash((c + 1) >>> 0) + 0.5) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u0));
    out[0] = r * Math.cos(2 * Math.PI * u1);
    out[1] = r * Math.sin(2 * Math.PI * u1);
    return out;
  }

  // --- one step back, x (at t) -> y (at t - 1) ----------------------------------------------------
  const e = new Float64Array(2), z = new Float64Array(2);
  const comps = new Array(T + 1); // the diffused mixture at each t (built once per t)
  const compAt = (t) => comps[t] || (comps[t] = D.diffuse(mix, sched.abar[t], sched.rest[t]));
  let steps = 0;
  function step(x, t, y) {
    const c = compAt(t), beta = sched.beta[t];
    const k = beta / Math.sqrt(sched.rest[t]), inv = 1 / Math.sqrt(1 - beta), sigma = t > 1 ? Math.sqrt(beta) : 0;
    for (let i = 0; i < n; i++) {
      const px = x[2 * i], py = x[2 * i + 1];
      D.epsStar(c, px, py, e);
      if (sigma > 0) noise(t, i, z); else { z[0] = 0; z[1] = 0; }
      y[2 * i] = (px - k * e[0]) * inv + sigma * z[0];
      y[2 * i + 1] = (py - k * e[1]) * inv + sigma * z[1];
    }
    steps += 1;
    return y;
  }

  // --- checkpoints (every CHECK steps), paths, and the block cache --------------------------------
  const checkpoints = new Map([[T, Float64Array.from(xT)]]);
  const pathXY = paths.map(() => new Float64Array(2 * (T + 1)).fill(NaN));
  const record = (x, t) => paths.forEach((i, p) => { pathXY[p][2 * t] = x[2 * i]; pathXY[p][2 * t + 1] = x[2 * i + 1]; });
  record(checkpoints.get(T), T);
  let frontier = T; // checkpoints exist down to here
  function extend() { // one block further down: CHECK steps (fewer at the end)
    let x = checkpoints.get(frontier), t = frontier;
    const stop = Math.max(0, frontier - CHECK);
    while (t > stop) {
      x = step(x, t, new Float64Array(2 * n));
      t -= 1;
      record(x, t);
    }
    checkpoints.set(stop, x);
    frontier = stop;
  }
  const blocks = new Map(); // top checkpoint -> Map(t -> x_t) of the frames computed below it; the last 4 used
  function particlesAt(t) {
    while (frontier > t) extend();
    if (checkpoints.has(t)) return checkpoints.get(t);
    const top = Math.min(T, Math.ceil(t / CHECK) * CHECK);
    const frames = blocks.get(top) || new Map([[top, checkpoints.get(top)]]);
    blocks.delete(top);
    blocks.set(top, frames);
    if (blocks.size > 4) blocks.delete(blocks.keys().next().value);
    let s = t;
    while (!frames.has(s)) s += 1; // the lowest frame computed so far: step down from it
    for (; s > t; s--) frames.set(s - 1, step(frames.get(s), s, new Float64Array(2 * n)));
    return frames.get(t);
  }
  let ready = false, touched = false;
  function fillInBackground() { // the whole run, a few blocks at a time, without blocking the page
    const until = performance.now() + 50; // about 20 pictures a second while it runs
    while (frontier > 0 && performance.now() < until) extend();
    if (frontier > 0) {
      if (!touched && frontier > state.t) update(); // until the reader moves t: watch the run go from noise to data
      setTimeout(fillInBackground, 0);
    } else {
      ready = true;
      document.body.dataset.ready = "true";
      update();
    }
  }

  // --- saved state: clamp what is out of range, and say so -----------------------------------
  const flags = [];
  const state = { t: window.diffvizClamp(flags, "t", data.t, 0, T, T, true) };

  // --- the page --------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  // the slider runs from t = T (left, noise) to t = 0 (right, data): its value is T - t
  const { input, out, lab: slide } = window.diffvizSlider("t", "t", 0, T, 1, T - state.t); // shared: assets/live_common.js
  input.setAttribute("aria-label", "t, from T (left, noise) to 0 (right, data)");
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const flagBox = el("p", { className: "flag", role: "status" });
  const box = el("div", { className: "plot" });
  const stats = el("p", { className: "stats" });
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [slide]), flagBox, title, box, stats, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  let draws = 0, current = null, heat = null;
  const dpr = () => window.devicePixelRatio || 1;
  const layer = D.pointsLayer();
  const xs = new Float64Array(n), ys = new Float64Array(n); // the particles at the step shown
  const { plot, side } = D.squareScatter(box, LIM, 460, "particles", {
      drawClear: [(u) => { if (heat) u.ctx.drawImage(heat, u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height); }],
      draw: [(u) => {
        if (!current) return;
        layer(u, [{ xs, ys, rgba: [31, 119, 180, 150] }]);
        // the paths from t = T down to the current t (every PATH_EVERY-th step): hollow circle at the start, dot now
        const c = u.ctx, { left, top, width, height } = u.bbox;
        const px = (v) => left + ((v + LIM) / (2 * LIM)) * width, py = (v) => top + ((LIM - v) / (2 * LIM)) * height;
        c.save();
        c.beginPath(); c.rect(left, top, width, height); c.clip();
        c.lineWidth = 1.1 * dpr();
        pathXY.forEach((xy, p) => {
          c.strokeStyle = c.fillStyle = `rgb(${D.angleColour(p, pathXY.length, 0.3).join(", ")})`;
          c.beginPath();
          c.moveTo(px(xy[2 * T]), py(xy[2 * T + 1]));
          for (let t = T - (T % PATH_EVERY || PATH_EVERY); t > current.t; t -= PATH_EVERY) c.lineTo(px(xy[2 * t]), py(xy[2 * t + 1]));
          c.lineTo(px(xy[2 * current.t]), py(xy[2 * current.t + 1]));
          c.stroke();
          c.beginPath(); c.arc(px(xy[2 * T]), py(xy[2 * T + 1]), 4 * dpr(), 0, 2 * Math.PI); c.stroke();
          c.beginPath(); c.arc(px(xy[2 * current.t]), py(xy[2 * current.t + 1]), 3.5 * dpr(), 0, 2 * Math.PI); c.fill();
        });
        c.restore();
        draws += 1;
        document.body.dataset.draws = String(draws);
      }],
    });

  const fmt = (x) => (x >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));
  function update() {
    const t = ready || touched ? state.t : Math.max(state.t, frontier), x = particlesAt(t);
    for (let i = 0; i < n; i++) { xs[i] = x[2 * i]; ys[i] = x[2 * i + 1]; }
    const c = compAt(t), m = D.moments(mix, sched.abar[t], sched.rest[t]);
    let near = 0;
    for (let i = 0; i < n; i++) { // within 3 data standard deviations of a centre of the data
      for (let k = 0; k < mix.weights.length; k++) {
        const dx = xs[i] - mix.means[k][0], dy = ys[i] - mix.means[k][1], s = 3 * mix.stds[k][0];
        if (dx * dx + dy * dy < s * s) { near += 1; break; }
      }
    }
    current = { t, abar: sched.abar[t], rest: sched.rest[t], comp: c, mean: m.mean, variance: m.variance, near: near / n };
    heat = D.heatImage(c, GRID, LIM);
    plot.redraw(false, false);
    input.value = String(T - state.t);
    out.value = String(t);
    title.textContent = `t = ${t} (${T - t} steps back from pure noise),  ᾱₜ = ${fmt(current.abar)}` + (t === state.t ? "" : " · running…");
    stats.textContent = `${n.toLocaleString("en-US")} particles · ${(100 * current.near).toFixed(1)}% within 3 data standard deviations of a centre` +
      (ready ? "" : " · running the chain in the background…");
    document.body.dataset.t = String(t);
  }
  input.addEventListener("input", () => { touched = true; state.t = T - Number(input.value); update(); });
  update();
  setTimeout(fillInBackground, 0);

  // --- size: the plot follows the column's width; the iframe follows the page's height ---------
  D.followSize(data.id, { box, plot, side });

  // --- for tests and benchmarks ----------------------------------------------------------------
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    get ready() { return ready; },
    get steps() { return steps; },
    snapshot(points) {
      const f = current;
      return { t: f.t, abar: f.abar, rest: f.rest, beta: sched.beta[f.t], mean: f.mean, variance: f.variance, near: f.near,
        logDensity: (points || []).map(([x, y]) => D.logDensity(f.comp, x, y)),
        epsStar: (points || []).map(([x, y]) => Array.from(D.epsStar(f.comp, x, y, new Float64Array(2)))) };
    },
    particles(t, indices) { const x = particlesAt(t); return indices.map((i) => [x[2 * i], x[2 * i + 1]]); },
    noise(t, indices) { return indices.map((i) => Array.from(noise(t, i, new Float64Array(2)))); },
    path(p) { return Array.from({ length: T + 1 }, (_, t) => [pathXY[p][2 * t], pathXY[p][2 * t + 1]]); },
  };
})();
