"""Every graded exercise, tried as students answer it: right answers in several forms must pass,
the usual wrong answers must fail, each with a message that names the real mistake.

The exercises of chapters 2-10 are Otter questions (raw ``# BEGIN QUESTION`` ... ``# END
QUESTION`` cells; ``scripts/classroom.py`` builds the classroom editions from them). Each
question's check cells are the cells between its ``# BEGIN TESTS`` and ``# END TESTS`` markers.
The test executes a chapter ONCE in a real kernel (nbclient, on a temporary copy; the worked
solutions and their checks run as in the book), keeps the kernel, and then, for every answer
below, runs the question's check cells on a copy of the kernel's global names in which the
answer's snippet has redefined the student's names (one copy per answer, so answers cannot
leak into each other). A check passes, fails with an AssertionError (its message is the
feedback a student reads), or errors; an error is a bug of the check whatever the answer, and so
is a warning printed while a right answer is checked (a student would think their code did it).

The answers are data: for each chapter, question -> a list of ``right(snippet)`` (every check
of the question must pass, printing no warning) and ``wrong(snippet, words)`` (some check must
fail with a message containing ``words``, and none may error). Add a case here whenever a
student's answer is graded wrongly.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_S = 300  # a hang guard, as in test_notebooks.py


class Answer(NamedTuple):
    snippet: str
    right: bool
    words: str | None  # for a wrong answer: what its message must say


def right(snippet: str) -> Answer:
    return Answer(textwrap.dedent(snippet).strip(), True, None)


def wrong(snippet: str, words: str) -> Answer:
    return Answer(textwrap.dedent(snippet).strip(), False, words)


def marker(cell) -> str:
    return cell.source.lstrip().split("\n", 1)[0].strip().upper() if cell.cell_type == "raw" else ""


def questions(nb) -> dict[str, list[str]]:
    """Question name -> the sources of its check cells, in the chapter's order."""
    found, name, in_tests = {}, None, False
    for cell in nb.cells:
        m = marker(cell)
        if m.startswith("# BEGIN QUESTION"):
            name = next(line.split(":", 1)[1].strip() for line in cell.source.splitlines() if line.strip().startswith("name:"))
            found[name] = []
        elif m.startswith("# END QUESTION"):
            name = None
        elif m.startswith("# BEGIN TESTS"):
            in_tests = True
        elif m.startswith("# END TESTS"):
            in_tests = False
        elif in_tests and name and cell.cell_type == "code":
            found[name].append(cell.source)
    return found


# Defined in the kernel once the chapter has run: tries one answer on copies of the globals.
RUNNER = '''
def _diffviz_try_answer(snippet, checks):
    import json, warnings
    namespace = dict(globals())
    try:
        exec(compile(snippet, "<answer>", "exec"), namespace)
    except Exception as err:
        return json.dumps([["answer-error", f"{type(err).__name__}: {err}", []]])
    results = []
    for source in checks:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(compile(source, "<check>", "exec"), namespace)
                status, message = "pass", ""
            except AssertionError as err:
                status, message = "fail", str(err)
            except Exception as err:
                status, message = "error", f"{type(err).__name__}: {err}"
        results.append([status, message, [f"{w.category.__name__}: {w.message}" for w in caught]])
    return json.dumps(results)
'''
OUT = "@@answer@@"


def try_answers(path: Path, cases: dict[str, list[Answer]], workdir: Path) -> dict[str, list[list]]:
    """Execute the chapter once, then every answer of ``cases``; question -> one result per answer."""
    nb = nbformat.read(shutil.copy(path, workdir / path.name), as_version=4)
    checks = questions(nb)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    results: dict[str, list[list]] = {}
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, i)  # raises CellExecutionError if the chapter itself fails

        def run(source: str):  # one more cell, at the end of the notebook
            nb.cells.append(nbformat.v4.new_code_cell(source))
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
            return nb.cells.pop()

        run(RUNNER)
        for name, answers in cases.items():
            results[name] = []
            for answer in answers:
                cell = run(f"print({OUT!r} + _diffviz_try_answer({answer.snippet!r}, {checks[name]!r}))")
                text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
                line = next(line for line in text.splitlines() if line.startswith(OUT))
                results[name].append(json.loads(line[len(OUT) :]))
    return results


def problems_with(name: str, answer: Answer, result: list[list]) -> list[str]:
    """What is wrong with how the checks graded ``answer``."""
    label = f"{name}, {'right' if answer.right else 'wrong'} answer {answer.snippet!r}"
    statuses = [status for status, _, _ in result]
    messages = [message for status, message, _ in result if status == "fail"]
    found = [f"{label}: {status}: {message}" for status, message, _ in result if status in ("error", "answer-error")]
    found += [f"{label}: a check printed {w}" for _, _, warned in result for w in warned if answer.right]
    if answer.right and "fail" in statuses:
        found.append(f"{label}: rejected: {messages}")
    if not answer.right:
        if "fail" not in statuses:
            found.append(f"{label}: passed every check")
        elif not any(answer.words.lower() in m.lower() for m in messages):
            found.append(f"{label}: no message says {answer.words!r}: {messages}")
    return found


NOT_DONE = "not done yet"  # what every check says to a blank (``...``) answer

# --- the answers ---------------------------------------------------------------------------------

CASES: dict[str, dict[str, list[Answer]]] = {}

