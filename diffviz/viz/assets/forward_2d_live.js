// Chapter 4's 2-D forward-process explorer, live in the browser (diffviz.forward_2d_live).
//
// Runs inside the self-contained page that diffviz/viz/live_2d.py builds (an <iframe srcdoc>):
// x0 of every data set and one noise draw eps per particle (int16 times a power of two, base64),
// the eight-Gaussians mixture, the checkerboard's squares and the schedules' settings come from the
// JSON in #diffviz-data. Closed forms only:  abar_t from the schedule (window.diffvizSchedule,
// live_common.js), x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, and for a mixture or the board its
// exact q_t (window.diffviz2D: a mixture's log-sum-exp, the board's Gaussian CDF differences).
// window.diffvizLive exposes the numbers it computes (tests compare them with diffviz).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);
  const D = window.diffviz2D, el = window.diffvizEl; // shared: assets/live_2d.js, live_common.js
  const SECTORS = 8, LIM = data.lim, GRID = 64;
  const names = data.datasets, schedules = data.schedules, T = data.T;
  const eps = D.decodeInt16(data.eps, data.scale);
  const n = eps.length / 2;
  const x0 = {}, order = {}, starts = {};
  for (const name of names) { // each data set's particles, grouped by the angle sector they start in
    x0[name] = D.decodeInt16(data.x0[name], data.scale);
    ({ order: order[name], starts: starts[name] } = D.sectorOrder(x0[name], SECTORS));
  }
  const tables = {};
  for (const s of schedules) tables[s] = window.diffvizSchedule(s, T, data);

  // --- saved state: clamp what is out of range, and say so -----------------------------------
  const flags = [];
  const state = {
    dataset: window.diffvizChoice(flags, "dataset", data.dataset, names),
    schedule: window.diffvizChoice(flags, "schedule", data.schedule, schedules),
    t: window.diffvizClamp(flags, "t", data.t, 0, T, 0, true),
    density: true,
  };

  // --- one frame's numbers -------------------------------------------------------------------
  const xs = Array.from({ length: SECTORS }, () => new Float64Array(0));
  const ys = Array.from({ length: SECTORS }, () => new Float64Array(0));
  function frame() {
    const { dataset, schedule, t } = state;
    const abar = tables[schedule].abar[t], rest = tables[schedule].rest[t];
    const a = Math.sqrt(abar), b = Math.sqrt(rest), x = x0[dataset], idx = order[dataset], st = starts[dataset];
    const sum = [0, 0], sum2 = [0, 0];
    for (let s = 0; s < SECTORS; s++) {
      const m = st[s + 1] - st[s];
      if (xs[s].length !== m) { xs[s] = new Float64Array(m); ys[s] = new Float64Array(m); }
      for (let j = 0; j < m; j++) {
        const i = idx[st[s] + j];
        const px = a * x[2 * i] + b * eps[2 * i], py = a * x[2 * i + 1] + b * eps[2 * i + 1];
        xs[s][j] = px; ys[s][j] = py;
        sum[0] += px; sum[1] += py; sum2[0] += px * px; sum2[1] += py * py;
      }
    }
    const mean = sum.map((v) => v / n);
    const f = { dataset, schedule, t, abar, rest, snr: abar / rest,
      particleMean: mean, particleVariance: sum2.map((v, d) => v / n - mean[d] * mean[d]) };
    const mix = data.mixtures[dataset], board = (data.boards || {})[dataset];
    if (mix) {
      f.comp = D.diffuse(mix, abar, rest);
      Object.assign(f, D.moments(mix, abar, rest));
    } else if (board) {
      f.comp = D.diffuseBoard(board, abar, rest);
      Object.assign(f, D.boardMoments(board, abar, rest));
    }
    return f;
  }

  // --- the page --------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  const mData = window.diffvizMenu("dataset", "data", names, state.dataset); // shared: assets/live_common.js
  const mSched = window.diffvizMenu("schedule", "schedule", schedules, state.schedule);
  const { input, out, lab: slide } = window.diffvizSlider("t", "t", 0, T, 1, state.t);
  const dens = el("input", { type: "checkbox", id: "s-density", checked: true });
  const toggle = el("label", { htmlFor: "s-density", className: "toggle" }, [dens, " shade the exact density qₜ (eight Gaussians, checkerboard)"]);
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const flagBox = el("p", { className: "flag", role: "status" });
  const boxes = [el("div", { className: "plot" }), el("div", { className: "plot" })];
  const grid = el("div", {}, boxes);
  grid.style.cssText = "display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:4px;align-items:start;";
  const stats = el("p", { className: "stats" });
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [mData.lab, mSched.lab, slide, toggle]), flagBox, title, grid, stats, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  let draws = 0, current = null, heat = null;
  const counted = () => { draws += 1; document.body.dataset.draws = String(draws); }; // once per update: the curve is drawn last
  const axis = D.axis;
  const layer = D.pointsLayer(), colours = Array.from({ length: SECTORS }, (_, s) => D.angleColour(s, SECTORS));
  const { plot: scatter, side } = D.squareScatter(boxes[0], LIM, 420, "particles", {
      drawClear: [(u) => { // the exact density under the particles
        if (!heat) return;
        const { left, top, width, height } = u.bbox;
        u.ctx.imageSmoothingEnabled = true;
        u.ctx.drawImage(heat, left, top, width, height);
      }],
      draw: [(u) => layer(u, xs.map((x, s) => ({ xs: x, ys: ys[s], rgba: [...colours[s], 255] })))],
    });

  const tAxis = Array.from({ length: T + 1 }, (_, t) => t);
  const curve = new uPlot({
    width: Math.max(240, boxes[1].clientWidth || 300), height: 200, pxAlign: 0, cursor: { show: false },
    legend: { show: true, live: false },
    scales: { x: { time: false, range: [0, T] }, y: { range: [0, 1] } },
    axes: [axis("time step t"), axis("variance fraction")],
    series: [{}, { label: "ᾱₜ (signal)", stroke: "#1f77b4", width: 1.8 }, { label: "1 − ᾱₜ (noise)", stroke: "#1f77b4", width: 1.2, dash: [5, 4] }],
    hooks: {
      draw: [(u) => { // where t is
        if (!current) return;
        const x = u.valToPos(current.t, "x", true), y = u.valToPos(current.abar, "y", true);
        u.ctx.save();
        u.ctx.strokeStyle = "#b2182b";
        u.ctx.beginPath(); u.ctx.moveTo(x, u.bbox.top); u.ctx.lineTo(x, u.bbox.top + u.bbox.height); u.ctx.stroke();
        u.ctx.fillStyle = "#b2182b";
        u.ctx.beginPath(); u.ctx.arc(x, y, 4 * devicePixelRatio, 0, 2 * Math.PI); u.ctx.fill();
        u.ctx.restore();
        counted();
      }],
    },
  }, [tAxis, [], []], boxes[1]);
  let curveFor = null;

  const fmt = (x) => (x >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));
  const pair = (v) => `(${v[0].toFixed(3)}, ${v[1].toFixed(3)})`;
  function update() {
    current = frame();
    const f = current;
    heat = f.comp && state.density ? D.heatImage(f.comp, GRID, LIM) : null;
    dens.disabled = !f.comp;
    scatter.redraw(false, false);
    if (curveFor !== f.schedule) {
      curveFor = f.schedule;
      curve.setData([tAxis, Array.from(tables[f.schedule].abar), Array.from(tables[f.schedule].rest)], false);
    }
    curve.redraw(false, false);
    out.value = String(f.t);
    title.textContent = `${f.dataset}, ${f.schedule}: t = ${f.t},  ᾱₜ = ${fmt(f.abar)},  SNR = ${Number.isFinite(f.snr) ? fmt(f.snr) : "∞ (no noise yet)"}`;
    stats.textContent = `particles (${n.toLocaleString("en-US")}): mean ${pair(f.particleMean)}, variance ${pair(f.particleVariance)}` +
      (f.mean ? `  ·  exact qₜ: mean ${pair(f.mean)}, variance ${pair(f.variance)}` : "");
    const ds = document.body.dataset;
    ds.dataset = f.dataset; ds.schedule = f.schedule; ds.t = String(f.t);
  }
  mData.select.addEventListener("change", () => { state.dataset = mData.select.value; update(); });
  mSched.select.addEventListener("change", () => { state.schedule = mSched.select.value; update(); });
  input.addEventListener("input", () => { state.t = Number(input.value); update(); });
  dens.addEventListener("change", () => { state.density = dens.checked; update(); });
  update();

  // --- size: the plots follow the column's width; the iframe follows the page's height ---------
  D.followSize(data.id, { box: boxes[0], plot: scatter, side }, { box: boxes[1], plot: curve, height: 200 });

  // --- for tests and benchmarks ----------------------------------------------------------------
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    snapshot(points) {
      const f = current;
      const snap = { dataset: f.dataset, schedule: f.schedule, t: f.t, abar: f.abar, rest: f.rest,
        particleMean: f.particleMean, particleVariance: f.particleVariance, density: state.density && !!f.comp };
      if (f.comp) {
        snap.mean = f.mean; snap.variance = f.variance;
        const logq = f.comp.board ? D.boardLogDensity : D.logDensity;
        snap.logDensity = (points || []).map(([x, y]) => logq(f.comp, x, y));
      }
      return snap;
    },
    heat() { // the shaded q_t: G x G values at the cell centres, row 0 at the top (null when nothing is shaded)
      const last = D.heatImage.last;
      return heat && last ? { G: last.G, lim: last.lim, density: Array.from(last.density) } : null;
    },
    particles(indices) { // x_t of the particles with these indices (in the stored order)
      const f = current, a = Math.sqrt(f.abar), b = Math.sqrt(f.rest), x = x0[f.dataset];
      return indices.map((i) => [a * x[2 * i] + b * eps[2 * i], a * x[2 * i + 1] + b * eps[2 * i + 1]]);
    },
  };
})();
