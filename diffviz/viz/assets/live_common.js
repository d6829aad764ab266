// Shared by every live explorer (inlined before the explorer's own module by diffviz/viz/live.py).
// diffvizFollowSize(id, resize): on every size change of the page, resize(width-aware) lets the
// explorer fit its plots to the column, then the iframe takes the page's height, directly or, on a
// host that hides its frame element, through a message that live.py's listener applies.
// diffvizEl(tag, props, kids): a new element with those properties and children.
window.diffvizEl = function (tag, props, kids) {
  const e = Object.assign(document.createElement(tag), props || {});
  for (const k of kids || []) e.append(k);
  return e;
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