CASES["05_reversing_the_process"] = {
    "ch05_ex1": [
        right("""
            def predicted_score(x):
                return -x
            longest_arrow = float(np.hypot(3.0, 3.0))
            denoiser_target = (0.0, 0.0)
        """),
        right("""
            predicted_score = lambda x: -1.0 * np.asarray(x)  # NumPy out, a lambda
            longest_arrow = 3 * 2**0.5
            denoiser_target = [0, 0]  # a list of ints
        """),
        right("longest_arrow = jnp.sqrt(18.0)\ndenoiser_target = jnp.zeros(2)"),
        right("longest_arrow = jnp.linalg.norm(jnp.array([[3.0, 3.0]]), axis=1)  # shape (1,)"),
        wrong("longest_arrow = 'far'", "should be a number"),
        wrong("predicted_score = lambda x: x", "point away from the origin"),
        wrong("predicted_score = lambda x: None", NOT_DONE),
        wrong("longest_arrow = 18", "squared length"),
        wrong("longest_arrow = 3.0", "corner"),
        wrong("denoiser_target = (1.0, 1.0)", "mean of the data"),
    ],
    "ch05_ex2": [
        right("""
            ratio_1 = float(dv.posterior_variance(linear, 1) / linear.betas[1])
            ratio_2 = float(dv.posterior_variance(linear, 2) / linear.betas[2])
            ratio_1000 = float(dv.posterior_variance(linear, 1000) / linear.betas[1000])
        """),
        right("""
            ratio_1 = 0  # an int
            ratio_2 = linear.one_minus_alpha_bars[1] / linear.one_minus_alpha_bars[2]  # a jnp scalar
            ratio_1000 = np.float32(linear.one_minus_alpha_bars[999] / linear.one_minus_alpha_bars[1000])
        """),
        wrong("ratio_1 = 1.0", "no uncertainty left"),
        right("ratio_1, ratio_2 = jnp.zeros(1), (linear.one_minus_alpha_bars[1:2] / linear.one_minus_alpha_bars[2:3])  # shape (1,)"),
        wrong("ratio_1 = 1.0", "no uncertainty left"),
        wrong("ratio_2 = 0.5", "a little below 1/2"),
        wrong("ratio_2 = ...", NOT_DONE),
        wrong("ratio_1000 = 0.99", "just below 1"),
    ],
    "ch05_ex3": [
        right("""
            def reverse_step(x, t, z, bug=False):
                beta_t = short.betas[t]
                eps_hat = dv.optimal_eps(short, bimodal, x, t)
                mean = (x - beta_t / jnp.sqrt(short.one_minus_alpha_bars[t]) * eps_hat) / jnp.sqrt(1.0 - beta_t)
                scale = beta_t if bug else jnp.sqrt(beta_t)
                return mean + jnp.where(t > 1, scale, 0.0) * z
            bug_makes_samples = "too narrow"
        """),
        # not jittable (the prompt never asks for jit): `if t == 1` and np.sqrt, as the chapter writes it
        right("""
            def reverse_step(x, t, z, bug=False):
                beta_t = short.betas[t]
                eps_hat = dv.optimal_eps(short, bimodal, x, t)
                mean = (x - beta_t / np.sqrt(short.one_minus_alpha_bars[t]) * eps_hat) / np.sqrt(1.0 - beta_t)
                if t == 1:
                    return mean
                return mean + (beta_t if bug else np.sqrt(beta_t)) * z
            bug_makes_samples = "Too narrow "
        """),
        right("""
            def reverse_step(x, t, z, bug=False):
                beta_t = float(short.betas[t])
                abar_t = float(short.alpha_bars[t])
                mean = (x - beta_t / (1 - abar_t) ** 0.5 * dv.optimal_eps(short, bimodal, x, t)) / (1 - beta_t) ** 0.5
                sigma = 0.0 if t == 1 else (beta_t if bug else beta_t**0.5)
                return mean + sigma * z
        """),
        wrong("""
            def reverse_step(x, t, z, bug=False):
                beta_t = short.betas[t]
                mean = (x - beta_t / jnp.sqrt(short.one_minus_alpha_bars[t]) * dv.optimal_eps(short, bimodal, x, t)) / jnp.sqrt(1.0 - beta_t)
                return mean + jnp.where(t > 1, beta_t, 0.0) * z
        """, "sigma_t is a standard deviation"),
        wrong("""
            def reverse_step(x, t, z, bug=False):
                beta_t = short.betas[t]
                mean = (x - beta_t / jnp.sqrt(short.one_minus_alpha_bars[t]) * dv.optimal_eps(short, bimodal, x, t)) / jnp.sqrt(1.0 - beta_t)
                return mean + (beta_t if bug else jnp.sqrt(beta_t)) * z
        """, "must add no noise"),
        wrong("""
            def reverse_step(x, t, z, bug=False):
                beta_t = short.betas[t]
                mean = (x - beta_t / jnp.sqrt(short.one_minus_alpha_bars[t]) * dv.optimal_eps(short, bimodal, x, t)) / jnp.sqrt(beta_t)
                return mean + jnp.where(t > 1, jnp.sqrt(beta_t), 0.0) * z
        """, "mean = (x_t - beta_t / sqrt(1 - alpha_bar_t) * eps*) / sqrt(alpha_t)"),
        wrong("reverse_step = lambda x, t, z, bug=False: None", NOT_DONE),
        wrong('bug_makes_samples = "too wide"', "far too little"),
    ],
    "ch05_ex4": [
        right("""
            which_T_keeps_95 = 50
            shares = {}
            for T_ in (5, 50):
                s_ = dv.cosine_schedule(T_)
                shares[T_] = share_near_centres(dv.ddpm_sample(jax.random.fold_in(key_exercises, T_), dv.exact_eps_fn(s_, eight), s_, (2000, 2)))
        """),
        right("shares = {5: np.float32(shares[5]), 50: jnp.asarray(shares[50])}\nwhich_T_keeps_95 = np.int64(50)"),
        right("shares = {5: 0.85, 50: 0.97}  # rounded, from another key"),
        wrong("""
            shares = {T_: share_near_centres(dv.ddpm_sample(jax.random.fold_in(key_exercises, T_), dv.exact_eps_fn(dv.linear_schedule(T_), eight),
                                                            dv.linear_schedule(T_), (2000, 2))) for T_ in (5, 50)}
        """, "dv.linear_schedule(5)"),
        wrong("shares = {5: 0.99, 50: 0.99}", "the 1000-step schedule"),
        wrong("shares = {}", NOT_DONE),
        wrong("shares = {'5': 0.85, '50': 0.97}", "keys 5 and 50"),
        wrong("which_T_keeps_95 = 5", "not Gaussian"),
    ],
}

_DDIM = """
def my_ddim(key, eps_fn, schedule, shape, num_steps):
    k_start, _ = jax.random.split(key)
    x = jax.random.normal(k_start, shape)
    ts = [int(t) for t in np.asarray(dv.ddim_timesteps(schedule.T, num_steps))][::-1]
    for t, s in zip(ts, ts[1:] + [0]):
        eps = eps_fn(x, t)
        x0_hat = (x - jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps) / jnp.sqrt(schedule.alpha_bars[t])
        x = jnp.sqrt(schedule.alpha_bars[s]) * x0_hat + jnp.sqrt(schedule.one_minus_alpha_bars[s]) * eps
    return x
"""

CASES["07_sampling"] = {
    "ch07_ex1": [
        right("""
            def final_variance(sigmas):
                sig2 = np.asarray(sigmas, np.float64) ** 2
                v = 1.0
                for t in range(schedule.T, 0, -1):
                    v = alphas[t] * v + sig2[t]
                return v
        """),
        # jax.lax.scan indexing its argument with the traced step: fine on the chapter's JAX arrays
        right("""
            def final_variance(sigmas):
                a = 1 - schedule.betas
                def body(v, t):
                    return a[t] * v + sigmas[t] ** 2, None
                v, _ = jax.lax.scan(body, 1.0, jnp.arange(schedule.T, 0, -1))
                return v
        """),
        right("""
            def final_variance(sigmas):  # returns shape (1,)
                v = jnp.ones(1)
                for t in range(schedule.T, 0, -1):
                    v = (1 - schedule.betas[t]) * v + sigmas[t] ** 2
                return v
        """),
        wrong("""
            def final_variance(sigmas):
                v = 1.0
                for t in range(schedule.T - 1, -1, -1):
                    v = alphas[t] * v + float(sigmas[t]) ** 2
                return v
        """, "range(T, 0, -1)"),
        wrong("""
            def final_variance(sigmas):
                v = 1.0
                for t in range(schedule.T, 0, -1):
                    v = v + float(sigmas[t]) ** 2
                return v
        """, "without shrinking"),
        wrong("""
            def final_variance(sigmas):
                v = 1.0
                for t in range(schedule.T, 0, -1):
                    v = alphas[t] * v + float(sigmas[t])
                return v
        """, "you get v_0"),
        wrong("final_variance = lambda sigmas: None", NOT_DONE),
    ],
    "ch07_ex2": [
        right("""
            gap_will = "shrink"
            useful_50 = {}
            for name, s in schedules.items():
                abar = np.asarray(s.alpha_bars)
                useful_50[name] = int(np.sum((abar[visited_50] > 0.2) & (abar[visited_50] < 0.99)))
        """),
        right("""
            gap_will = "Shrink"
            useful_50 = {name: jnp.sum((s.alpha_bars[visited_50] > 0.2) & (s.alpha_bars[visited_50] < 0.99)) for name, s in schedules.items()}
        """),
        wrong('gap_will = "grow"', "enough of them"),
        wrong("""
            grid = np.asarray(dv.ddim_timesteps(1000, 10))
            useful_50 = {name: int(np.sum((np.asarray(s.alpha_bars)[grid] > 0.2) & (np.asarray(s.alpha_bars)[grid] < 0.99))) for name, s in schedules.items()}
        """, "10-step grid"),
        wrong("useful_50 = {name: int(np.sum(np.asarray(s.alpha_bars)[visited_50] > 0.2)) for name, s in schedules.items()}", "count both conditions"),
        wrong("useful_50 = {}", NOT_DONE),
    ],
    "ch07_ex3": [
        right(_DDIM),
        right(_DDIM.replace("jnp.sqrt", "np.sqrt").replace("[int(t) for t in np.asarray(dv.ddim_timesteps(schedule.T, num_steps))][::-1]",
                                                          "list(range(schedule.T, 0, -schedule.T // num_steps))")),
        wrong(_DDIM.replace("k_start, _ = jax.random.split(key)", "k_start = key"), "split the key in two"),
        wrong(_DDIM.replace("/ jnp.sqrt(schedule.alpha_bars[t])", "/ schedule.alpha_bars[t]"), "you start from the same x_T"),
        wrong(_DDIM.replace("jnp.sqrt(schedule.one_minus_alpha_bars[s]) * eps", "jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps"), "x_s = sqrt(alpha_bar_s) x0_hat"),
        wrong(_DDIM.replace("ts[1:] + [0]", "ts[1:] + [1]"), "then s = 0"),
        wrong("my_ddim = lambda key, eps_fn, schedule, shape, num_steps: None", NOT_DONE),
    ],
}

