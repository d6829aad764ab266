"""The explorers left on the kernel compile when they are built, never on a move (issue 18).

A reader's first move of a slider must answer in under a second; a JAX trace and compilation on
that move costs one to several seconds on a laptop CPU. Wall-clock times are not asserted (they
live in benchmarks/lab_slider_latency.py); what is asserted is the cause: JAX's monitoring events
for tracing a function to a jaxpr and lowering it to a program (emitted on every cache miss of a
jitted function, whether or not the persistent compilation cache then holds the binary) must not
fire while every control of the explorers the chapters keep on the kernel (chapter 5's fields,
6's noise predictions, 11's solvers, 12's interpolants, 13's guidance scale and class) is moved
through its values. Each explorer is built as its chapter builds it, smaller.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffviz as dv

TRACE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration")


@contextlib.contextmanager
def jax_programs_made():
    """Collect the JAX trace and lowering events fired inside the block (a list of event names)."""
    seen: list[str] = []

    def listener(event: str, duration: float, **kwargs) -> None:
        if event in TRACE_EVENTS:
            seen.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def move_through(control, values) -> int:
    """Set each value in turn (skipping the current one); return how many moves were made."""
    moves = 0
    for value in values:
        if value != control.value:
            control.value = value
            moves += 1
    return moves


def all_options(control) -> list:
    """Every value a selection control can take (a SelectionSlider's or Dropdown's options), or a slider's range."""
    options = getattr(control, "options", None)
    if options is not None:
        return [o[1] if isinstance(o, tuple) else o for o in options]
    return list(range(control.min, control.max + 1, max(1, (control.max - control.min) // 17)))


def chapter_explorers():
    rng = np.random.default_rng(0)
    key = jax.random.key(0)
    eight, linear = dv.eight_gaussians_mixture(), dv.linear_schedule(1000)
    back = rng.standard_normal((1001, 50, 2)).astype(np.float32)
    e5 = dv.score_field_explorer(eight, linear, trajectory=back, field="score", t=300)
    ts = sorted({int(t) for t in np.round(np.geomspace(1, 1000, 12))} | {50})
    exact = rng.standard_normal((len(ts), 61))
    e6 = dv.eps_explorer(jnp.linspace(-3, 3, 61)[:, None], exact + 0.1, exact, ts, densities=np.abs(exact), t=50)
    nfes = (10, 20, 50)
    samples = {f"exact, {name}": rng.standard_normal((len(nfes), 200, 2)) for name in ("DDPM", "DDIM", "ODE Heun")}
    e11 = dv.solver_explorer(samples, nfes, eight, scores={label: rng.uniform(1, 5, len(nfes)) for label in samples})
    ts12 = np.linspace(0.0, 1.0, 5)
    coefficients = {name: tuple(dv.interpolant_coefficients(name, ts12, linear))[:2] for name in ("linear", "cosine", "vp")}
    x0 = np.asarray(dv.sample_moons(key, 100))
    e12 = dv.interpolant_explorer(x0, rng.standard_normal(x0.shape), ts12, coefficients, interpolant="linear")
    e13 = dv.guidance_explorer(key, linear, dv.labelled_toy("eight_gaussians"), c=0, ws=(0, 1, 3), n=100, num_steps=6)
    return {
        "chapter 5": (e5, [e5.controls["t"], e5.controls["field"]]),
        "chapter 6": (e6, [e6.slider]),
        "chapter 11": (e11, [e11.slider, e11.sampler]),
        "chapter 12": (e12, [e12.slider, e12.selector]),
        "chapter 13": (e13, [e13.controls["w"], e13.controls["c"], e13.controls["w"]]),
    }


@pytest.fixture(scope="module")
def explorers():
    return chapter_explorers()


@pytest.mark.parametrize("chapter", ["chapter 5", "chapter 6", "chapter 11", "chapter 12", "chapter 13"])
def test_moving_every_control_compiles_nothing(explorers, chapter):
    explorer, controls = explorers[chapter]
    renders = explorer.render_count
    with jax_programs_made() as made:
        moves = sum(move_through(control, all_options(control)) for control in controls)
    assert moves >= 3, f"{chapter}: the test moved only {moves} controls"
    assert explorer.render_count == renders + moves, f"{chapter}: every move must redraw once"
    assert made == [], f"{chapter}: {len(made)} JAX programs traced or lowered on moves (compile them when the explorer is built)"


def test_the_check_sees_a_program_made_on_a_move():
    """A move that jits something new (a planted callback) is caught."""
    explorer, _ = chapter_explorers()["chapter 12"]
    calls = []

    def compile_on_move(change) -> None:
        calls.append(float(jax.jit(lambda x: x * change["new"] + len(calls))(jnp.float32(1.0))))

    explorer.slider.observe(compile_on_move, names="value")
    with jax_programs_made() as made:
        move_through(explorer.slider, all_options(explorer.slider)[:3])
    assert calls and made, "a jit of a new function on a move must be seen"
