// Chapter 1's conditioning explorer, live in the browser (diffviz.gaussian_conditioning_live).
//
// Runs inside the self-contained page that diffviz/viz/live.py builds (an <iframe srcdoc>):
// n standard normal pairs (z1 sorted ascending, z2; float32, base64) come from the JSON in
// #diffviz-data; uPlot (inlined) draws. Closed forms only, in float64:
//   x1 = z1,  x2 = rho z1 + sqrt(1 - rho^2) z2          ((x1, x2) ~ N(0, [[1, rho], [rho, 1]]))
//   slice: |x1 - a| < width / 2;  x2 | x1 = a ~ N(rho a, 1 - rho^2);  marginal x2 ~ N(0, 1)
// The histogram is a density of the points in the slice (numpy's histogram / (m * bin width)),
// on bins about 9 conditional std / `bins` wide, as diffviz.plot_gaussian_conditioning draws it.
// window.diffvizLive exposes the numbers (tests compare them with diffviz).
(function () {
  "use strict";
  const COLORS = { particles: "#9ebfe0", dark: "#1f4e8c", exact: "#b2182b", reference: "#595959" };
  const SUB = 4; // grid points per histogram bin (the curves are drawn on the same x grid)
  const data = JSON.parse(document.getElementById("diffviz-data").textContent);
  function decode(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }
  const z1 = Array.from(decode(data.z1)); // ascending: the scatter's x values
  const z2 = decode(data.z2);
  const n = z1.length;
  const half = data.width / 2;
  const lim = data.lim;

  // --- saved state: clamp what is out of range, and say so -------------------------------------
  const flags = [];
  function clampNumber(name, value, lo, hi, fallback) {
    const v = value === null || value === "" ? NaN : Number(value);
    if (!Number.isFinite(v)) {
      flags.push(`${name} = ${value} from the saved state is not a number: shown at ${fallback}`);
      return fallback;
    }
    if (v < lo || v > hi) {
      const c = Math.min(hi, Math.max(lo, v));
      flags.push(`${name} = ${v} from the saved state is outside ${lo}..${hi}: shown at ${c}`);
      return c;
    }
    return v;
  }
  const state = {
    rho: clampNumber("ρ", data.rho, -data.rho_max, data.rho_max, 0),
    a: clampNumber("a", data.a, -data.a_max, data.a_max, 0),
  };

  // --- closed forms ----------------------------------------------------------------------------
  const conditional = (rho, a) => ({ mean: rho * a, variance: 1 - rho * rho });
  const normalPdf = (x, m, v) => Math.exp((-0.5 * (x - m) * (x - m)) / v) / Math.sqrt(2 * Math.PI * v);
  function x2Of(rho) {
    const s = Math.sqrt(1 - rho * rho), out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = rho * z1[i] + s * z2[i];
    return out;
  }
  function sliceRange(a) { // [first, last) indices with |x1 - a| < half (z1 is sorted)
    const find = (v, strict) => {
      let lo = 0, hi = n;
      while (lo < hi) { const m = (lo + hi) >> 1; if (strict ? z1[m] <= v : z1[m] < v) lo = m + 1; else hi = m; }
      return lo;
    };
    let i = find(a - half, true), j = find(a + half, false);
    while (i < j && !(Math.abs(z1[i] - a) < half)) i++; // the open interval, exactly as in Python
    while (j > i && !(Math.abs(z1[j - 1] - a) < half)) j--;
    return [i, j];
  }
  function histogram(x2, a, lay) {
    const [i, j] = sliceRange(a);
    const counts = new Float64Array(lay.bins);
    let sum = 0;
    for (let k = i; k < j; k++) {
      sum += x2[k];
      const b = Math.floor((x2[k] - lay.lo) / lay.bw);
      if (b >= 0 && b < lay.bins) counts[b] += 1;
    }
    const m = j - i;
    const heights = Array.from(counts, (c) => (m ? c / (m * lay.bw) : 0));
    return { first: i, last: j, count: m, sliceMean: m ? sum / m : NaN, heights };
  }

  // --- the layout of one rho: bins, x range, grid, y range (fixed while a moves) -----------------
  let layout = null;
  function makeLayout(rho) {
    const cVar = Math.max(1 - rho * rho, 1e-12), cSd = Math.sqrt(cVar);
    let lo = -3.5, hi = 3.5;
    for (const a of [-data.a_max, data.a_max]) {
      lo = Math.min(lo, rho * a - 4.5 * cSd);
      hi = Math.max(hi, rho * a + 4.5 * cSd);
    }
    const bw = (9 * cSd) / data.bins;
    const bins = Math.ceil((hi - lo) / bw);
    const grid = [];
    for (let j = 0; j <= bins * SUB; j++) grid.push(lo + (j * bw) / SUB);
    const lay = { rho, lo, bw, bins, hi: lo + bins * bw, grid, x2: x2Of(rho) };
    lay.marginal = grid.map((x) => normalPdf(x, 0, 1));
    let top = normalPdf(0, 0, cVar);
    const steps = Math.round((2 * data.a_max) / data.a_step);
    for (let s = 0; s <= steps; s++) {
      for (const h of histogram(lay.x2, -data.a_max + s * data.a_step, lay).heights) top = Math.max(top, h);
    }
    lay.yMax = 1.3 * top;
    return lay;
  }

  function frame() {
    const { rho, a } = state;
    if (!layout || layout.rho !== rho) layout = makeLayout(rho);
    const c = conditional(rho, a);
    const h = histogram(layout.x2, a, layout);
    const hist = layout.grid.map((_, j) => h.heights[Math.min(layout.bins - 1, Math.floor(j / SUB))]);
    const formula = layout.grid.map((x) => normalPdf(x, c.mean, c.variance));
    return { rho, a, ...c, ...h, hist, formula };
  }

  // --- the page ----------------------------------------------------------------------------------
  const root = document.getElementById("root");
  root.querySelector(".fallback").remove(); // the static PNG: for readers without JavaScript
  const el = window.diffvizEl; // shared: assets/live_common.js
  function slider(name, label, min, max, step, value) {
    const input = el("input", { type: "range", min, max, step, value, id: `s-${name}` });
    input.setAttribute("aria-label", label);
    const out = el("output", { htmlFor: input.id });
    const lab = el("label", { htmlFor: input.id, className: "slider" }, [el("span", { className: "name", textContent: label }), input, out]);
    return { input, out, lab };
  }
  const sRho = slider("rho", "ρ", -data.rho_max, data.rho_max, data.rho_step, state.rho);
  const sA = slider("a", "a", -data.a_max, data.a_max, data.a_step, state.a);
  const title = el("p", { className: "title" });
  title.setAttribute("aria-live", "polite");
  const flagBox = el("p", { className: "flag", role: "status" });
  const boxes = [0, 1].map(() => el("div", { className: "plot" }));
  const grid = el("div", {}, boxes);
  grid.style.cssText = "display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:4px;";
  const stats = el("p", { className: "stats" });
  const note = el("p", { className: "note", textContent: data.note });
  root.append(el("div", { className: "controls" }, [sRho.lab, sA.lab]), flagBox, title, grid, stats, note);
  if (flags.length) flagBox.textContent = "⚠ " + flags.join("; ");
  else flagBox.hidden = true;

  let current = null, draws = 0, plots = null;
  const axis = (label) => ({ label, labelSize: 20, size: 40, stroke: "#333", font: "11px sans-serif", labelFont: "12px sans-serif" });
  const heightOf = (w) => Math.round(Math.max(200, Math.min(330, w * 0.85)));
  let pending = 0; // plots still to draw for this move: body[data-draws] moves when both have drawn
  const counted = () => { draws += 1; if (--pending === 0) document.body.dataset.draws = String(draws); };
  // All the points at this rho, as one picture: written pixel by pixel (2 x 2 device pixels a point)
  // and kept while only a moves. Painting 10,000 canvas rectangles or arcs costs ~50 ms a frame in
  // Chromium's software raster; one drawImage costs almost nothing.
  let pointsCache = null;
  function pointsImage(width, height) {
    const w = Math.round(width), h = Math.round(height);
    if (pointsCache && pointsCache.rho === layout.rho && pointsCache.w === w && pointsCache.h === h) return pointsCache.canvas;
    const canvas = pointsCache && pointsCache.w === w && pointsCache.h === h ? pointsCache.canvas : el("canvas", { width: w, height: h });
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(w, h), px = new Uint32Array(image.data.buffer);
    const colour = 0xffe0bf9e; // #9ebfe0, opaque (little-endian RGBA)
    const sx = w / (2 * lim), sy = h / (2 * lim), x2 = layout.x2;
    for (let i = 0; i < n; i++) {
      const x = Math.floor((z1[i] + lim) * sx), y = Math.floor((lim - x2[i]) * sy);
      if (x < 0 || y < 0 || x >= w - 1 || y >= h - 1) continue;
      px[y * w + x] = px[y * w + x + 1] = px[(y + 1) * w + x] = px[(y + 1) * w + x + 1] = colour;
    }
    ctx.putImageData(image, 0, 0);
    pointsCache = { rho: layout.rho, w, h, canvas };
    return canvas;
  }
  function lines(u) { // the points (small squares: far cheaper to paint than 10,000 arcs), the slice's
    if (!current) return; // edges and the line of conditional means
    const { left, top, width, height } = u.bbox, ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const x2 = layout.x2, R = 1.6 * devicePixelRatio;
    const sx = width / (2 * lim), sy = height / (2 * lim);
    ctx.drawImage(pointsImage(width, height), left, top);
    ctx.fillStyle = COLORS.dark;
    for (let i = current.first; i < current.last; i++) ctx.fillRect(left + (z1[i] + lim) * sx - R, top + (lim - x2[i]) * sy - R, 2 * R, 2 * R);
    ctx.strokeStyle = COLORS.exact;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(u.valToPos(-lim, "x", true), u.valToPos(-lim * current.rho, "y", true));
    ctx.lineTo(u.valToPos(lim, "x", true), u.valToPos(lim * current.rho, "y", true));
    ctx.stroke();
    ctx.strokeStyle = "#333";
    ctx.lineWidth = devicePixelRatio;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    for (const x of [current.a - half, current.a + half]) {
      const px = u.valToPos(x, "x", true);
      ctx.moveTo(px, top);
      ctx.lineTo(px, top + height);
    }
    ctx.stroke();
    ctx.restore();
  }
  function make(box, opts, d) {
    const w = Math.max(220, box.clientWidth || 320);
    return new uPlot({ width: w, height: heightOf(w), pxAlign: 0, cursor: { show: false }, legend: { show: true, live: false }, ...opts }, d, box);
  }
  const noLine = () => null;

  function update() {
    current = frame();
    pending = 2;
    const f = current;
    const dScatter = [[-lim, lim], [null, null], [null, null]]; // the points: drawn by the hook
    const dHist = [layout.grid, f.hist, layout.marginal, f.formula];
    if (!plots) {
      plots = [
        make(boxes[0], {
          scales: { x: { time: false, range: [-lim, lim] }, y: { range: [-lim, lim] } },
          axes: [axis("x₁"), axis("x₂")],
          // the series are drawn by the draw hook (lines); here they give the legend its entries
          series: [{}, { label: "samples", stroke: COLORS.particles, fill: COLORS.particles, paths: noLine, points: { show: false } },
            { label: "in the slice", stroke: COLORS.dark, fill: COLORS.dark, paths: noLine, points: { show: false } }],
          hooks: { draw: [lines, counted] },
        }, dScatter),
        make(boxes[1], {
          scales: { x: { time: false, range: () => [layout.lo, layout.hi] }, y: { range: () => [0, layout.yMax] } },
          axes: [axis("x₂ given x₁ ≈ a"), axis("density")],
          series: [{}, { label: "x₂ in the slice", stroke: "#7fa6cf", width: 0, fill: COLORS.particles, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
            { label: "marginal N(0, 1)", stroke: COLORS.reference, width: 1.2, dash: [5, 4], points: { show: false } },
            { label: "formula N(ρa, 1 − ρ²)", stroke: COLORS.exact, width: 2, points: { show: false } }],
          hooks: { draw: [counted] },
        }, dHist),
      ];
    } else {
      plots[0].setData(dScatter, true);
      plots[1].setData(dHist, true);
    }
    sRho.out.value = f.rho.toFixed(2);
    sA.out.value = f.a.toFixed(1);
    title.textContent = `ρ = ${f.rho.toFixed(2)}, a = ${f.a.toFixed(1)}:  x₂ | x₁ = a ~ N(${f.mean.toFixed(3)}, ${f.variance.toFixed(3)})`;
    stats.textContent = f.count
      ? `${f.count.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} points in the slice |x₁ − a| < ${half}; their mean x₂ = ${f.sliceMean.toFixed(3)}, the formula's ${f.mean.toFixed(3)}`
      : `no point in the slice |x₁ − a| < ${half}: move a towards 0`;
  }
  sRho.input.addEventListener("input", () => { state.rho = Number(sRho.input.value); update(); });
  sA.input.addEventListener("input", () => { state.a = Number(sA.input.value); update(); });
  update();

  // --- size: the plots follow the column's width; the iframe follows the page's height -----------
  window.diffvizFollowSize(data.id, () => {
    boxes.forEach((box, i) => {
      const w = box.clientWidth;
      if (w > 0 && plots && Math.abs(w - plots[i].width) > 1) plots[i].setSize({ width: w, height: heightOf(w) });
    });
  });

  // --- for tests and benchmarks --------------------------------------------------------------------
  window.diffvizLive = {
    flags,
    get draws() { return draws; },
    snapshot(xs) {
      const f = current;
      return { rho: f.rho, a: f.a, mean: f.mean, variance: f.variance, count: f.count, sliceMean: f.sliceMean,
        lo: layout.lo, bw: layout.bw, bins: layout.bins,
        hist: f.hist.filter((_, j) => j % SUB === 0).slice(0, layout.bins),
        density: (xs || []).map((x) => normalPdf(x, f.mean, f.variance)) };
    },
  };
})();