_DENSITY = """
def checkerboard_density(schedule, t, x):
    root, sigma = jnp.sqrt(schedule.alpha_bars[t]), jnp.sqrt(schedule.one_minus_alpha_bars[t])
    lo = (x[:, None, :] - root * corners[None, :, :]) / sigma
    hi = (x[:, None, :] - root * (corners[None, :, :] + 1.0)) / sigma
    per_square = jnp.prod((norm.cdf(lo) - norm.cdf(hi)) / root, axis=2)
    return per_square.mean(axis=1)
"""

CASES["04_diffusing_2d_data"] = {
    "ch04_ex1": [
        right("predicted_linear = dv.snr_crossings(linear, (1.0,))[1.0]\npredicted_cosine = dv.snr_crossings(cosine, (1.0,))[1.0]"),
        right("predicted_linear = 260\npredicted_cosine = np.int64(497)"),
        wrong("predicted_linear = 259", "just above 1"),
        wrong("predicted_cosine = 496", "just above 1"),
        wrong("predicted_linear = 497", "cosine schedule's step"),
        wrong("predicted_cosine = 260", "linear schedule's step"),
        wrong("predicted_linear = 28", "details of size 0.1"),
        wrong("predicted_linear = 260.0", "an int"),
        wrong("predicted_linear = ...", NOT_DONE),
    ],
    "ch04_ex2": [
        right(_DENSITY),
        right("""
            def checkerboard_density(schedule, t, x):  # NumPy and SciPy-free, a loop over the squares
                from jax.scipy.stats import norm as gauss
                a, s = float(schedule.alpha_bars[t]), float(schedule.one_minus_alpha_bars[t]) ** 0.5
                x = np.asarray(x)
                total = np.zeros(len(x))
                for c in np.asarray(corners):
                    part = np.ones(len(x))
                    for i in range(2):
                        part *= np.asarray(gauss.cdf((x[:, i] - a**0.5 * c[i]) / s) - gauss.cdf((x[:, i] - a**0.5 * (c[i] + 1)) / s)) / a**0.5
                    total += part / 8
                return total
        """),
        wrong(_DENSITY.replace(" / root, axis=2)", ", axis=2)"), "1/sqrt(alpha_bar_t) factor"),
        wrong(_DENSITY.replace("per_square.mean(axis=1)", "per_square.sum(axis=1)"), "MEAN over the 8 squares"),
        wrong(_DENSITY.replace("corners[None, :, :]", "(corners[None, :, :] + jnp.array([1.0, 0.0]))"), "check the corners"),
        wrong(_DENSITY.replace("per_square.mean(axis=1)", "per_square"), "should have shape"),
        wrong("checkerboard_density = lambda schedule, t, x: None", NOT_DONE),
    ],
    "ch04_ex3": [
        right("""
            crossings_constant = {0.1: 1, 1.0: int(np.ceil(np.log(2) / -np.log(0.98))), 10.0: int(np.ceil(np.log(101) / -np.log(0.98)))}
            wasted_share = (T - crossings_constant[10.0]) / T
        """),
        right("crossings_constant = dv.snr_crossings(constant, (0.1, 1.0, 10.0))\nwasted_share = 0.75  # 'more than three quarters'"),
        right("crossings_constant = {1.0: np.int64(35), 10.0: 229, 0.1: 1}\nwasted_share = 771 / 1000"),
        wrong("crossings_constant = {0.1: 1, 1.0: 34, 10.0: 229}", "step 34 is still above"),
        wrong("crossings_constant = {0.1: 1, 1.0: 35, 10.0: 228}", "not 1/100"),
        wrong("crossings_constant = {0.1: 5, 1.0: 35, 10.0: 229}", "very first step"),
        wrong("crossings_constant = {0.1: 1, 1.0: 35}", "keys 0.1, 1.0 and 10.0"),
        wrong("wasted_share = 0.229", "BEFORE pure noise"),
        wrong("wasted_share = 77.1", "not a percentage"),
        wrong("wasted_share = 0.5", "pure noise from the step"),
        right("wasted_share = jnp.array([0.771])  # shape (1,)"),
    ],
    "ch04_ex4": [
        right("""
            gap_step_standard = dv.snr_crossings(linear, (0.92,))[0.92]
            gap_step_wide = dv.snr_crossings(linear, (3 * 0.92,))[3 * 0.92]
            still_gaussian_at_T = True
        """),
        right("gap_step_standard = np.int32(244)\ngap_step_wide = 460.0\nstill_gaussian_at_T = np.bool_(True)"),
        wrong("gap_step_wide = int(np.argmax(np.asarray(linear.alpha_bars) / np.asarray(linear.one_minus_alpha_bars) < 1 / 2.76))", "SNR < 1/d"),
        wrong("gap_step_standard = 260", "1/0.92^2"),
        wrong("gap_step_wide = 244", "1/2.76^2"),
        wrong("gap_step_standard = 243", "one step early"),
        wrong("gap_step_wide = 459", "one step early"),
        wrong("gap_step_standard = 245", "1/0.92^2"),
        wrong("still_gaussian_at_T = False", "4e-4"),
        wrong("still_gaussian_at_T = 'yes'", "True or False"),
    ],
}

_EMBEDDING = """
def my_embedding(t, size):
    half = size // 2
    freqs = 10.0 ** (-4.0 * jnp.arange(half) / (half - 1))
    angles = jnp.asarray(t, jnp.float32)[..., None] * freqs
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)
"""

CASES["06_training"] = {
    "ch06_ex1": [
        right("""
            predicted_floor = float(np.mean(np.asarray(schedule.alpha_bars)[1:]))
            measured_floor = float(average_loss(k_loss, dv.exact_eps_fn(schedule, gaussian), schedule, x0_gauss))
            bimodal_floor_is_lower = True
        """),
        right("predicted_floor = 0.28  # a prediction, to two decimals\nmeasured_floor = jnp.asarray(measured_floor)"),
        right("predicted_floor = jnp.mean(schedule.alpha_bars[1:])\nbimodal_floor_is_lower = np.bool_(True)"),
        right("predicted_floor = np.array([0.2755])\nmeasured_floor = jnp.array([measured_floor])  # shape (1,)"),
        wrong("predicted_floor = float(np.mean(1 - np.asarray(schedule.alpha_bars)[1:]))", "average of 1 - alpha_bar_t"),
        wrong("predicted_floor = float(np.mean(np.sqrt(np.asarray(schedule.alpha_bars)[1:])))", "averages sqrt(alpha_bar_t)"),
        wrong("predicted_floor = 0.3", "average Var[eps | x_t]"),
        wrong("measured_floor = float(average_loss(k_loss, dv.exact_eps_fn(schedule, data_1d), schedule, x0_gauss))", "exact eps* of the Gaussian"),
        wrong("bimodal_floor_is_lower = False", "narrow"),
        wrong("measured_floor = ...", NOT_DONE),
    ],
    "ch06_ex2": [
        right("""
            floor_goes = "up"
            floor_cosine = float(average_loss(k_loss, dv.exact_eps_fn(cosine, data_1d), cosine, x0_many))
        """),
        right('floor_goes = " Up"\nfloor_cosine = average_loss(k_loss, dv.exact_eps_fn(cosine, data_1d), cosine, x0_many)  # a jnp scalar'),
        wrong('floor_goes = "down"', "floor goes up"),
        wrong("floor_cosine = float(average_loss(k_loss, dv.exact_eps_fn(schedule, data_1d), schedule, x0_many))", "use the cosine schedule in BOTH"),
        wrong("floor_cosine = float(average_loss(k_loss, dv.exact_eps_fn(schedule, data_1d), cosine, x0_many))", "about 0.41"),
        wrong("floor_cosine = ...", NOT_DONE),
    ],
    "ch06_ex3": [
        right("""
            def my_eps_loss(eps_fn, x0, t, eps):
                x_t = jnp.sqrt(schedule.alpha_bars[t]) * x0 + jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps
                return jnp.mean((eps - eps_fn(x_t, t)) ** 2)
        """),
        right("""
            def my_eps_loss(eps_fn, x0, t, eps):
                abar = schedule.alpha_bars[t]
                x_t = abar**0.5 * x0 + (1 - abar) ** 0.5 * eps
                return jnp.sum((eps_fn(x_t, t) - eps) ** 2) / x0.shape[0]
        """),
        wrong("""
            def my_eps_loss(eps_fn, x0, t, eps):
                x_t = jnp.sqrt(schedule.alpha_bars[t]) * x0 + jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps
                return jnp.sum((eps - eps_fn(x_t, t)) ** 2)
        """, "do not sum"),
        wrong("""
            def my_eps_loss(eps_fn, x0, t, eps):
                x_t = schedule.alpha_bars[t] * x0 + schedule.one_minus_alpha_bars[t] * eps
                return jnp.mean((eps - eps_fn(x_t, t)) ** 2)
        """, "x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps"),
        wrong("""
            def my_eps_loss(eps_fn, x0, t, eps):
                x_t = jnp.sqrt(schedule.alpha_bars[t]) * x0 + jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps
                return (eps - eps_fn(x_t, t)) ** 2
        """, "one number per example"),
        wrong("my_eps_loss = lambda eps_fn, x0, t, eps: None", NOT_DONE),
        # the forgotten EMA: the raw training weights instead of their moving average
        right("net_1d = lambda x, t: dv.apply_denoiser(graphdef_1d, state_1d.ema_params, x, t)"),
        wrong("net_1d = dv.model_eps_fn(graphdef_1d, state_1d.params)", "state_1d.params, the last raw training weights"),
        wrong("net_1d = ...", NOT_DONE),
    ],
    "ch06_ex4": [
        right(_EMBEDDING + "entry_early = 16\nentry_late = 8"),
        right("""
            def my_embedding(t, size):  # NumPy, with an explicit frequency list
                h = size // 2
                w = np.array([10.0 ** (-4 * i / (h - 1)) for i in range(h)])
                a = np.asarray(t, dtype=float)[..., None] * w
                return np.concatenate([np.sin(a), np.cos(a)], axis=-1)
            entry_early = np.int64(16)
            entry_late = 8.0
        """),
        wrong("""
            def my_embedding(t, size):  # flattens t: right for 1-D t only
                half = size // 2
                freqs = 10.0 ** (-4.0 * jnp.arange(half) / (half - 1))
                angles = jnp.ravel(jnp.asarray(t, jnp.float32))[:, None] * freqs[None, :]
                return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=1)
        """, "t.shape + (size,)"),
        wrong(_EMBEDDING.replace("[jnp.sin(angles), jnp.cos(angles)]", "[jnp.cos(angles), jnp.sin(angles)]"), "swapped"),
        wrong(_EMBEDDING.replace("(half - 1))", "half)"), "omega_i = 10^(-4 i / (h - 1))"),
        wrong(_EMBEDDING.replace("-4.0 * jnp.arange(half)", "-4.0 * jnp.arange(half)[::-1]"), "reverse order"),
        wrong("my_embedding = lambda t, size: None", NOT_DONE),
        wrong("entry_early = 0", "first COSINE"),
        wrong("entry_late = 9", "closest to 1000 steps"),
        wrong("entry_late = 24", "a sine entry"),
    ],
}

