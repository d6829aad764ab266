// Chapter 3's schedule explorer, live in the browser (diffviz.schedule_live).
//
// Runs inside the self-contained page that diffviz/viz/live.py builds (an <iframe srcdoc>);
// the settings come from the JSON in #diffviz-data, uPlot (inlined) draws. Closed forms only,
// in float64, as diffviz/_schedules.py and diffviz/_forward.py compute them:
//   the betas, abar_t and 1 - abar_t: window.diffvizSchedule (assets/live_common.js),  SNR = abar / (1 - abar)
//   KL(q(x_T|x0) || N(0, I)) = 1/2 (abar_T sum x0^2 - d abar_T + d nlv),
//     nlv = -log1p(-abar_T) if abar_T < 0.5 else -log(1 - abar_T)         (d = entries of x0)
// window.diffvizLive exposes the numbers (tests compare them with diffviz).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);
  const names = data.names;
  const COLORS = { linear: "#1f77b4", cosine: "#ff7f0e", constant: "#2ca02c" };

  // --- closed forms ------------------------------------------------------------------------------
  function numbers(name, T) {
    const { beta, abar, rest } = window.diffvizSchedule(name, T, data); // shared: assets/live_common.js
    const snr = new Float64Array(T + 1);
    snr[0] = Infinity;
    for (let t = 1; t <= T; t++) snr[t] = abar[t] / rest[t];
    return { name, T, beta, abar, rest, snr, kl: priorKL(abar[T], rest[T]) };
  }
  function priorKL(abar, rest) {
    const nlv = abar < 0.5 ? -Math.log1p(-abar) : -Math.log(rest);
    const d = data.x0_size;
    return 0.5 * (abar * data.x0_sum_sq - d * abar + d * nlv);
  }
  function klAtEnd(name, T) {
    const n = numbers(name, T);
    return n.kl;
  }
  const Tgrid = (() => {
    const out = new Set();
    const lo = Math.log(data.T_min), hi = Math.log(data.T_max), k = data.num_T;
    for (let i = 0; i < k; i++) out.add(Math.round(Math.exp(k > 1 ? lo + ((hi - lo) * i) / (k - 1) : lo)));
    return [...out].sort((a, b) => a - b);
  })();

  // --- saved state: clamp what is out of range, and say so ---------------------------------------
  const flags = [];
  const T0 = window.diffvizClamp(flags, "T", data.T, data.T_min, data.T_max, data.T_min, true); // assets/live_common.js
  const name0 = window.diffvizChoice(flags, "schedule", data.schedule, names);
  const state = { schedule: name0, T: T0 };

  // --- the page ----------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  const el = window.diffvizEl; // shared: assets/live_common.js
  const { select, lab: pick } = window.diffvizMenu("schedule", "schedule", names, state.schedule); // shared: assets/live_common.js
  const { input, out, lab: slide } = window.diffvizSlider("T", "T", data.T_min, data.T_max, 1, state.T);
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const flagBox = el("p", { className: "flag", role: "status" });
  const boxes = [0, 1, 2].map(() => el("div", { className: "plot" }));
  const grid = el("div", {}, boxes);
  grid.style.cssText = "display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:4px;";
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [pick, slide]), flagBox, title, grid, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  let draws = 0;
  let current = null;
  const floor = data.floor;
  const axis = (label) => ({ label, labelSize: 20, size: 44, stroke: "#333", font: "11px sans-serif", labelFont: "12px sans-serif" });
  const logTicks = (u, splits) => splits.map((v) => (v == null ? "" : v >= 0.01 && v < 1e4 ? String(+v.toPrecision(2)) : v.toExponential(0)));
  const logAxis = (label) => ({ ...axis(label), values: logTicks });
  const height = (w) => Math.round(Math.max(180, Math.min(260, w * 0.8)));
  const hooks = { draw: [() => { draws += 1; document.body.dataset.draws = String(draws); }] };
  function make(box, opts, d) {
    const w = Math.max(200, box.clientWidth || 300);
    return new uPlot({ width: w, height: height(w), pxAlign: 0, cursor: { show: false }, legend: { show: true, live: false }, hooks, ...opts }, d, box);
  }
  let plots = null, plotsFor = null;
  const fmt = (x) => (x >= 0.01 ? x.toFixed(3) : x.toExponential(2));

  function update() {
    const { schedule, T } = state;
    current = numbers(schedule, T);
    const c = current, colour = COLORS[schedule] || "#1f77b4";
    const frac = Array.from({ length: T + 1 }, (_, t) => t / T);
    const dA = [frac, Array.from(c.abar), Array.from(c.rest)];
    const dS = [frac.slice(1), Array.from(c.snr.slice(1), (x) => Math.max(x, floor))];
    const xs = [...new Set([...Tgrid, T])].sort((a, b) => a - b);
    const kls = xs.map((x) => (x === T ? c.kl : klAtEnd(schedule, x)));
    const dK = [xs, kls.map((k) => Math.max(k, floor)), xs.map((x, i) => (x === T ? Math.max(kls[i], floor) : null))];
    if (plots && plotsFor !== schedule) { // a new colour: new plots
      for (const p of plots) p.destroy();
      plots = null;
    }
    if (!plots) {
      plotsFor = schedule;
      plots = [
        make(boxes[0], {
          scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
          axes: [axis("t / T"), axis("variance fraction")],
          series: [{}, { label: "ᾱₜ", stroke: colour, width: 1.8 }, { label: "1 − ᾱₜ", stroke: colour, width: 1.2, dash: [5, 4] }],
        }, dA),
        make(boxes[1], {
          scales: { x: { time: false, range: [0, 1] }, y: { distr: 3 } },
          axes: [axis("t / T"), logAxis("SNR (log scale)")],
          series: [{}, { label: "SNR ᾱₜ / (1 − ᾱₜ)", stroke: colour, width: 1.6 }],
        }, dS),
        make(boxes[2], {
          scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
          axes: [axis("number of steps T (log)"), logAxis("KL [nats] (log)")],
          series: [{}, { label: "KL(q(x_T|x₀) ‖ N(0,1))", stroke: colour, width: 1.3, points: { show: true, size: 4 } },
            { label: "this T", stroke: "#000", width: 0, points: { show: true, size: 10, fill: colour } }],
        }, dK),
      ];
    } else {
      plots[0].setData(dA, true);
      plots[1].setData(dS, true);
      plots[2].setData(dK, true);
    }
    out.value = String(T);
    title.textContent = `${schedule}, T = ${T}:  ᾱ_T = ${fmt(c.abar[T])},  KL(q(x_T | x₀) ‖ N(0, 1)) = ${fmt(c.kl)} nats`;
    document.body.dataset.schedule = schedule;
    document.body.dataset.T = String(T);
  }
  select.addEventListener("change", () => { state.schedule = select.value; update(); });
  input.addEventListener("input", () => { state.T = Number(input.value); update(); });
  update();

  // --- size: the plots follow the column's width; the iframe follows the page's height -----------
  window.diffvizFollowSize(data.id, () => {
    boxes.forEach((box, i) => {
      const w = box.clientWidth;
      if (w > 0 && plots && Math.abs(w - plots[i].width) > 1) plots[i].setSize({ width: w, height: height(w) });
    });
  });

  // --- for tests -----------------------------------------------------------------------------------
  const pickAt = (n, ts) => ({ schedule: n.name, T: n.T, kl: n.kl,
    abar: ts.map((t) => n.abar[t]), rest: ts.map((t) => n.rest[t]), snr: ts.map((t) => n.snr[t]) });
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    snapshot(ts) { return pickAt(current, (ts || []).filter((t) => t <= current.T)); },
    numbers(name, T, ts) { return pickAt(numbers(name, T), ts); },
  };
})();
