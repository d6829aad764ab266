"""How long each chapter takes to run top to bottom in a fresh kernel, and the whole series.

Every notebook in ``notebooks/`` is executed with nbclient in a new ``python3`` kernel, one
after another, on a temporary copy (the stored file is never written), as
``tests/test_notebooks.py`` does. A chapter's time runs from starting its kernel to the end
of its last cell. Targets: the whole series under 8 minutes, no chapter over 3 minutes
(judged on the wall-clock seconds). The CPU seconds the kernel process used (all its
threads; read by one extra cell appended to the copy) are printed too: on a machine shared
with other jobs they vary much less than wall-clock time.

The persistent XLA compilation cache (``--cache``):

* ``off`` (default): no persistent cache, every kernel compiles every jitted function;
* ``cold``: a new, empty cache folder shared by the chapters of this run (what a first
  ``make lab`` or a test session gets: a chapter reuses what earlier chapters compiled);
* ``warm``: a first, untimed pass fills a new cache folder, then the timed pass reads it
  (what a learner gets on a second visit with ``make lab``). Takes twice as long.

    .venv/bin/python benchmarks/notebook_times.py [--only 02 03] [--cache off|cold|warm]
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
SERIES_TARGET_S = 8 * 60
CHAPTER_TARGET_S = 3 * 60
CELL_TIMEOUT_S = 600


def chapters(only: list[str] | None) -> list[Path]:
    found = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if only:
        found = [p for p in found if any(p.name.startswith(prefix) for prefix in only)]
        if not found:
            sys.exit(f"no notebook in notebooks/ starts with any of {only}")
    return found


CPU_CELL = "import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); print(repr(_u.ru_utime + _u.ru_stime))"


def run_chapter(path: Path, scratch: Path) -> tuple[float, float, str]:
    """Execute a temporary copy of ``path`` in a fresh kernel: (seconds, CPU seconds, error or '')."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{path.stem}-", dir=scratch))
    copy = Path(shutil.copy(path, workdir / path.name))
    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CPU_CELL))
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    start = time.perf_counter()
    error, cpu = "", float("nan")
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).strip().splitlines()[-1][:100]
    seconds = time.perf_counter() - start
    if not error:
        cpu = ast.literal_eval("".join(o.get("text", "") for o in nb.cells[-1].outputs).strip())
    return seconds, cpu, error


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--only", nargs="+", metavar="NN", help="chapters whose file name starts with these (e.g. 02 03)")
    parser.add_argument("--cache", choices=("off", "cold", "warm"), default="off", help="persistent XLA cache (see above)")
    args = parser.parse_args()
    paths = chapters(args.only)

    # The kernels inherit these: isolated tool folders (as in the tests), and the XLA cache.
    scratch = Path(tempfile.mkdtemp(prefix="diffviz-notebook-times-"))
    for var, sub in (("MPLCONFIGDIR", "mpl"), ("JUPYTER_CONFIG_DIR", "jupyter"), ("IPYTHONDIR", "ipython")):
        os.environ[var] = str(scratch / sub)
    for var in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"):
        os.environ.pop(var, None)
    if args.cache != "off":
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(scratch / "jax-cache")
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # as `make lab` sets it

    try:
        print(f"{len(paths)} chapter(s), XLA cache {args.cache}, {os.cpu_count()} CPUs, {load_average()} at the start")
        if args.cache == "warm":
            start = time.perf_counter()
            for path in paths:
                run_chapter(path, scratch)
            print(f"warm-up pass (untimed, fills the cache): {time.perf_counter() - start:.0f} s")

        print(f"\n{'chapter':40s} {'seconds':>8s} {'kernel CPU s':>13s}")
        results = []
        for path in paths:
            seconds, cpu, error = run_chapter(path, scratch)
            results.append((path.stem, seconds, cpu, error))
            note = f"   ERROR: {error}" if error else ""
            print(f"{path.stem:40s} {seconds:8.1f} {cpu:13.1f}{note}", flush=True)
        total = sum(r[1] for r in results)
        slowest = max(results, key=lambda r: r[1])
        print(f"{'total':40s} {total:8.1f} {sum(r[2] for r in results):13.1f}")
        print(f"\n{load_average()} at the end")
        series = "series" if len(paths) == len(chapters(None)) else f"series (only {len(paths)} of its chapters)"
        print(f"{verdict(total < SERIES_TARGET_S)}  whole {series} under {SERIES_TARGET_S / 60:.0f} min: {total:.0f} s")
        print(
            f"{verdict(slowest[1] <= CHAPTER_TARGET_S)}  no chapter over {CHAPTER_TARGET_S / 60:.0f} min: "
            f"slowest {slowest[0]} {slowest[1]:.0f} s"
        )
        failed = [r[0] for r in results if r[3]]
        print(f"{verdict(not failed)}  every chapter ran without an error" + (f": failed {failed}" if failed else ""))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