CASES["02_forward_process_1d"] = {
    "ch02_ex1": [
        right("t_star = int(np.ceil(2 * np.log(10) / -np.log(1 - beta_1)))"),
        right("t_star = np.int64(152)"),
        right("t_star = int(np.argmax(0.97 ** (np.arange(201) / 2) * 2 < 0.2))"),
        wrong("t_star = 151", "one step early"),
        wrong("t_star = 76", "(1 - beta)^(t/2)"),
        wrong("t_star = 152.0", "should be an int"),
        wrong("t_star = 160", "smallest integer t"),
        wrong("t_star = ...", NOT_DONE),
    ],
    "ch02_ex2": [
        right("var_10 = 1 + 0.95**10 * 3\nvar_50 = 1 + 0.95**50 * 3\nt_within_1pct = int(np.ceil(np.log(0.01 / 3) / np.log(0.95)))"),
        right("var_10 = np.float32(2.796)\nvar_50 = jnp.array(1.231)\nt_within_1pct = np.int64(112)"),
        right("var_10 = jnp.array([2.796])  # shape (1,)\nvar_50 = np.array([1 + 3 * 0.95**50])"),
        wrong("var_10 = 1 + 0.95**10 * 4", "v_0 = 4"),
        wrong("var_50 = 1 - 0.95**50", "noise alone"),
        wrong("var_10 = 4 * 0.95**10", "only the shrunken data"),
        wrong("t_within_1pct = 111", "one step short"),
        wrong("t_within_1pct = 117", "not v_0 (1 - beta)^t"),
        wrong("t_within_1pct = 112.0", "should be an int"),
        wrong("var_10 = ...", NOT_DONE),
    ],
    "ch02_ex3": [
        right("""
            t_double = int(t_all[np.argmax(np.sqrt(v_walk / v_ddpm) >= 2)])
            ratio_100 = float(jnp.std(walk[100]) / jnp.std(path[100]))
        """),
        right("t_double = np.int64(101)\nratio_100 = jnp.std(walk[100]) / jnp.std(path[100])"),
        right("ratio_100 = jnp.std(walk[100], axis=0) / jnp.std(path[100], axis=0)  # shape (1,)"),
        wrong("t_double = 100", "just short of 2"),
        wrong("t_double = 34", "VARIANCES"),
        wrong("ratio_100 = float(jnp.std(path[100]) / jnp.std(walk[100]))", "upside down"),
        wrong("ratio_100 = float(jnp.var(walk[100]) / jnp.var(path[100]))", "ratio of variances"),
        wrong("ratio_100 = ...", NOT_DONE),
    ],
    "ch02_ex4": [
        right("""
            x_same_key = jnp.zeros((10_000, 1))
            for t in range(1, 101):
                x_same_key = dv.sample_forward_step(same_key, schedule_4, x_same_key, t)
            a = np.sqrt(1 - 0.03)
            predicted_same_key = 0.03 * ((1 - a**100) / (1 - a)) ** 2
        """),
        right("""
            x_same_key = jnp.zeros((10_000, 1))
            t = 0
            while t < 100:
                t += 1
                x_same_key = dv.sample_forward_step(same_key, schedule_4, x_same_key, t)
            predicted_same_key = np.float32(0.03 * sum(0.97 ** (j / 2) for j in range(100)) ** 2)
        """),
        wrong("""
            x_same_key = jnp.zeros((10_000, 1))
            for t in range(1, 101):
                x_same_key = dv.sample_forward_step(jax.random.fold_in(same_key, t), schedule_4, x_same_key, t)
        """, "CORRECT chain"),
        wrong("""
            x_same_key = jnp.zeros((10_000, 1))
            for t in range(1, 81):
                x_same_key = dv.sample_forward_step(same_key, schedule_4, x_same_key, t)
        """, "exactly 100 steps"),
        wrong("x_same_key = jnp.zeros((10_000, 1))", NOT_DONE),
        wrong("predicted_same_key = 0.03 / (1 - 0.97**0.5) ** 2", "limit for t -> infinity"),
        wrong("predicted_same_key = 1 - 0.97**100", "independent kicks"),
        wrong("predicted_same_key = 3.0", "beta * t = 3"),
        right("predicted_same_key = jnp.array([0.03 * ((1 - 0.97**50) / (1 - 0.97**0.5)) ** 2])  # shape (1,)"),
        wrong("predicted_same_key = np.array([80.3, 131.2])", "one number"),
    ],
}

