// Shared by every live explorer (inlined before the explorer's own module by diffviz/viz/live.py).
// diffvizFollowSize(id, resize): on every size change of the page, resize(width-aware) lets the
// explorer fit its plots to the column, then the iframe takes the page's height, directly or, on a
// host that hides its frame element, through a message that live.py's listener applies.
// diffvizEl(tag, props, kids): a new element with those properties and children.
// diffvizClamp(flags, name, value, lo, hi, fallback, integer) and diffvizChoice(flags, name, value,
// names): a saved-state value, clamped into range (or replaced), with a line in flags saying so.
// diffvizSlider(name, label, min, max, step, value) and diffvizMenu(name, label, options, value): a
// labelled range input (id s-NAME, with an <output>) or <select>, as {input, out, lab} or {select, lab}.
// diffvizSchedule(name, T, settings): a schedule's betas, abar_t and 1 - abar_t in float64, as
// diffviz/_schedules.py computes them (settings: beta_start, beta_end, beta, cosine_s, max_beta).
window.diffvizEl = function (tag, props, kids) {
  const e = Object.assign(document.createElement(tag), props || {});
  for (const k of kids || []) e.append(k);
  return e;
};

window.diffvizSlider = function (name, label, min, max, step, value) {
  const el = window.diffvizEl;
  const input = el("input", { type: "range", min, max, step, value, id: `s-${name}` });
  input.setAttribute("aria-label", label);
  const out = el("output", { htmlFor: input.id });
  const lab = el("label", { htmlFor: input.id, className: "slider" }, [el("span", { className: "name", textContent: label }), input, out]);
  return { input, out, lab };
};

window.diffvizMenu = function (name, label, options, value) {
  const el = window.diffvizEl;
  const select = el("select", { id: `s-${name}` }, options.map((o) => el("option", { value: o, textContent: o })));
  select.value = value;
  select.setAttribute("aria-label", label);
  const lab = el("label", { htmlFor: select.id, className: "slider" }, [el("span", { className: "name", textContent: label }), select]);
  lab.style.flex = "0 1 auto";
  return { select, lab };
};

window.diffvizFollowSize = function (id, resize) {
  "use strict";
  function fitHeight() {
    const h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    try {
      if (window.frameElement) window.frameElement.style.height = h + "px";
    } catch (e) { /* cross-origin host: the message below does it */ }
    try {
      window.parent.postMessage({ diffvizLiveHeight: h, id: id }, "*");
    } catch (e) { /* no parent */ }
  }
  new ResizeObserver(() => {
    resize();
    fitHeight();
  }).observe(document.body);
  fitHeight();
};


window.diffvizSchedule = function (name, T, settings) {
  "use strict";
  //   linear:   beta_i = linspace(beta_start, beta_end, T)            (i = 1..T)
  //   cosine:   f(t) = cos^2((t/T + s)/(1 + s) * pi/2),  beta_t = min(1 - f(t)/f(t-1), max_beta)
  //   constant: beta_t = beta
  //   abar_t = exp(sum_{s<=t} log1p(-beta_s)),  1 - abar_t = -expm1(same sum)
  const beta = new Float64Array(T + 1); // beta[0] = 0: index = time step
  if (name === "linear") {
    const step = T > 1 ? (settings.beta_end - settings.beta_start) / (T - 1) : 0;
    for (let i = 0; i < T; i++) beta[i + 1] = settings.beta_start + i * step;
    if (T > 1) beta[T] = settings.beta_end;
  } else if (name === "cosine") {
    const s = settings.cosine_s;
    const f = (t) => Math.cos(((t / T + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    for (let t = 1; t <= T; t++) beta[t] = Math.min(1 - f(t) / f(t - 1), settings.max_beta);
  } else {
    for (let t = 1; t <= T; t++) beta[t] = settings.beta;
  }
  const abar = new Float64Array(T + 1), rest = new Float64Array(T + 1);
  let logSum = 0;
  abar[0] = 1;
  for (let t = 1; t <= T; t++) {
    logSum += Math.log1p(-beta[t]);
    abar[t] = Math.exp(logSum);
    rest[t] = -Math.expm1(logSum);
  }
  return { name, T, beta, abar, rest };
};

window.diffvizClamp = function (flags, name, value, lo, hi, fallback, integer) {
  let v = Number(value);
  if (value === null || value === "" || !Number.isFinite(v)) {
    flags.push(`${name} = ${value} from the saved state is not a number: shown at ${fallback}`);
    return fallback;
  }
  if (integer && v !== Math.round(v)) {
    flags.push(`${name} = ${v} from the saved state is not an integer: shown at ${Math.round(v)}`);
    v = Math.round(v);
  }
  if (v < lo || v > hi) {
    const c = Math.min(hi, Math.max(lo, v));
    flags.push(`${name} = ${v} from the saved state is outside ${lo}..${hi}: shown at ${c}`);
    return c;
  }
  return v;
};

window.diffvizChoice = function (flags, name, value, names) {
  if (names.includes(value)) return value;
  flags.push(`${name} = ${value} from the saved state is not one of ${names.join(", ")}: shown as ${names[0]}`);
  return names[0];
};
