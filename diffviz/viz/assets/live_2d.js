// Shared by the 2-D live explorers (chapters 4 and 5; inlined after live_common.js by
// diffviz/viz/live_2d.py). window.diffviz2D holds:
//   decodeInt16(b64, scale): stored coordinates (int16, little-endian, times a power of two) as floats;
//   diffuse(mix, abar, rest): a 2-D Gaussian mixture pushed through x_t = sqrt(abar) x0 + sqrt(rest) eps:
//       component k ~ N(sqrt(abar) mu_k, diag(abar s_k^2 + rest)), weights unchanged (diffviz.diffuse_mixture);
//   logDensity(c, x, y): log q_t(x, y), by log-sum-exp over the components (diffviz.mixture_log_prob);
//   epsStar(c, x, y, out): the exact eps*(x, t) = -sqrt(1 - abar_t) grad log q_t(x), with the
//       responsibilities r_k by log-sum-exp (diffviz.optimal_eps); written into out[0], out[1];
//   guidedEps(cc, call, w, x, y, out): classifier-free guidance with the exact fields,
//       (1 + w) eps*(x | c) - w eps*(x) (diffviz.guided_eps), cc and call the class's and the whole
//       mixture's diffuse() at the same step;
//   moments(mix, abar, rest): the mean and variance of each coordinate of q_t;
//   diffuseBoard(board, abar, rest), boardLogDensity(c, x, y), boardMoments(board, abar, rest): the same for data
//       uniform on equal squares (the checkerboard), q_t a sum of products of Gaussian CDF differences
//       (diffviz.checkerboard_diffused_log_prob), with erfc(x) and logPhi(z) to double precision;
//   heatImage(c, G, lim): q_t on a G x G grid over [-lim, lim]^2 as an image (white to red), c a mixture's
//       diffuse() or a board's diffuseBoard();
//   axis(label), squareScatter(box, lim, maxSide, label, hooks): the axis style and the square x1-x2
//     scatter of every 2-D explorer ({plot, side}; side is the width rule followSize needs);
//   pointsLayer(): a function (u, groups) that draws groups of points ({xs, ys, rgba}) onto a uPlot's plot area;
//   angleColour(i, k): [r, g, b] of angle sector i of k (a cyclic hue, as diffviz's figures colour points);
//   sectorOrder(x, k): points x (x0, y0, x1, ...) grouped by the angle sector (of k) they lie in:
//       {order, starts}, particle order[j] for j in starts[s]..starts[s+1]-1 lies in sector s.
window.diffviz2D = (function () {
  "use strict";
  const LOG_2PI = Math.log(2 * Math.PI);

  function decodeInt16(b64, scale) {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const q = new Int16Array(bytes.buffer);
    const out = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) out[i] = q[i] * scale;
    return out;
  }

  function diffuse(mix, abar, rest) {
    const K = mix.weights.length, a = Math.sqrt(abar);
    const c = { K, abar, rest, mx: new Float64Array(K), my: new Float64Array(K), ivx: new Float64Array(K),
      ivy: new Float64Array(K), vx: new Float64Array(K), vy: new Float64Array(K), logc: new Float64Array(K) };
    for (let k = 0; k < K; k++) {
      c.mx[k] = a * mix.means[k][0];
      c.my[k] = a * mix.means[k][1];
      c.vx[k] = abar * mix.stds[k][0] ** 2 + rest;
      c.vy[k] = abar * mix.stds[k][1] ** 2 + rest;
      c.ivx[k] = 1 / c.vx[k];
      c.ivy[k] = 1 / c.vy[k];
      c.logc[k] = Math.log(mix.weights[k]) - LOG_2PI - 0.5 * (Math.log(c.vx[k]) + Math.log(c.vy[k]));
    }
    c.l = new Float64Array(K); // scratch: the components' log terms at one point
    return c;
  }

  function logTerms(c, x, y) {
    let m = -Infinity;
    for (let k = 0; k < c.K; k++) {
      const dx = x - c.mx[k], dy = y - c.my[k];
      const v = c.logc[k] - 0.5 * (dx * dx * c.ivx[k] + dy * dy * c.ivy[k]);
      c.l[k] = v;
      if (v > m) m = v;
    }
    return m;
  }

  function logDensity(c, x, y) {
    const m = logTerms(c, x, y);
    let s = 0;
    for (let k = 0; k < c.K; k++) s += Math.exp(c.l[k] - m);
    return m + Math.log(s);
  }

  function epsStar(c, x, y, out) {
    const m = logTerms(c, x, y);
    let s = 0, gx = 0, gy = 0;
    for (let k = 0; k < c.K; k++) {
      const r = Math.exp(c.l[k] - m);
      s += r;
      gx += r * (c.mx[k] - x) * c.ivx[k];
      gy += r * (c.my[k] - y) * c.ivy[k];
    }
    const f = -Math.sqrt(c.rest) / s; // eps* = -sqrt(1 - abar) * score
    out[0] = f * gx;
    out[1] = f * gy;
    return out;
  }

  const other = new Float64Array(2);
  function guidedEps(cc, call, w, x, y, out) {
    epsStar(cc, x, y, out);
    epsStar(call, x, y, other);
    out[0] = (1 + w) * out[0] - w * other[0];
    out[1] = (1 + w) * out[1] - w * other[1];
    return out;
  }

  function moments(mix, abar, rest) {
    const a = Math.sqrt(abar), mean = [0, 0], second = [0, 0];
    for (let k = 0; k < mix.weights.length; k++) {
      const w = mix.weights[k];
      for (let d = 0; d < 2; d++) {
        const mu = a * mix.means[k][d];
        mean[d] += w * mu;
        second[d] += w * (abar * mix.stds[k][d] ** 2 + rest + mu * mu);
      }
    }
    return { mean, variance: [second[0] - mean[0] ** 2, second[1] - mean[1] ** 2] };
  }

  // --- the diffused checkerboard (any union of equal axis-aligned squares, uniform on them) -------
  // erfcx(x) = exp(x^2) erfc(x) for x >= 0: below 2 from erf's Maclaurin series (erfc >= 0.0047
  // there, so 1 - erf loses nothing); from 2 on, Laplace's continued fraction
  //   erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))),
  // evaluated by the modified Lentz method to double precision.
  const SQRT_PI = Math.sqrt(Math.PI), SQRT2 = Math.SQRT2, LOG_HALF = Math.log(0.5);
  function erfSeries(x) { // |x| <= 2: 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    const x2 = x * x;
    let term = x, sum = x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / SQRT_PI) * sum;
  }
  function erfcxContinued(x) { // x >= 2
    const tiny = 1e-300;
    let f = x, C = x, D = 0;
    for (let k = 1; k < 500; k++) {
      const a = k / 2;
      D = x + a * D; D = D === 0 ? tiny : 1 / D;
      C = x + a / C; if (C === 0) C = tiny;
      const delta = C * D;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    return 1 / (SQRT_PI * f);
  }
  function erfcx(x) { // x >= 0
    return x < 2 ? Math.exp(x * x) * (1 - erfSeries(x)) : erfcxContinued(x);
  }
  function erfc(x) {
    if (x < 0) return 2 - erfc(-x);
    return x < 2 ? 1 - erfSeries(x) : Math.exp(-x * x) * erfcxContinued(x);
  }
  function erf(x) {
    return Math.abs(x) < 2 ? erfSeries(x) : Math.sign(x) * (1 - Math.exp(-x * x) * erfcxContinued(Math.abs(x)));
  }
  function logQ(z) { // log P(N(0, 1) > z), finite for every finite z
    if (z < 0) return Math.log1p(-0.5 * erfc(-z / SQRT2));
    const x = z / SQRT2;
    return LOG_HALF + Math.log(erfcx(x)) - x * x;
  }
  function logPhi(z) { return logQ(-z); }
  function logMass(m, w) { // log P(m - w/2 < N(0, 1) < m + w/2) for w > 0, without cancellation
    const lo = m - w / 2, hi = m + w / 2;
    if (lo < 0 && hi > 0) return Math.log(0.5 * (erf(hi / SQRT2) + erf(-lo / SQRT2))); // two positive parts
    const p = lo >= 0 ? lo : -hi, r = lo >= 0 ? hi : -lo; // mirrored into the upper tail: Q(p) - Q(r)
    const a = logQ(p), b = logQ(r);
    return a + Math.log1p(-Math.exp(b - a));
  }

  // board = {corners: [[a1, a2], ...], side}: uniform on the squares [a, a + side)^2. x_t's density on
  // square k is prod_d (1/(s side)) P(x_d - s b_d < sigma N(0, 1) < x_d - s a_d), in noise units a
  // mass of N(0, 1) over an interval of width s side / sigma centred at (x_d - s c_d) / sigma
  // (diffviz.checkerboard_diffused_log_prob). rest = 0 (t = 0): the board itself.
  function diffuseBoard(board, abar, rest) {
    const K = board.corners.length, s = Math.sqrt(abar), sigma = Math.sqrt(rest), h = board.side / 2;
    const c = { board: true, K, abar, rest, s, sigma, side: board.side, corners: board.corners,
      cx: new Float64Array(K), cy: new Float64Array(K), logc: -Math.log(K) - 2 * Math.log(s * board.side) };
    for (let k = 0; k < K; k++) { c.cx[k] = s * (board.corners[k][0] + h); c.cy[k] = s * (board.corners[k][1] + h); }
    c.w = (s * board.side) / sigma;
    return c;
  }

  function boardLogFactor(c, x, centre) { // log of one coordinate's factor, without the 1/(s side)
    return logMass((x - centre) / c.sigma, c.w);
  }

  function boardLogDensity(c, x, y) {
    if (c.rest === 0) { // the data: 1/K / side^2 on the (half-open) squares, 0 elsewhere
      for (const [a1, a2] of c.corners) {
        if (x >= a1 && x < a1 + c.side && y >= a2 && y < a2 + c.side) return -Math.log(c.K) - 2 * Math.log(c.side);
      }
      return -Infinity;
    }
    let m = -Infinity;
    const l = new Float64Array(c.K);
    for (let k = 0; k < c.K; k++) {
      l[k] = boardLogFactor(c, x, c.cx[k]) + boardLogFactor(c, y, c.cy[k]);
      if (l[k] > m) m = l[k];
    }
    let sum = 0;
    for (let k = 0; k < c.K; k++) sum += Math.exp(l[k] - m);
    return c.logc + m + Math.log(sum);
  }

  function boardGrid(c, xs) { // log q_t at every (xs[j], ys[i]) with ys = xs reversed (rows top down): G*G values
    const G = xs.length, K = c.K, out = new Float64Array(G * G);
    if (c.rest === 0) {
      for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) out[i * G + j] = boardLogDensity(c, xs[j], xs[G - 1 - i]);
      return out;
    }
    const fx = new Float64Array(K * G), fy = new Float64Array(K * G); // the 1-D factors: 2 K G evaluations
    for (let k = 0; k < K; k++) for (let j = 0; j < G; j++) {
      fx[k * G + j] = boardLogFactor(c, xs[j], c.cx[k]);
      fy[k * G + j] = boardLogFactor(c, xs[G - 1 - j], c.cy[k]);
    }
    for (let i = 0; i < G; i++) for (let j = 0; j < G; j++) {
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, fx[k * G + j] + fy[k * G + i]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(fx[k * G + j] + fy[k * G + i] - m);
      out[i * G + j] = c.logc + m + Math.log(sum);
    }
    return out;
  }

  function boardMoments(board, abar, rest) { // uniform on the squares: centres' spread plus side^2 / 12
    const K = board.corners.length, a = Math.sqrt(abar), h = board.side / 2, mean = [0, 0], second = [0, 0];
    for (const corner of board.corners) for (let d = 0; d < 2; d++) {
      mean[d] += (corner[d] + h) / K;
      second[d] += (corner[d] + h) ** 2 / K;
    }
    const variance = [0, 1].map((d) => abar * (second[d] - mean[d] ** 2 + board.side ** 2 / 12) + rest);
    return { mean: mean.map((v) => a * v), variance };
  }

  let heatCanvas = null;
  function heatImage(c, G, lim) {
    if (!heatCanvas) heatCanvas = document.createElement("canvas");
    heatCanvas.width = heatCanvas.height = G;
    const ctx = heatCanvas.getContext("2d");
    const img = ctx.createImageData(G, G);
    const p = new Float64Array(G * G);
    let top = 0;
    if (c.board) { // a product of 1-D factors: 2 K G erfc's, not K G^2
      const xs = Float64Array.from({ length: G }, (_, j) => -lim + ((j + 0.5) * 2 * lim) / G);
      const l = boardGrid(c, xs);
      for (let q = 0; q < G * G; q++) { p[q] = Math.exp(l[q]); if (p[q] > top) top = p[q]; }
    } else {
      for (let i = 0; i < G; i++) { // row i: y from +lim (top) down to -lim
        const y = lim - ((i + 0.5) * 2 * lim) / G;
        for (let j = 0; j < G; j++) {
          const v = Math.exp(logDensity(c, -lim + ((j + 0.5) * 2 * lim) / G, y));
          p[i * G + j] = v;
          if (v > top) top = v;
        }
      }
    }
    heatImage.last = { G, lim, density: p }; // (for tests: the values shaded, row 0 at the top)
    for (let q = 0; q < G * G; q++) { // white (0) to a light red (the top of q_t)
      const f = top > 0 ? Math.sqrt(p[q] / top) : 0;
      img.data[4 * q] = 255 - Math.round(f * 17);
      img.data[4 * q + 1] = 255 - Math.round(f * 130);
      img.data[4 * q + 2] = 255 - Math.round(f * 130);
      img.data[4 * q + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return heatCanvas;
  }

  // Thousands of points as one bitmap: their pixels are written into an ImageData (a 2 x 2 css-px
  // square each, later groups on top), which is put on an offscreen canvas and drawn onto the
  // plot in one drawImage. (10,000 fillRect calls cost the browser's rasteriser 15-30 ms a frame.)
  function pointsLayer() {
    const canvas = document.createElement("canvas");
    let img = null, px = null;
    return function draw(u, groups) { // groups: [{xs, ys, rgba: [r, g, b, a]}]
      const { left, top, width, height } = u.bbox;
      const w = Math.max(1, Math.round(width)), h = Math.max(1, Math.round(height));
      if (!img || img.width !== w || img.height !== h) {
        canvas.width = w; canvas.height = h;
        img = canvas.getContext("2d").createImageData(w, h);
        px = new Uint32Array(img.data.buffer);
      }
      px.fill(0);
      const sx = u.scales.x, sy = u.scales.y;
      const ax = w / (sx.max - sx.min), ay = h / (sy.max - sy.min);
      const size = Math.max(1, Math.round(2 * (window.devicePixelRatio || 1)));
      const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
      for (const g of groups) {
        const [r, gr, b, a] = g.rgba;
        const c = little ? ((a << 24) | (b << 16) | (gr << 8) | r) >>> 0 : ((r << 24) | (gr << 16) | (b << 8) | a) >>> 0;
        for (let i = 0; i < g.xs.length; i++) {
          const x0 = Math.round((g.xs[i] - sx.min) * ax - size / 2), y0 = Math.round((sy.max - g.ys[i]) * ay - size / 2);
          if (x0 < 0 || y0 < 0 || x0 + size > w || y0 + size > h) continue; // (outside the plot: not drawn)
          for (let dy = 0; dy < size; dy++) px.fill(c, (y0 + dy) * w + x0, (y0 + dy) * w + x0 + size);
        }
      }
      canvas.getContext("2d").putImageData(img, 0, 0);
      u.ctx.drawImage(canvas, left, top, w, h);
    };
  }

  function hslRGB(h, s, l) { // h in degrees, s and l in 0..1: [r, g, b] in 0..255
    const f = (n) => {
      const k = (n + h / 30) % 12;
      return Math.round(255 * (l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
    };
    return [f(0), f(8), f(4)];
  }

  function angleColour(i, k, lightness = 0.45) {
    return hslRGB((360 * (i + 0.5)) / k, 0.85, lightness);
  }

  function sectorOrder(x, k) {
    const n = x.length / 2, sector = new Int32Array(n), starts = new Int32Array(k + 1);
    for (let i = 0; i < n; i++) {
      const a = (Math.atan2(x[2 * i + 1], x[2 * i]) + Math.PI) / (2 * Math.PI);
      sector[i] = Math.min(k - 1, Math.floor(a * k));
      starts[sector[i] + 1] += 1;
    }
    for (let s = 0; s < k; s++) starts[s + 1] += starts[s];
    const fill = starts.slice(0, k), order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[fill[sector[i]]++] = i;
    return { order, starts };
  }

  // The plots follow the column's width (a square scatter, and optionally a curve panel of a fixed
  // height beside it); the iframe follows the page's height (live_common.js's diffvizFollowSize).
  // The axis style and the square x1-x2 scatter every 2-D explorer draws (its points come from the
  // caller's draw hook); returns the plot and the side rule (240 px up to maxSide) for followSize.
  const axis = (label) => ({ label, labelSize: 20, size: 40, stroke: "#333", font: "11px sans-serif", labelFont: "12px sans-serif" });
  function squareScatter(box, lim, maxSide, label, hooks) {
    const side = (w) => Math.round(Math.max(240, Math.min(maxSide, w)));
    const plot = new uPlot({
      mode: 2, width: side(box.clientWidth || 400), height: side(box.clientWidth || 400), pxAlign: 0,
      cursor: { show: false }, legend: { show: false },
      scales: { x: { time: false, auto: false, range: [-lim, lim] }, y: { auto: false, range: [-lim, lim] } },
      axes: [axis("x₁"), axis("x₂")],
      series: [{}, { label, paths: () => null, points: { show: false } }], // the points: drawn by a hook
      hooks,
    }, [null, [[], []]], box);
    return { plot, side };
  }

  function followSize(id, square, curve) {
    window.diffvizFollowSize(id, () => {
      const w0 = square.box.clientWidth, side = square.side(w0);
      if (w0 > 0 && Math.abs(side - square.plot.width) > 1) square.plot.setSize({ width: side, height: side });
      if (!curve) return;
      const w1 = curve.box.clientWidth;
      if (w1 > 0 && Math.abs(w1 - curve.plot.width) > 1) curve.plot.setSize({ width: w1, height: curve.height });
    });
  }

  return { axis, squareScatter, decodeInt16, diffuse, logDensity, epsStar, moments, heatImage, pointsLayer, angleColour, sectorOrder, guidedEps, followSize,
    diffuseBoard, boardLogDensity, boardMoments, erfc, logPhi };
})();
