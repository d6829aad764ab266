#!/usr/bin/env bash
# The GPU figures in one go, on a Linux machine with an NVIDIA GPU. From the repository root:
#
#   bash benchmarks/gpu_run.sh OUT_DIR          (e.g. benchmarks/results/gpu-2026-12-06)
#
# 1. JAX on the GPU. If jax.devices() of the Python below (PY) already shows a GPU, nothing is
#    installed: on a machine with no package index, point PY at a Python that has the CUDA
#    build of jax 0.10.x and diffviz's other dependencies (diffviz itself is taken from this
#    checkout: PYTHONPATH). Otherwise the `gpu` extra (jax[cuda12], the same pinned jax) is installed into
#    that environment with `pip install -c constraints.txt -e .[gpu]`, from pip's configured
#    index. OFFLINE: that works only if the configured index (or PIP_FIND_LINKS=a wheelhouse
#    with PIP_NO_INDEX=1) serves jax-cuda12-plugin and jax-cuda12-pjrt 0.10.2 and NVIDIA's
#    CUDA 12 wheels (a few GB). If it cannot, the script stops there and says so: figures
#    measured on the CPU are not GPU figures.
# 2. The machine: nvidia-smi, CPU model and JAX's devices (benchmarks/machine.py).
# 3. benchmarks/train_throughput.py (JAX; PyTorch too, on CUDA, if torch is installed) and
#    benchmarks/sampling_speed.py, ROUNDS rounds each (default 3).
# 4. Chapters 6 and 9 executed top to bottom in a fresh kernel each (jupyter nbconvert), on
#    copies in OUT_DIR/chapters (the executed notebooks, with their outputs, stay there).
#
# Everything goes to OUT_DIR: one log per step and timings.txt (seconds and exit status per
# step). Takes a few minutes on a GPU, plus the install. The exit status is non-zero if a step
# failed. Settings (environment variables):
#   PY=.venv/bin/python   the environment to use (`make lab` or `make test` makes .venv;
#                         without one, python3)
#   ROUNDS=3              rounds of each benchmark
#   INSTALL=0             never install the gpu extra
#   REQUIRE_GPU=0         go on without a GPU (only to try this script out on a CPU machine)
#   BENCH=0               skip the two benchmarks
#   CHAPTERS="06_training 09_digits"   the chapters to execute ("" for none)
#   SAMPLING_ARGS=        more arguments for sampling_speed.py (e.g. --train-steps 100 for a try-out)
set -uo pipefail

out=${1:?usage: bash benchmarks/gpu_run.sh OUT_DIR}
ROUNDS=${ROUNDS:-3}
INSTALL=${INSTALL:-1}
REQUIRE_GPU=${REQUIRE_GPU:-1}
CHAPTERS=${CHAPTERS-06_training 09_digits}
SAMPLING_ARGS=${SAMPLING_ARGS:-}
BENCH=${BENCH:-1}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${PY:-}" ]; then
  PY=.venv/bin/python
  [ -x "$PY" ] || PY=$(command -v python3)
fi
[ -x "$PY" ] || { echo "no Python at '$PY': run 'make lab' (or set PY=...)" >&2; exit 2; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"   # this checkout's diffviz, for the chapters' kernels too
export PYTHONUNBUFFERED=1
mkdir -p "$out/chapters"
out=$(cd "$out" && pwd)
: > "$out/timings.txt"
failed=0

# step NAME COMMAND...: run COMMAND, its output to OUT/NAME.log (and the screen), time it.
step() {
  local name=$1; shift
  local start ms rc
  start=$(date +%s%N)
  "$@" 2>&1 | tee "$out/$name.log"
  rc=${PIPESTATUS[0]}
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf '%-24s %6d.%01d s  exit %d\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) "$rc" | tee -a "$out/timings.txt"
  [ "$rc" -eq 0 ] || failed=1
  return "$rc"
}

on_gpu() { "$PY" -c 'import jax, sys; sys.exit(0 if jax.devices()[0].platform == "gpu" else 1)' 2>/dev/null; }

if on_gpu; then
  echo "JAX already sees a GPU: nothing to install" | tee "$out/install.log"
else
  if [ "$INSTALL" = 1 ]; then
    step install "$PY" -m pip install -c constraints.txt -e '.[gpu]' || true
  fi
  if ! on_gpu && [ "$REQUIRE_GPU" = 1 ]; then
    why="INSTALL=0"
    [ "$INSTALL" = 1 ] && why="after installing the gpu extra: see $out/install.log (offline, with no CUDA wheels in pip's index?)"
    echo "JAX sees no GPU ($why); stopping: figures measured on the CPU are not GPU figures." | tee -a "$out/timings.txt" >&2
    "$PY" -c 'import jax; print(jax.devices())' 2>&1 | tee -a "$out/timings.txt"
    exit 1
  fi
fi

step machine bash -c "nvidia-smi || true; \"$PY\" benchmarks/machine.py; \"$PY\" -c 'import jax; print(jax.devices())'"
if [ "$BENCH" = 1 ]; then
  step train_throughput "$PY" benchmarks/train_throughput.py --rounds "$ROUNDS" --batches 32 512 2048 8192
  # shellcheck disable=SC2086  # SAMPLING_ARGS: several words
  step sampling_speed "$PY" benchmarks/sampling_speed.py --rounds "$ROUNDS" $SAMPLING_ARGS
fi

for chapter in $CHAPTERS; do
  cp "notebooks/$chapter.ipynb" "$out/chapters/"
  step "chapter_${chapter%%_*}" "$PY" -m jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=1200 "$out/chapters/$chapter.ipynb"
done

echo "== $out/timings.txt"
cat "$out/timings.txt"
exit "$failed"