CASES["03_closed_form_and_schedules"] = {
    "ch03_ex1": [
        right("abar_by_hand = [0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7]\nabar_by_hand_reversed = [0.7, 0.7 * 0.8, 0.7 * 0.8 * 0.9]\nsame_for_both_orders = 3"),
        right("""
            abar_by_hand = np.cumprod(1 - np.array([0.1, 0.2, 0.3]))
            abar_by_hand_reversed = jnp.cumprod(1 - jnp.array([0.3, 0.2, 0.1]))  # float32
            same_for_both_orders = np.int64(3)
        """),
        right("abar_by_hand = (0.9, 0.72, 0.504)\nabar_by_hand_reversed = np.array([[0.7, 0.56, 0.504]])"),
        wrong("abar_by_hand = [1.0, 0.9, 0.72, 0.504]", "alpha_bar_0 = 1"),
        wrong("abar_by_hand = [0.9, 0.7, 0.4]", "running SUM"),
        wrong("abar_by_hand_reversed = [0.7, 0.8, 0.9]", "single steps"),
        wrong("abar_by_hand = [0.9, 0.72, 0.5]", "alpha_bar_t = (1 - beta_1)...(1 - beta_t)"),
        wrong("same_for_both_orders = 1", "differs between the orders"),
        wrong("same_for_both_orders = 4", "1, 2 or 3"),
        wrong("abar_by_hand = ...", NOT_DONE),
    ],
    "ch03_ex2": [
        right("T_estimate = np.log(1000) / ((1e-4 + 0.02) / 2)\nT_exact = 683"),
        right("T_estimate = 687  # rounded\nT_exact = np.int64(683)"),
        right("T_estimate = jnp.log(1000.0)[None] / 0.01005  # shape (1,)"),
        wrong("T_estimate = np.log10(1000) / 0.01005", "log base 10"),
        wrong("T_estimate = np.log(1000) / 0.02", "mean beta"),
        wrong("T_exact = 684", "SMALLEST"),
        wrong("T_exact = 687", "that is the estimate"),
        wrong("T_exact = 683.0", "should be an int"),
        wrong("T_exact = 700", "find the smallest T"),
        wrong("T_exact = ...", NOT_DONE),
    ],
    "ch03_ex3": [
        right("""
            x300 = dv.run_forward_chain(jax.random.fold_in(key_exercises, 3), linear, jnp.full((20_000, 1), -1.0), num_steps=300)
            mean, std = dv.marginal_params(linear, jnp.array(-1.0), 300)
            closed_mean = float(mean)
            closed_var = float(std) ** 2
        """),
        right("""
            x300 = np.asarray(dv.run_forward_chain(jax.random.key(1), linear, -jnp.ones((20_000, 1)), num_steps=300))
            closed_mean = -jnp.sqrt(linear.alpha_bars[300])
            closed_var = linear.one_minus_alpha_bars[300]
        """),
        right("closed_mean, closed_var = -jnp.sqrt(linear.alpha_bars[300:301]), np.array([float(linear.one_minus_alpha_bars[300])])  # shape (1,)"),
        wrong("closed_var = float(dv.marginal_params(linear, jnp.array(-1.0), 300)[1])", "square the std"),
        wrong("closed_mean = -float(linear.alpha_bars[300])", "sqrt(alpha_bar_t) x_0"),
        wrong("closed_mean = float(jnp.sqrt(linear.alpha_bars[300]))", "wrong sign"),
        wrong("x300 = dv.run_forward_chain(jax.random.key(1), linear, jnp.full((20_000, 1), -1.0), num_steps=300, trajectory=True)", "no trajectory=True"),
        wrong("x300 = dv.run_forward_chain(jax.random.key(1), linear, jnp.full((20_000, 1), -1.0))", "pure noise"),
        wrong("x300 = dv.run_forward_chain(jax.random.key(1), linear, jnp.full((20_000, 1), 1.0), num_steps=300)", "mean is positive"),
        wrong("x300 = ...", NOT_DONE),
    ],
    "ch03_ex4": [
        right("kl_approx = lambda abar, x0: 0.5 * abar * x0**2 + 0.25 * abar**2"),
        right("""
            def kl_approx(abar, x0):  # one more term of the series: better still
                return abar * x0**2 / 2 + (abar**2 / 2 + abar**3 / 3) / 2
        """),
        right("kl_approx = lambda abar, x0: jnp.float32(0.5) * abar * jnp.square(x0) + abar**2 / 4"),
        wrong("kl_approx = lambda abar, x0: 0.5 * abar * x0**2", "alpha_bar^2 / 4 is missing"),
        wrong("kl_approx = lambda abar, x0: 0.5 * abar * x0**2 + 0.5 * abar**2", "the term without x_0"),
        wrong("kl_approx = lambda abar, x0: abar * x0**2 + 0.25 * abar**2", "the x_0 term is alpha_bar x_0^2 / 2"),
        wrong("kl_approx = lambda abar, x0: 0.5 * abar * x0 + 0.25 * abar**2", "the x_0 term"),
        wrong("kl_approx = lambda abar, x0: 0.5 * abar + 0.25 * abar**2", "the x_0 term is alpha_bar x_0^2 / 2"),
        wrong("kl_approx = lambda abar, x0: None", NOT_DONE),
    ],
}

CASES["08_likelihood"] = {
    "ch08_ex1": [
        right("predicted_bound_nats = 0.5 * np.log(2 * np.pi * np.e)\npredicted_bits_per_dim = predicted_bound_nats / np.log(2)"),
        right("predicted_bound_nats = 1.42  # the entropy of N(0, 1), to two decimals\npredicted_bits_per_dim = 2.05"),
        right("predicted_bound_nats = jnp.log(2 * jnp.pi * jnp.e) / 2\npredicted_bits_per_dim = jnp.log2(2 * jnp.pi * jnp.e) / 2"),
        right("predicted_bound_nats = np.array([1.4189])\npredicted_bits_per_dim = jnp.array([2.047])  # shape (1,)"),
        wrong("predicted_bound_nats = 0.0", "work it out in closed form"),
        wrong("predicted_bound_nats = 0.5 * np.log(2 * np.pi)", "average of x^2 / 2"),
        wrong("predicted_bound_nats = 1.5", "entropy of N(0, 1)"),
        wrong("predicted_bits_per_dim = 0.5 * np.log(2 * np.pi * np.e) * np.log(2)", "DIVIDE by ln 2"),
        wrong("predicted_bits_per_dim = 0.5 * np.log(2 * np.pi * np.e) / np.log(10)", "log base 2"),
        wrong("predicted_bits_per_dim = ...", NOT_DONE),
    ],
    "ch08_ex2": [
        right("""
            predicted_abar_T = np.exp(-1000 * (0.0001 + 0.005) / 2)
            predicted_prior = 0.5 * (predicted_abar_T * 0.9925 - predicted_abar_T - np.log(1 - predicted_abar_T))
            total_rises_by_L_T = False
        """),
        right("predicted_abar_T = 0.078\npredicted_prior = 0.04\ntotal_rises_by_L_T = np.bool_(False)"),
        right("predicted_abar_T = gentle.alpha_bars[-1]  # a jnp scalar, exact\npredicted_prior = b_gentle.prior.mean()"),
        right("predicted_abar_T = gentle.alpha_bars[-1:]  # shape (1,)\npredicted_prior = b_gentle.prior.mean(keepdims=True)"),
        wrong("predicted_abar_T = 2.55", "sum of the betas"),
        wrong("predicted_abar_T = 1 - np.exp(-2.55)", "1 - alpha_bar_T"),
        wrong("predicted_abar_T = 0.2", "about exp(-2.55)"),
        wrong("predicted_prior = predicted_abar_T * 0.9925 - predicted_abar_T - np.log(1 - predicted_abar_T)", "factor 1/2"),
        wrong("total_rises_by_L_T = True", "MARGINAL"),
        wrong("predicted_prior = ...", NOT_DONE),
    ],
    "ch08_ex3": [
        right("""
            my_prior = float(0.5 * jnp.sum(abar_T * x_one**2 + (1 - abar_T) - 1 - jnp.log(1 - abar_T)))
            my_decoder = float(0.5 * jnp.sum((x_one - mu) ** 2 / beta1 + jnp.log(2 * jnp.pi * beta1)))
        """),
        # the formulas as printed, applied to x_one of shape (1,): values of shape (1,)
        right("""
            my_prior = 0.5 * (abar_T * x_one**2 + (1 - abar_T) - 1 - jnp.log(1 - abar_T))
            my_decoder = (x_one - mu) ** 2 / (2 * beta1) + 0.5 * jnp.log(2 * jnp.pi * beta1)
        """),
        right("my_decoder = -jax.scipy.stats.norm.logpdf(np.asarray(x_one), np.asarray(mu), np.sqrt(float(beta1)))"),
        wrong("my_prior = float(0.5 * jnp.sum(jnp.sqrt(abar_T) * x_one**2 - abar_T - jnp.log(1 - abar_T)))", "alpha_bar_T x_0^2 (not sqrt"),
        wrong("my_prior = float(0.5 * jnp.sum(abar_T * x_one**2 - jnp.log(1 - abar_T)))", "KL(N(m, s2) || N(0, 1))"),
        wrong("my_prior = jnp.array([1e-5, 2e-5])", "one number"),
        wrong("my_prior = 'small'", "should be a number"),
        wrong("my_decoder = -float(0.5 * jnp.sum((x_one - mu) ** 2 / beta1 + jnp.log(2 * jnp.pi * beta1)))", "wrong sign"),
        wrong("my_decoder = float(0.5 * jnp.sum((x_one - mu) ** 2 / jnp.sqrt(beta1) + jnp.log(2 * jnp.pi * jnp.sqrt(beta1))))", "sqrt(beta_1) as the variance"),
        wrong("my_decoder = float(0.5 * jnp.sum((x_one - x1) ** 2 / beta1 + jnp.log(2 * jnp.pi * beta1)))", "with mu from x_1"),
        wrong("my_decoder = ...", NOT_DONE),
    ],
}

