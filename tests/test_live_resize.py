"""The 2-D live explorers follow their column's size after the page has opened.

Chapters 4, 5, 12 and 13's kernel-free explorers (dv.forward_2d_live, dv.reverse_2d_live,
dv.interpolant_live, dv.guidance_live) size their plots to the column when they start, and then
follow it (diffviz2D.followSize in assets/live_2d.js, on live_common.js's diffvizFollowSize: a
ResizeObserver on the page that resizes the plots, then sets the iframe's height). The 360-px
tests elsewhere open at one width; here each explorer opens in a wide window (1280 px: the host's
760-px column), the window narrows to 360 px, widens again, and then the host's column itself
narrows to 440 px (a sidebar opening: no window resize). After each change:

* the square scatter is square, as wide as its box (at least 240 px, at most the explorer's cap),
  and its canvas is re-rendered at that size (the bitmap, not a stretched picture); a curve panel
  beside it is as wide as its box and 200 px tall;
* nothing in the frame reaches past its width, and the host page does not scroll sideways;
* the plots were redrawn (the explorer's draw counter moved);
* the iframe is as tall as its document (its scrollHeight, and the document's own height, within
  2 px: neither cut off nor left with a gap);
* back at the first width, every plot has its first size again.

The browser set-up and the host page are test_live's.
"""

from __future__ import annotations

import time

import jax
import pytest
from test_live import chromium, host_page, opened  # noqa: F401  (chromium: a fixture)

import diffviz as dv

# name: (build, cap of the square side in px, number of curve panels after the scatter)
EXPLORERS = {
    "forward_2d": (lambda: dv.forward_2d_live(jax.random.key(4), dataset="eight Gaussians", t=100), 420, 1),
    "reverse_2d": (lambda: dv.reverse_2d_live(jax.random.key(5), t=0), 460, 0),
    "interpolant": (lambda: dv.interpolant_live(jax.random.key(12), t=0.5), 420, 1),
    "guidance": (lambda: dv.guidance_live(jax.random.key(13), c=0, w=3.0), 460, 0),
}
MIN_SIDE, CURVE_HEIGHT = 240, 200
SETTLE_S = 10.0

MEASURE = """() => {
  const f = document.querySelector('iframe'), d = f.contentDocument, w = d.defaultView;
  const cw = d.documentElement.clientWidth;
  const plots = [...d.querySelectorAll('.plot')].map((box) => {
    const c = box.querySelector('canvas'), r = c.getBoundingClientRect(), b = box.getBoundingClientRect();
    return { width: r.width, height: r.height, right: r.right, box: box.clientWidth, boxRight: b.right,
             bitmap: [c.width, c.height] };
  });
  return {
    plots, dpr: w.devicePixelRatio, frameClientWidth: cw, frameScrollWidth: d.documentElement.scrollWidth,
    overflow: [...d.querySelectorAll('#root *')].filter((e) => e.getBoundingClientRect().right > cw + 0.5)
      .map((e) => e.tagName + '.' + e.className),
    hostScrollWidth: document.documentElement.scrollWidth, hostWidth: document.documentElement.clientWidth,
    frameHeight: f.getBoundingClientRect().height, scrollHeight: d.documentElement.scrollHeight,
    docHeight: d.documentElement.getBoundingClientRect().height, draws: w.diffvizLive.draws,
  };
}"""


def problems(m: dict, cap: int, curves: int, draws_before: int | None) -> list[str]:
    """What is wrong with one measurement (MEASURE's) of an explorer with a square scatter and ``curves`` curve panels."""
    out = []
    if len(m["plots"]) != 1 + curves:
        return [f"{len(m['plots'])} plot boxes, expected {1 + curves}"]
    square, *panels = m["plots"]
    side = round(max(MIN_SIDE, min(cap, square["box"])))
    if abs(square["width"] - square["height"]) > 1:
        out.append(f"the scatter is {square['width']} x {square['height']} px, not square")
    if abs(square["width"] - side) > 1:
        out.append(f"the scatter is {square['width']} px wide in a {square['box']}-px box (expected {side})")
    for p in panels:
        if abs(p["width"] - p["box"]) > 1 or abs(p["height"] - CURVE_HEIGHT) > 1:
            out.append(f"a curve panel is {p['width']} x {p['height']} px in a {p['box']}-px box (expected {p['box']} x {CURVE_HEIGHT})")
    for p in m["plots"]:
        want = [round(p["width"] * m["dpr"]), round(p["height"] * m["dpr"])]
        if any(abs(a - b) > 1 for a, b in zip(p["bitmap"], want)):
            out.append(f"a canvas's bitmap is {p['bitmap']}, not re-rendered at its size {want}")
        if p["right"] > p["boxRight"] + 0.5:
            out.append(f"a canvas reaches {p['right'] - p['boxRight']:.0f} px past its box")
    if m["overflow"] or m["frameScrollWidth"] > m["frameClientWidth"]:
        out.append(f"past the frame's {m['frameClientWidth']} px: {m['overflow']} (scrollWidth {m['frameScrollWidth']})")
    if m["hostScrollWidth"] > m["hostWidth"]:
        out.append(f"the host page scrolls sideways ({m['hostScrollWidth']} > {m['hostWidth']} px)")
    if draws_before is not None and m["draws"] <= draws_before:
        out.append(f"not redrawn (draws still {m['draws']})")
    if abs(m["frameHeight"] - m["scrollHeight"]) > 2 or abs(m["frameHeight"] - m["docHeight"]) > 2:
        out.append(f"the iframe is {m['frameHeight']} px tall, its document {m['docHeight']} px (scrollHeight {m['scrollHeight']})")
    return out


