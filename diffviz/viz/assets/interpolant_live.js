// Chapter 12's interpolant explorer, live in the browser (diffviz.interpolant_live).
//
// Runs inside the self-contained page that diffviz/viz/live_flow.py builds (an <iframe srcdoc>):
// x0 and one noise draw eps per particle (int16 times a power of two, base64) and the VP
// schedule's settings come from the JSON in #diffviz-data. Closed forms only, as
// diffviz.interpolant_coefficients:
//   linear: a = 1 - t, s = t;   cosine: a = cos(pi t / 2), s = sin(pi t / 2);
//   vp: log abar(t) = (1 - f) log abar_k + f log abar_{k+1} (k = floor(tT) clipped to 0..T-1,
//       f = tT - k; abar_k from window.diffvizSchedule), a = sqrt(abar(t)), s = sqrt(-expm1(log abar(t)));
//   x_t = a x0 + s eps.  Drawing: window.diffviz2D (assets/live_2d.js).
// window.diffvizLive exposes the numbers it computes (tests compare them with diffviz).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);
  const D = window.diffviz2D, el = window.diffvizEl; // shared: assets/live_2d.js, live_common.js
  const SECTORS = 8, LIM = data.lim, T = data.T, STEP = 0.01;
  const names = data.interpolants;
  const x0 = D.decodeInt16(data.x0, data.scale), eps = D.decodeInt16(data.eps, data.scale);
  const n = eps.length / 2;
  const { order, starts } = D.sectorOrder(x0, SECTORS);
  const table = window.diffvizSchedule(data.schedule, T, data);
  const logAbar = table.abar.map((v) => Math.log(v));

  function coefficients(name, t) { // [a(t), s(t)]
    if (name === "linear") return [1 - t, t];
    if (name === "cosine") return [Math.cos((Math.PI / 2) * t), Math.sin((Math.PI / 2) * t)];
    const u = t * T, k = Math.min(T - 1, Math.max(0, Math.floor(u))), f = u - k;
    const la = (1 - f) * logAbar[k] + f * logAbar[k + 1];
    return [Math.exp(0.5 * la), Math.sqrt(-Math.expm1(la))];
  }

  // --- saved state: clamp what is out of range, and say so -----------------------------------
  const flags = [];
  const state = {
    interpolant: window.diffvizChoice(flags, "interpolant", data.interpolant, names),
    t: window.diffvizClamp(flags, "t", data.t, 0, 1, 0, false),
  };

  // --- one frame's numbers -------------------------------------------------------------------
  const xs = Array.from({ length: SECTORS }, (_, s) => new Float64Array(starts[s + 1] - starts[s]));
  const ys = xs.map((x) => new Float64Array(x.length));
  function frame() {
    const { interpolant, t } = state;
    const [a, s] = coefficients(interpolant, t);
    const sum = [0, 0], sum2 = [0, 0];
    for (let g = 0; g < SECTORS; g++) {
      for (let j = 0; j < xs[g].length; j++) {
        const i = order[starts[g] + j];
        const px = a * x0[2 * i] + s * eps[2 * i], py = a * x0[2 * i + 1] + s * eps[2 * i + 1];
        xs[g][j] = px; ys[g][j] = py;
        sum[0] += px; sum[1] += py; sum2[0] += px * px; sum2[1] += py * py;
      }
    }
    const mean = sum.map((v) => v / n);
    return { interpolant, t, a, s, particleMean: mean, particleVariance: sum2.map((v, d) => v / n - mean[d] * mean[d]) };
  }

  // --- the page --------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  const menu = window.diffvizMenu("interpolant", "interpolant", names, state.interpolant); // shared: live_common.js
  const { input, out, lab: slide } = window.diffvizSlider("t", "t", 0, 1, STEP, state.t);
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const flagBox = el("p", { className: "flag", role: "status" });
  const boxes = [el("div", { className: "plot" }), el("div", { className: "plot" })];
  const grid = el("div", {}, boxes);
  grid.style.cssText = "display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:4px;align-items:start;";
  const stats = el("p", { className: "stats" });
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [menu.lab, slide]), flagBox, title, grid, stats, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  let draws = 0, current = null;
  const counted = () => { draws += 1; document.body.dataset.draws = String(draws); }; // once per update: the curves are drawn last
  const axis = D.axis;
  const layer = D.pointsLayer(), colours = Array.from({ length: SECTORS }, (_, g) => D.angleColour(g, SECTORS));
  const { plot: scatter, side } = D.squareScatter(boxes[0], LIM, 420, "particles", { draw: [(u) => layer(u, xs.map((x, g) => ({ xs: x, ys: ys[g], rgba: [...colours[g], 255] })))] });

  const tAxis = Array.from({ length: 201 }, (_, i) => i / 200);
  const curve = new uPlot({
    width: Math.max(240, boxes[1].clientWidth || 300), height: 200, pxAlign: 0, cursor: { show: false },
    legend: { show: true, live: false },
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1.05] } },
    axes: [axis("time t"), axis("coefficient")],
    series: [{}, { label: "a(t) (data)", stroke: "#1f77b4", width: 1.8 }, { label: "s(t) (noise)", stroke: "#d62728", width: 1.8, dash: [5, 4] }],
    hooks: {
      draw: [(u) => { // where t is
        if (!current) return;
        const x = u.valToPos(current.t, "x", true);
        u.ctx.save();
        u.ctx.strokeStyle = "#555";
        u.ctx.beginPath(); u.ctx.moveTo(x, u.bbox.top); u.ctx.lineTo(x, u.bbox.top + u.bbox.height); u.ctx.stroke();
        for (const [v, c] of [[current.a, "#1f77b4"], [current.s, "#d62728"]]) {
          u.ctx.fillStyle = c;
          u.ctx.beginPath(); u.ctx.arc(x, u.valToPos(v, "y", true), 4 * devicePixelRatio, 0, 2 * Math.PI); u.ctx.fill();
        }
        u.ctx.restore();
        counted();
      }],
    },
  }, [tAxis, [], []], boxes[1]);
  let curveFor = null;

  const pair = (v) => `(${v[0].toFixed(3)}, ${v[1].toFixed(3)})`;
  function update() {
    current = frame();
    const f = current;
    scatter.redraw(false, false);
    if (curveFor !== f.interpolant) {
      curveFor = f.interpolant;
      const c = tAxis.map((t) => coefficients(f.interpolant, t));
      curve.setData([tAxis, c.map((p) => p[0]), c.map((p) => p[1])], false);
    }
    curve.redraw(false, false);
    out.value = f.t.toFixed(2);
    title.textContent = `${f.interpolant}: t = ${f.t.toFixed(2)},  a(t) = ${f.a.toFixed(3)},  s(t) = ${f.s.toFixed(3)},  a² + s² = ${(f.a * f.a + f.s * f.s).toFixed(3)}`;
    stats.textContent = `particles (${n.toLocaleString("en-US")}, ${data.dataset}): mean ${pair(f.particleMean)}, variance ${pair(f.particleVariance)}`;
    const ds = document.body.dataset;
    ds.interpolant = f.interpolant; ds.t = String(f.t);
  }
  menu.select.addEventListener("change", () => { state.interpolant = menu.select.value; update(); });
  input.addEventListener("input", () => { state.t = Number(input.value); update(); });
  update();

  // --- size: the plots follow the column's width; the iframe follows the page's height ---------
  D.followSize(data.id, { box: boxes[0], plot: scatter, side }, { box: boxes[1], plot: curve, height: 200 });

  // --- for tests and benchmarks ----------------------------------------------------------------
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    snapshot(times) { // the current state's numbers, and a(t), s(t) of every interpolant at these times
      const f = current;
      const at = {};
      for (const name of names) at[name] = (times || []).map((t) => coefficients(name, t));
      return { interpolant: f.interpolant, t: f.t, a: f.a, s: f.s, particleMean: f.particleMean,
        particleVariance: f.particleVariance, coefficients: at };
    },
    particles(indices) { // x_t of the particles with these indices (in the stored order)
      const f = current;
      return indices.map((i) => [f.a * x0[2 * i] + f.s * eps[2 * i], f.a * x0[2 * i + 1] + f.s * eps[2 * i + 1]]);
    },
  };
})();