CASES["09_digits"] = {
    "ch09_ex1": [
        right("""
            sum_betas = 300 * 1e-4 + (0.02 - 1e-4) * 300 * 299 / (2 * 999)
            predicted = float(np.exp(-sum_betas / 2))
            slope = float(jnp.sum(copies.mean(axis=0) * x0) / jnp.sum(x0 * x0))
        """),
        # a slope straight from least squares has shape (1,); a prediction to two decimals
        right("""
            predicted = 0.63
            slope = np.linalg.lstsq(np.asarray(x0)[:, None], np.asarray(copies.mean(axis=0)), rcond=None)[0]
        """),
        right("predicted = jnp.exp(-0.923 / 2)\nslope = jnp.array([jnp.vdot(copies.mean(axis=0), x0) / jnp.vdot(x0, x0)])"),
        wrong("predicted = float(schedule.alpha_bars[300])", "its square root"),
        wrong("predicted = float(np.sqrt(schedule.one_minus_alpha_bars[300]))", "noise's share"),
        wrong("predicted = float(np.exp(-300 * 0.01005 / 2))", "arithmetic series"),
        wrong("slope = float(jnp.sum(copies.mean(axis=0) * x0) / jnp.sum(copies.mean(axis=0) ** 2))", "not the other way round"),
        wrong("slope = np.array([0.6, 0.7])", "one number"),
        wrong("slope = ...", NOT_DONE),
    ],
    "ch09_ex2": [
        right("""
            cosine_keeps_digits = "later"
            last_informative = {}
            for name, s in {"linear": schedule, "cosine": dv.cosine_schedule(1000)}.items():
                accuracy = [template_accuracy(s, t, jax.random.fold_in(key_exercises, 200 + t)) for t in ts_check]
                last_informative[name] = max(t for t, a in zip(ts_check, accuracy) if a > 0.2)
        """),
        right('cosine_keeps_digits = "Later"\nlast_informative = {k: np.int64(v) for k, v in last_informative.items()}'),
        wrong('cosine_keeps_digits = "earlier"', "removes signal more slowly"),
        wrong('last_informative = {"linear": 700, "cosine": 900}', "not above 0.2"),
        wrong('last_informative = {"linear": last_informative["linear"] - 100, "cosine": last_informative["cosine"]}', "still above 0.2"),
        wrong('last_informative = {"linear": 650, "cosine": 900}', "one of the checked steps"),
        wrong('last_informative = {"linear": ..., "cosine": 900}', NOT_DONE),
    ],
    "ch09_ex3": [
        right("""
            def guess_clean(x_t, t):
                eps_hat = eps_fn(x_t, t)
                return (x_t - jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps_hat) / jnp.sqrt(schedule.alpha_bars[t])
            guess_at_1000_is_sensible = False
        """),
        right("""
            def guess_clean(x_t, t):  # NumPy
                a = float(schedule.alpha_bars[t])
                return (np.asarray(x_t) - np.sqrt(1 - a) * np.asarray(eps_fn(x_t, t))) / np.sqrt(a)
            guess_at_1000_is_sensible = np.bool_(False)
        """),
        wrong("guess_clean = lambda x_t, t: x_t - jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps_fn(x_t, t)", "divide by sqrt(alpha_bar_t)"),
        wrong("guess_clean = lambda x_t, t: (x_t - jnp.sqrt(schedule.one_minus_alpha_bars[t]) * eps_fn(x_t, t)) / schedule.alpha_bars[t]", "x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps_hat)"),
        wrong("guess_clean = lambda x_t, t: None", NOT_DONE),
        wrong("guess_at_1000_is_sensible = True", "about 157"),
    ],
}

_CHAIN = """
def fixed_chain(key, schedule, x0, num_steps):
    x = x0
    for t in range(1, num_steps + 1):
        noise = jax.random.normal(jax.random.fold_in(key, t), x.shape)
        x = jnp.sqrt(schedule.alphas[t]) * x + jnp.sqrt(schedule.betas[t]) * noise
    return x
"""
_BATCH = """
def fixed_batch(key, schedule, x0):
    k_t, k_eps = jax.random.split(key)
    t = jax.random.randint(k_t, (x0.shape[0],), 1, schedule.T + 1)
    eps = jax.random.normal(k_eps, x0.shape)
    abar = schedule.alpha_bars[t][:, None]
    return jnp.sqrt(abar) * x0 + jnp.sqrt(1 - abar) * eps, t, eps
"""

CASES["10_common_mistakes"] = {
    "ch10_ex1": [
        right(_CHAIN + "mistake_seen_at_t1 = 1"),
        right("""
            def fixed_chain(key, schedule, x0, num_steps):  # one key per step from jax.random.split
                keys = jax.random.split(key, num_steps)
                x = np.asarray(x0)
                for t in range(1, num_steps + 1):
                    x = np.sqrt(schedule.alphas[t]) * x + np.sqrt(schedule.betas[t]) * np.asarray(jax.random.normal(keys[t - 1], x.shape))
                return x
            mistake_seen_at_t1 = np.int64(1)
        """),
        wrong("fixed_chain = buggy_chain", "not by beta_t, a variance"),
        wrong(_CHAIN.replace("jax.random.fold_in(key, t)", "key"), "its own key"),
        wrong(_CHAIN.replace("range(1, num_steps + 1)", "range(1, num_steps)"), "range(1, num_steps + 1)"),
        wrong(_CHAIN.replace("range(1, num_steps + 1)", "range(num_steps)"), "range(1, num_steps + 1)"),
        wrong(_CHAIN.replace("range(1, num_steps + 1)", "range(1, num_steps + 2)"), "range(1, num_steps + 1)"),
        wrong("fixed_chain = lambda key, schedule, x0, num_steps: None", NOT_DONE),
        wrong("mistake_seen_at_t1 = 4", "only once"),
        wrong("mistake_seen_at_t1 = 2", "is neither"),
    ],
    "ch10_ex2": [
        right("""
            def reused_key_variance(beta, t):
                a = 1 - beta
                return beta * ((1 - a ** (t / 2)) / (1 - np.sqrt(a))) ** 2
            limit = 0.05 / (1 - np.sqrt(1 - 0.05)) ** 2
        """),
        right("""
            def reused_key_variance(beta, t):  # the sum itself, term by term, in JAX
                s = jnp.arange(1, t + 1)
                return jnp.sum(jnp.sqrt(beta) * (1 - beta) ** ((t - s) / 2)) ** 2
            limit = 78.0  # to three figures
        """),
        wrong("reused_key_variance = lambda beta, t: np.sqrt(beta) * (1 - (1 - beta) ** (t / 2)) / (1 - np.sqrt(1 - beta))", "square root of the variance"),
        wrong("reused_key_variance = lambda beta, t: 1 - (1 - beta) ** t", "fresh key per step"),
        wrong("reused_key_variance = lambda beta, t: beta / (1 - np.sqrt(1 - beta)) ** 2", "limit t -> infinity"),
        wrong("reused_key_variance = lambda beta, t: beta * ((1 - (1 - beta) ** t) / (1 - (1 - beta))) ** 2", "(sum_s c_s)^2"),
        wrong("reused_key_variance = lambda beta, t: None", NOT_DONE),
        wrong("limit = 80.0", "small-beta approximation"),
        right("limit = jnp.array([0.05]) / (1 - jnp.sqrt(0.95)) ** 2  # shape (1,)"),
        wrong("limit = 80.0", "small-beta approximation"),
        wrong("limit = 22.5", "let t -> infinity"),
    ],
    "ch10_ex3": [
        right(_BATCH),
        right("""
            def fixed_batch(key, schedule, x0):
                k_t, k_eps = jax.random.split(key)
                t = jax.random.randint(k_t, (len(x0), 1), minval=1, maxval=schedule.T + 1)  # (n, 1) steps
                eps = jax.random.normal(k_eps, x0.shape)
                abar = schedule.alpha_bars[t[:, 0]].reshape(-1, 1)
                return jnp.sqrt(abar) * x0 + jnp.sqrt(1 - abar) * eps, t[:, 0], eps
        """),
        wrong("fixed_batch = buggy_batch", "(1000, 1000)"),
        wrong(_BATCH.replace("schedule.T + 1", "schedule.T"), "exclusive"),
        wrong(_BATCH.replace("(x0.shape[0],), 1,", "(x0.shape[0],), 0,"), "t = 0 is the data"),
        wrong(_BATCH.replace("jnp.sqrt(1 - abar) * eps, t, eps", "jnp.sqrt(1 - abar) * jax.random.normal(k_t, x0.shape), t, eps"), "each example's own t and eps"),
        wrong("fixed_batch = lambda key, schedule, x0: None", NOT_DONE),
    ],
    "ch10_ex4": [
        right("passes_linear_x20 = False\npasses_cosine = True\nsection_that_explains = 6"),
        right("passes_linear_x20 = np.bool_(False)\npasses_cosine = np.bool_(True)\nsection_that_explains = np.int64(6)"),
        wrong("passes_linear_x20 = True", "size of its steps"),
        wrong("passes_cosine = False", "the cosine schedule passes"),
        wrong("section_that_explains = 5", "section 5's problem"),
        wrong("section_that_explains = 3", "sections 5 (T too small) or 6"),
        wrong("passes_cosine = ...", NOT_DONE),
    ],
}