def settled(page, cap: int, curves: int, draws_before: int | None, what: str) -> dict:
    """The measurement once it has no problem (the ResizeObserver runs after layout); fail, naming them, if that never comes."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        m = page.evaluate(MEASURE)
        found = problems(m, cap, curves, draws_before)
        if not found:
            return m
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: " + "; ".join(found))
        page.wait_for_timeout(50)


def sizes(m: dict) -> list[float]:
    return [x for p in m["plots"] for x in (p["width"], p["height"])]


def test_problems_are_found():
    """The check can fail: each kind of wrong measurement is named."""
    plot = {"width": 400.0, "height": 400.0, "right": 410.0, "box": 400, "boxRight": 410.0, "bitmap": [400, 400]}
    curve = {"width": 300.0, "height": 200.0, "right": 720.0, "box": 300, "boxRight": 720.0, "bitmap": [300, 200]}
    good = {
        "plots": [plot, curve],
        "dpr": 1,
        "frameClientWidth": 740,
        "frameScrollWidth": 740,
        "overflow": [],
        "hostScrollWidth": 1280,
        "hostWidth": 1280,
        "frameHeight": 700.0,
        "scrollHeight": 700,
        "docHeight": 700.0,
        "draws": 5,
    }
    assert problems(good, 420, 1, 4) == []
    bad = [
        {"plots": [plot]},
        {"plots": [{**plot, "height": 380.0}, curve]},
        {"plots": [{**plot, "box": 340}, curve]},  # did not follow a narrower box
        {"plots": [plot, {**curve, "box": 260}]},  # nor the curve panel
        {"plots": [plot, {**curve, "height": 150.0}]},
        {"plots": [{**plot, "bitmap": [420, 420]}, curve]},  # stretched by CSS, not redrawn
        {"plots": [{**plot, "right": 430.0}, curve]},
        {"overflow": ["CANVAS."]},
        {"hostScrollWidth": 1300},
        {"draws": 4},
        {"frameHeight": 640.0},
        {"frameHeight": 760.0, "scrollHeight": 760},  # a frame taller than its document: scrollHeight alone hides that
    ]
    for change in bad:
        assert problems({**good, **change}, 420, 1, 4), change


@pytest.mark.browser
@pytest.mark.parametrize("name", list(EXPLORERS))
def test_follows_the_column_after_opening(chromium, tmp_path, name):  # noqa: F811
    build, cap, curves = EXPLORERS[name]
    url = host_page(build().html, tmp_path / f"{name}.html")
    with opened(chromium, url, width=1280) as (page, _frame, errors, foreign):
        first = settled(page, cap, curves, None, "at 1280 px")
        page.set_viewport_size({"width": 360, "height": 900})
        narrow = settled(page, cap, curves, first["draws"], "window 360 px")
        assert narrow["plots"][0]["width"] < first["plots"][0]["width"] - 20, "the scatter did not narrow"
        page.set_viewport_size({"width": 1280, "height": 900})
        wide = settled(page, cap, curves, narrow["draws"], "window 1280 px again")
        assert sizes(wide) == pytest.approx(sizes(first), abs=1), "back at 1280 px the plots are not their first size"
        page.evaluate("() => { document.body.style.maxWidth = '440px'; }")  # the column narrows, not the window
        column = settled(page, cap, curves, wide["draws"], "host column 440 px")
        assert sizes(column) != pytest.approx(sizes(wide), abs=1), "the 440-px column changed no plot (then no redraw is due)"
        assert errors == [] and foreign == []
