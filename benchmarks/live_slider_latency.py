"""Key press to pixels for the kernel-free live explorers (chapters 1, 2, 4, 5 and 13) in Chromium.

``forward_1d`` is chapter 2's diffviz.forward_1d_live (sliders t and beta), ``forward_2d``
chapter 4's diffviz.forward_2d_live (slider t; the eight Gaussians and the checkerboard, each
with the exact density's heat map, and the swiss roll), ``reverse_2d`` chapter 5's diffviz.reverse_2d_live (slider t,
timed after the browser has run the chain once; a press that enters a new block of 10 steps
reruns up to 9 steps), ``interpolant`` chapter 12's diffviz.interpolant_live (slider t, VP and
linear interpolants of the two moons), ``guidance`` chapter 13's diffviz.guidance_live (slider w, 3,000 points at
most: on a fresh page each press is a new scale, one DDIM run of 50 steps; then after the page has
run every scale in the background, a redraw). Each explorer's output (10,000 particles by default) is written into a host page and opened
from ``file:`` in Debian's headless Chromium (Playwright; no kernel, no server: the book and
JupyterLab show the same output). For every press of an arrow key on a slider the page
records, in its own clock (``performance.now()``):

* ``drawn``: from the keydown event's timestamp to the moment uPlot has finished drawing the
  new picture into its canvas (the front-end's work: closed forms, histogram, redraw);
* ``frame``: from the keydown to the next animation frame after that draw, the frame whose
  paint puts the new pixels on screen (what a reader sees; it includes waiting for vsync).

The first move of each slider is timed on a freshly opened page (nothing warmed up), then
``--presses`` moves are timed. Target: median ``frame`` under 16 ms per slider step.

    .venv/bin/python benchmarks/live_slider_latency.py [--particles 10000] [--presses 40] [--explorer forward_2d ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import jax

import diffviz as dv

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_MS = 16.0

# Installed in the explorer's frame: one record per keydown, closed when the picture is drawn
# (uPlot's draw hook bumps body[data-draws]) and when the next frame starts after that.
PROBE = """() => {
  const log = window.__latency = [];
  let open = null;
  document.addEventListener('keydown', (e) => { open = { t0: e.timeStamp }; log.push(open); }, true);
  new MutationObserver(() => {
    if (!open || open.drawn !== undefined) return;
    const rec = open;
    rec.drawn = performance.now() - rec.t0;
    requestAnimationFrame(() => { rec.frame = performance.now() - rec.t0; });
  }).observe(document.body, { attributes: true, attributeFilter: ['data-draws'] });
}"""


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def press(page, frame, key: str) -> dict:
    n = frame.evaluate("() => window.__latency.length")
    page.keyboard.press(key)
    frame.wait_for_function("n => window.__latency.length > n && window.__latency[n].frame !== undefined", arg=n)
    return frame.evaluate("n => window.__latency[n]", n)


def open_explorer(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:")) else r.abort())
    page.goto(url, wait_until="load")
    frame = page.wait_for_selector("iframe").content_frame()
    frame.wait_for_function("() => window.diffvizLive && window.diffvizLive.draws > 0")
    frame.evaluate(PROBE)
    return page, frame


def summary(label: str, records: list[dict], first: dict) -> None:
    drawn = [r["drawn"] for r in records]
    frames = [r["frame"] for r in records]
    median = statistics.median(frames)
    p90 = sorted(frames)[int(0.9 * (len(frames) - 1))]
    print(
        f"  {label:30s} n = {len(records):3d}   drawn median {statistics.median(drawn):5.1f} ms   "
        f"frame median {median:5.1f} ms  p90 {p90:5.1f} ms   first move: drawn {first['drawn']:5.1f} ms, "
        f"frame {first['frame']:5.1f} ms   median / {TARGET_MS:.0f} ms = {median / TARGET_MS:.2f}"
    )


def build(name: str, particles: int):
    """The explorer's output and its sliders: (label, selector, what to do first: None, a function of the frame, or "ready")."""
    key = jax.random.key(0)
    if name == "forward_1d":
        live = dv.forward_1d_live(key, dv.mixture_1d("bimodal"), n=particles, T=100, beta=0.03, t=20)
        return live, [("t", "#s-t", None), ("beta", "#s-beta", None)]
    if name == "conditioning":  # mid-range start: 10 presses each way fit
        live = dv.gaussian_conditioning_live(key, n=particles, rho=0.0, a=0.0)
        return live, [("a", "#s-a", None), ("rho", "#s-rho", None)]
    if name == "forward_2d":
        live = dv.forward_2d_live(key, n=particles, dataset="eight Gaussians", t=100)

        def swiss(frame):
            frame.select_option("#s-dataset", "swiss roll")

        def board(frame):
            frame.select_option("#s-dataset", "checkerboard")

        return live, [("t (eight Gaussians, heat map)", "#s-t", None), ("t (swiss roll)", "#s-t", swiss),
                      ("t (checkerboard, heat map)", "#s-t", board)]  # fmt: skip
    if name == "interpolant":
        live = dv.interpolant_live(key, n=particles, interpolant="vp", t=0.5)

        def linear(frame):
            frame.select_option("#s-interpolant", "linear")

        return live, [("t (vp)", "#s-t", None), ("t (linear)", "#s-t", linear)]
    if name == "guidance":  # chapter 13: the first press on a fresh page reruns DDIM; then every scale is cached
        live = dv.guidance_live(key, n=min(particles, 3000), c=0, w=3.0)
        return live, [
            ("w (just opened: background runs under way)", "#s-w", None),
            ("w (cached, after the background runs)", "#s-w", "ready"),
        ]
    live = dv.reverse_2d_live(key, n=particles, t=500)
    return live, [("t (chain run)", "#s-t", "ready")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--width", type=int, default=1280, help="viewport width in px (the page's column is at most 760)")
    parser.add_argument("--explorer", nargs="+", default=["forward_1d", "forward_2d", "reverse_2d"],
                        choices=["conditioning", "forward_1d", "forward_2d", "guidance", "interpolant", "reverse_2d"])  # fmt: skip
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    print(f"CPU {cpu_name()} x {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        print(f"Chromium {browser.version}, headless, viewport {args.width} px")
        for name in args.explorer:
            live, sliders = build(name, args.particles)
            folder = Path(tempfile.mkdtemp(prefix="diffviz-live-bench-"))
            host = folder / "chapter.html"
            host.write_text(
                '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
                f'</head><body style="margin:0 auto;max-width:760px">{live.html}</body></html>',
                encoding="utf-8",
            )
            print(f"{name}: {getattr(live, 'n', args.particles):,} particles; output {len(live.html.encode()) / 1e3:.0f} kB")
            for label, selector, setup in sliders:
                page, frame = open_explorer(browser, host.as_uri(), args.width)
                if setup == "ready":
                    frame.wait_for_function("() => window.diffvizLive.ready", timeout=300_000)
                elif setup:
                    setup(frame)
                frame.focus(selector)
                first = press(page, frame, "ArrowRight")  # on a fresh page
                records = []
                for i in range(args.presses):
                    # right, then back left: the slider never sits at its end (where a key does nothing)
                    records.append(press(page, frame, "ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft"))
                    page.wait_for_timeout(30)
                summary(label, records, first)
                if name == "guidance" and setup == "ready":  # what a scale not yet run costs: one DDIM run and its readout
                    ms = [frame.evaluate("w => window.diffvizLive.timeRun(0, w)", 0.5 * k) for k in range(21)]
                    print(f"  one DDIM run (50 steps) + readout, uncached: median {statistics.median(ms):5.1f} ms, max {max(ms):5.1f} ms")
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