CASES["11_continuous_time"] = {
    "ch11_ex1": [
        right("score_from_eps = lambda eps, t: -eps / jnp.sqrt(dv.continuous_one_minus_alpha_bar(schedule, t))"),
        right("""
            def score_from_eps(eps, t):  # through alpha-bar itself, in NumPy
                abar = float(dv.continuous_alpha_bar(schedule, t))
                return -np.asarray(eps) / np.sqrt(1.0 - abar)
        """),
        wrong("score_from_eps = lambda eps, t: -eps / dv.continuous_one_minus_alpha_bar(schedule, t)", "standard deviation"),
        wrong("score_from_eps = lambda eps, t: eps / jnp.sqrt(dv.continuous_one_minus_alpha_bar(schedule, t))", "sign"),
        wrong("score_from_eps = lambda eps, t: -eps / jnp.sqrt(dv.continuous_alpha_bar(schedule, t))", "sqrt(abar(t))"),
        wrong("score_from_eps = lambda eps, t: -eps / jnp.sqrt(schedule.one_minus_alpha_bars[int(t * schedule.T)])", "continuous-time"),
        wrong("score_from_eps = lambda eps, t: None", NOT_DONE),
    ],
    "ch11_ex2": [
        right("""
            def my_euler_step(x, t, s):
                beta = dv.continuous_beta(schedule, t)
                score = -eps_bimodal(x, t) / jnp.sqrt(1 - dv.continuous_alpha_bar(schedule, t))
                return x - (s - t) * 0.5 * beta * (x + score)
        """),
        right("my_euler_step = lambda x, t, s: x + (s - t) * dv.probability_flow_drift(schedule, x, eps_bimodal(x, t), t)"),
        wrong("""
            def my_euler_step(x, t, s):
                beta = dv.continuous_beta(schedule, t)
                return x + (t - s) * -0.5 * beta * (x - eps_bimodal(x, t) / jnp.sqrt(1 - dv.continuous_alpha_bar(schedule, t)))
        """, "forwards"),
        wrong("""
            def my_euler_step(x, t, s):
                beta = dv.continuous_beta(schedule, t)
                return x + (s - t) * (-0.5 * beta * x + beta * eps_bimodal(x, t) / jnp.sqrt(1 - dv.continuous_alpha_bar(schedule, t)))
        """, "reverse SDE"),
        wrong("""
            def my_euler_step(x, t, s):
                beta = dv.continuous_beta(schedule, t)
                return x + (s - t) * -0.5 * beta * (x - eps_bimodal(x, t) / (1 - dv.continuous_alpha_bar(schedule, t)))
        """, "standard deviation"),
        wrong("""
            def my_euler_step(x, t, s):
                beta = dv.continuous_beta(schedule, t)
                return x + (s - t) * -beta * (x - eps_bimodal(x, t) / jnp.sqrt(1 - dv.continuous_alpha_bar(schedule, t)))
        """, "factor 1/2"),
        wrong("my_euler_step = lambda x, t, s: None", NOT_DONE),
    ],
    "ch11_ex3": [
        right("heun_nfe = lambda num_steps: 2 * num_steps\npc_nfe = lambda n, c: n + n * c\neuler_steps_same_cost = 50"),
        right("""
            def heun_nfe(num_steps):
                return int(np.int64(num_steps) * 2)
            def pc_nfe(num_steps, corrector_steps):
                return sum(1 + corrector_steps for _ in range(num_steps))
            euler_steps_same_cost = np.int64(50)
        """),
        wrong("heun_nfe = lambda num_steps: 2 * (num_steps + 1)", "no step evaluates at the last one"),
        wrong("heun_nfe = lambda num_steps: 2 * num_steps - 1", "nothing is shared"),
        wrong("heun_nfe = lambda num_steps: num_steps", "Euler's count"),
        wrong("heun_nfe = lambda num_steps: None", NOT_DONE),
        wrong("euler_steps_same_cost = 25", "half of"),
        wrong("euler_steps_same_cost = 12", "the other way round"),
        wrong("euler_steps_same_cost = ...", NOT_DONE),
        wrong("pc_nfe = lambda n, c: n * c", "predictor"),
        wrong("pc_nfe = lambda n, c: n + c", "after every step"),
        wrong("pc_nfe = lambda n, c: n * (2 + c)", "not a Heun step"),
        wrong("pc_nfe = lambda n, c: None", NOT_DONE),
    ],
    "ch11_ex4": [
        right("predicted_left_share = 0.25"),
        right("predicted_left_share = np.float32(1 / 4)"),
        right("predicted_left_share = 0.24  # a quarter, minus the walkers just right of 0"),
        wrong("predicted_left_share = 0.8", "true weight"),
        wrong("predicted_left_share = 0.5", "uniform on [-1, 3]"),
        wrong("predicted_left_share = 0.75", "left bump"),
        wrong("predicted_left_share = ...", NOT_DONE),
    ],
}

_COSINE_LOSS = """
def cosine_cfm_loss(key, v_fn, x0):
    k_t, k_eps = jax.random.split(key)
    t = jax.random.uniform(k_t, (x0.shape[0],))
    eps = jax.random.normal(k_eps, x0.shape)
    c, s = jnp.cos(jnp.pi * t / 2)[:, None], jnp.sin(jnp.pi * t / 2)[:, None]
    x_t = c * x0 + s * eps
    target = jnp.pi / 2 * (c * eps - s * x0)
    return jnp.mean((jax.vmap(v_fn)(x_t, t) - target) ** 2)
"""

CASES["12_flow_matching"] = {
    "ch12_ex1": [
        right(_COSINE_LOSS),
        right("""
            def cosine_cfm_loss(key, v_fn, x0):  # with the package's coefficients and a Python loop
                k_t, k_eps = jax.random.split(key)
                t = jax.random.uniform(k_t, (x0.shape[0],))
                eps = jax.random.normal(k_eps, x0.shape)
                c = dv.interpolant_coefficients("cosine", t)
                x_t = c.a[:, None] * x0 + c.s[:, None] * eps
                target = c.da[:, None] * x0 + c.ds[:, None] * eps
                errors = [jnp.mean((v_fn(x_t[i], t[i]) - target[i]) ** 2) for i in range(x0.shape[0])]
                return jnp.mean(jnp.stack(errors))
        """),
        wrong(_COSINE_LOSS.replace("jnp.pi / 2 * (c * eps - s * x0)", "eps - x0"), "linear interpolant's target"),
        wrong(_COSINE_LOSS.replace("jnp.pi / 2 * (c * eps - s * x0)", "c * eps - s * x0"), "factor pi / 2"),
        wrong(_COSINE_LOSS.replace("jnp.pi / 2 * (c * eps - s * x0)", "jnp.pi / 2 * (c * x0 - s * eps)"), "wrong way round"),
        wrong(_COSINE_LOSS.replace("return jnp.mean((jax.vmap(v_fn)(x_t, t) - target) ** 2)",
                                   "return jnp.mean(jnp.sum((jax.vmap(v_fn)(x_t, t) - target) ** 2, axis=1))"), "mean over the coordinates"),
        wrong(_COSINE_LOSS.replace("x_t = c * x0 + s * eps", "x_t = s * x0 + c * eps"), "asked at x_t"),
        wrong("cosine_cfm_loss = lambda key, v_fn, x0: None", NOT_DONE),
    ],
    "ch12_ex2": [
        right("x0_from_velocity = lambda x_t, u, t: x_t - t * u\neps_from_velocity = lambda x_t, u, t: x_t + (1 - t) * u"),
        right("""
            def x0_from_velocity(x_t, u, t):
                return dv.convert_prediction(u, x_t, t, source="velocity", target="x0", interpolant="linear")
            def eps_from_velocity(x_t, u, t):
                x0 = np.asarray(x_t) - t * np.asarray(u)
                return x0 + np.asarray(u)
        """),
        wrong("x0_from_velocity = lambda x_t, u, t: x_t + t * u\neps_from_velocity = lambda x_t, u, t: x_t + (1 - t) * u", "wrong sign"),
        wrong("x0_from_velocity = lambda x_t, u, t: x_t - (1 - t) * u\neps_from_velocity = lambda x_t, u, t: x_t + t * u", "x_t = x0 + t u"),
        wrong("x0_from_velocity = lambda x_t, u, t: x_t - t * u\neps_from_velocity = lambda x_t, u, t: x_t - (1 - t) * u", "wrong sign"),
        wrong("x0_from_velocity = lambda x_t, u, t: None\neps_from_velocity = lambda x_t, u, t: None", NOT_DONE),
    ],
    "ch12_ex3": [
        right("sorted_pairing_cost = lambda x0, eps: jnp.mean((jnp.sort(x0[:, 0]) - jnp.sort(eps[:, 0])) ** 2)"),
        right("""
            def sorted_pairing_cost(x0, eps):  # NumPy, pairing by argsort
                x, e = np.asarray(x0).ravel(), np.asarray(eps).ravel()
                return float(np.mean((x[np.argsort(x)] - e[np.argsort(e)]) ** 2))
        """),
        wrong("sorted_pairing_cost = lambda x0, eps: jnp.mean((x0 - eps) ** 2)", "independent pairing"),
        wrong("sorted_pairing_cost = lambda x0, eps: jnp.mean((jnp.sort(x0[:, 0]) - jnp.sort(eps[:, 0])[::-1]) ** 2)", "worst pairing"),
        wrong("sorted_pairing_cost = lambda x0, eps: jnp.sqrt(jnp.mean((jnp.sort(x0[:, 0]) - jnp.sort(eps[:, 0])) ** 2))", "root of the mean squared"),
        wrong("sorted_pairing_cost = lambda x0, eps: None", NOT_DONE),
    ],
}

_CH13_GRAD = """
def classifier_grad(x, t, c):
    eps_uncond = dv.optimal_eps(schedule, toy.mixture, x, t)
    eps_cond = dv.class_conditional_eps(schedule, toy, x, t, c)
    return (eps_uncond - eps_cond) / jnp.sqrt(schedule.one_minus_alpha_bars[t])
"""

_CH13_SLOPE = """
def slope(t):
    abar = schedule.alpha_bars[t]
    return 2 * jnp.sqrt(abar) * 0.95 / (abar * 0.3**2 + 1 - abar)
"""

CASES["13_guidance"] = {
    "ch13_ex1": [
        right(_CH13_GRAD),
        right("""
            def classifier_grad(x, t, c):  # the difference of two scores, in NumPy
                own = dv.mixture_score(schedule, dv.class_mixture(toy, c), x, t)
                every = dv.mixture_score(schedule, toy.mixture, x, t)
                return np.asarray(own) - np.asarray(every)
        """),
        wrong(_CH13_GRAD.replace("(eps_uncond - eps_cond)", "(eps_cond - eps_uncond)"), "wrong sign"),
        wrong(_CH13_GRAD.replace("/ jnp.sqrt(schedule.one_minus_alpha_bars[t])", "* jnp.sqrt(schedule.one_minus_alpha_bars[t])"), "do not multiply"),
        wrong(_CH13_GRAD.replace("/ jnp.sqrt(schedule.one_minus_alpha_bars[t])", ""), "without dividing"),
        wrong("classifier_grad = lambda x, t, c: None", NOT_DONE),
    ],
    "ch13_ex2": [
        right(_CH13_SLOPE + "p_at_half = 1 / (1 + jnp.exp(-slope(300) * 0.5))"),
        right("""
            def slope(t):  # floats, not arrays
                abar = float(schedule.alpha_bars[t])
                return 2 * abar**0.5 * 0.95 / (0.09 * abar + 1 - abar)
            p_at_half = np.asarray(dv.noisy_classifier(schedule, toy_1d, jnp.array([[0.5]]), 300))[0, 1:]  # shape (1,)
        """),
        wrong(_CH13_SLOPE.replace("2 * jnp.sqrt(abar)", "2 * abar"), "square root"),
        wrong(_CH13_SLOPE.replace("2 * jnp.sqrt(abar) * 0.95", "2 * 0.95"), "clean means"),
        wrong(_CH13_SLOPE.replace("return 2 *", "return 1 *"), "half the right one"),
        wrong(_CH13_SLOPE.replace("(abar * 0.3**2 + 1 - abar)", "0.3**2"), "clean variance"),
        wrong("slope = lambda t: None", NOT_DONE),
        wrong(_CH13_SLOPE + "p_at_half = 1 / (1 + jnp.exp(slope(300) * 0.5))", "class 0"),
        wrong(_CH13_SLOPE + "p_at_half = 1 / (1 + jnp.exp(-slope(0) * 0.5))", "clean classifier"),
        wrong("p_at_half = ...", NOT_DONE),
    ],
    "ch13_ex3": [
        right("spread_grows = False\nfavoured_mode = 1\nlog_likelihood_rises = False"),
        right("spread_grows = np.bool_(False)\nfavoured_mode = np.int64(1)\nlog_likelihood_rises = np.bool_(False)"),
        wrong("spread_grows = True", "shrinks"),
        wrong("favoured_mode = 0", "borders another class"),
        wrong("favoured_mode = 2", "borders another class"),
        wrong("favoured_mode = 45", "should be 0, 1 or 2"),
        wrong("log_likelihood_rises = True", "so it falls"),
        wrong("spread_grows = ...", NOT_DONE),
    ],
}

# --- the tests -----------------------------------------------------------------------------------

GRADED = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if questions(nbformat.read(p, as_version=4)))


def test_every_question_has_answers_to_try():
    """Every question of every graded chapter, and only those, is tried: two right answers at least,
    in different forms, and the usual wrong ones."""
    assert [p.stem for p in GRADED] == sorted(CASES)
    for path in GRADED:
        names = list(questions(nbformat.read(path, as_version=4)))
        assert list(CASES[path.stem]) == names, f"{path.stem}: answers for {list(CASES[path.stem])}, questions {names}"
        for name, answers in CASES[path.stem].items():
            assert sum(a.right for a in answers) >= 2, f"{name}: at least two right answers, in different forms"
            assert sum(not a.right for a in answers) >= 1, f"{name}: no wrong answer"
            assert all(a.right or a.words for a in answers)


def test_grading_of_an_answer_can_fail():
    ok, err = right("x = 1"), wrong("x = 2", "too big")
    assert problems_with("q", ok, [["pass", "", []]]) == []
    assert problems_with("q", ok, [["pass", "", ["RuntimeWarning: divide by zero"]]])  # a check that warns
    assert problems_with("q", ok, [["fail", "x is wrong", []]])  # a right answer rejected
    assert problems_with("q", ok, [["error", "TypeError: ...", []]])  # a check that crashes
    assert problems_with("q", err, [["fail", "x is too big", []], ["pass", "", []]]) == []
    assert problems_with("q", err, [["pass", "", []]])  # a wrong answer that passes
    assert problems_with("q", err, [["fail", "x is wrong", []]])  # the wrong message
    assert problems_with("q", err, [["fail", "x is too big", []], ["error", "TypeError: ...", []]])


@pytest.mark.slow
@pytest.mark.parametrize("path", GRADED, ids=lambda p: p.stem)
def test_the_checks_grade_every_answer_right(path, tmp_path, record_property):
    import time

    start = time.perf_counter()
    results = try_answers(path, CASES[path.stem], tmp_path)
    record_property("wall_seconds", round(time.perf_counter() - start, 1))
    found = [p for name, answers in CASES[path.stem].items() for a, r in zip(answers, results[name]) for p in problems_with(name, a, r)]
    assert found == [], "\n".join(found)
