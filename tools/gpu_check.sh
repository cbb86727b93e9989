#!/usr/bin/env bash
# The GPU check, decisive in under 6 minutes of command time. On a machine with an NVIDIA
# GPU, CuPy and Python >= 3.11, in this order, each step under its own time limit and all
# under one deadline (GPU_CHECK_SECONDS, default 330 s), each step writing its results to
# $OUT as it finishes (four flat files: summary.json, check.log, quick_logs.tgz,
# kernel_cache.tgz; the steps' own files are in $GPU_CHECK_WORK, default /tmp/gpu_check_work):
#   0. install what `make gpu-bundle` packed into .gpu/ (the chainer 7.8.1 wheel, setuptools
#      <74 for its pkg_resources import, mlxtend; MNIST beside them) into /tmp/site, and
#      unpack a kernel cache from an earlier run (.gpu/kernel_cache.tgz), so it starts warm;
#   1. preflight (tools/gpu_preflight.py): versions, the device, chainer's reason when it
#      cannot use CUDA, one matmul / element-wise / reduction / random draw: exit 2 at once
#      if CUDA is unavailable;
#   2. parity (tools/gpu_parity.py): gradients and parameter updates of one step of every
#      phase, CPU against GPU;
#   3. every experiment with --quick --gpu 0, in parallel, each under a time limit; plus a
#      GPU run resumed on the GPU and a CPU snapshot resumed on the GPU (--resume);
#   4. the synchronised step time of the AAE and the DCGAN (tools/gpu_speed.py);
#   5. one summary, $OUT/summary.json (rewritten after every step), and CuPy's kernel cache
#      packed into $OUT/kernel_cache.tgz (copy it to .gpu/ for the next run).
# Exit status: 0 all passed, 1 something failed or ran out of time, 2 no usable GPU.
# Usage: bash tools/gpu_check.sh [--dry-run], with .gpu/ beside the checkout (< 6 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
DEADLINE=${GPU_CHECK_SECONDS:-330}
# step: name, time limit in seconds (each also stops DEADLINE - RESERVE s after the start)
STEPS="install:20 preflight:40 parity:80 quick:150 speed:30"
RESERVE=10                      # for the summary and the kernel cache
QUICK_JOBS=${GPU_CHECK_JOBS:-8}
# GPU_CHECK_DEVICE=@numpy runs every step on the CPU (the script's own test, slow);
# GPU_CHECK_SCRIPTS: the quick runs' scripts (default every experiments/*.py but those in
# NOT_TRAINING, which read other runs' outputs and take no --gpu)
DEVICE=${GPU_CHECK_DEVICE:-@cupy:0}
GPU=$([ "$DEVICE" = @numpy ] && echo -1 || echo "${DEVICE#@cupy:}")
NOT_TRAINING="report aae_fig2_panels"
SCRIPTS=${GPU_CHECK_SCRIPTS:-$(for s in experiments/*.py; do
  case " $NOT_TRAINING " in *" $(basename "$s" .py) "*) ;; *) echo "$s" ;; esac; done)}

if [ "${1:-}" = "--dry-run" ]; then
  echo "gpu_check: deadline ${DEADLINE} s (GPU_CHECK_SECONDS), ${RESERVE} s kept for the summary"
  t=0
  for step in $STEPS; do
    t=$((t + ${step#*:}))
    printf '  %-10s at most %3s s (by %3s s)\n' "${step%%:*}" "${step#*:}" "$t"
  done
  printf '  %-10s summary.json, check.log, quick_logs.tgz, kernel_cache.tgz\n' summary
  echo "quick runs: $(echo $SCRIPTS | wc -w) scripts + 2 resumes, $QUICK_JOBS at a time; \
device $DEVICE; output: $OUT"
  exit 0
fi

WORK=${GPU_CHECK_WORK:-/tmp/gpu_check_work}
rm -rf "$WORK" && mkdir -p "$OUT" "$WORK"
: > "$OUT/check.log"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
[ -d .gpu/mnist ] && export MNIST_DIR=${MNIST_DIR:-$PWD/.gpu/mnist}
export CUPY_CACHE_DIR=${CUPY_CACHE_DIR:-/tmp/cupy_cache}
PY=${PYTHON:-python3}
START=$SECONDS
STATUS=0
: > "$WORK/steps.tsv"

budget() {        # seconds step $1 may take: its limit, cut to the deadline
  local limit
  limit=$(for s in $STEPS; do [ "${s%%:*}" = "$1" ] && echo "${s#*:}"; done)
  local left=$((DEADLINE - RESERVE - (SECONDS - START)))
  [ "$left" -lt "$limit" ] && limit=$left
  echo "$limit"
}

summary() {       # $OUT/summary.json from what the steps wrote so far
  $PY - "$OUT" "$WORK" "$STATUS" "$((SECONDS - START))" "$DEADLINE" <<'PYEOF'
import json, os, sys
out, work = sys.argv[1:3]
status, elapsed, deadline = (int(a) for a in sys.argv[3:6])
def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
steps = {}
for line in open(os.path.join(work, 'steps.tsv')):
    name, rc, seconds, note = (line.rstrip('\n').split('\t') + [''] * 4)[:4]
    steps[name] = {'exit': int(rc), 'seconds': int(seconds), 'note': note}
quick = []
if os.path.exists(os.path.join(work, 'quick.tsv')):
    for line in open(os.path.join(work, 'quick.tsv')):
        name, rc, seconds, last = (line.rstrip('\n').split('\t') + [''] * 4)[:4]
        quick.append({'run': name, 'exit': int(rc), 'seconds': int(seconds), 'last_line': last})
summary = {'exit_status': status, 'seconds': elapsed, 'deadline_seconds': deadline,
           'steps': steps, 'preflight': load('preflight.json'), 'parity': load('parity.json'),
           'quick': quick, 'speed': load('speed.json')}
with open(os.path.join(out, 'summary.json.tmp'), 'w') as f:
    json.dump(summary, f, indent=1)
os.replace(os.path.join(out, 'summary.json.tmp'), os.path.join(out, 'summary.json'))
PYEOF
}

record() {        # name, exit status, start second, note
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$((SECONDS - $3))" "${4:-}" >> "$WORK/steps.tsv"
  echo "[$((SECONDS - START)) s] $1: exit $2 ${4:-}" | tee -a "$OUT/check.log"
  [ -f "$WORK/$1.log" ] && sed "s/^/  $1| /" "$WORK/$1.log" >> "$OUT/check.log"
  summary
}

finish() {
  [ -d "$CUPY_CACHE_DIR" ] && tar czf "$OUT/kernel_cache.tgz" -C "$CUPY_CACHE_DIR" . 2>/dev/null
  [ -d /tmp/gpu_quick ] && tar czf "$OUT/quick_logs.tgz" -C /tmp/gpu_quick \
    $(cd /tmp/gpu_quick && ls *.log 2>/dev/null) 2>/dev/null
  summary
  echo "summary: $OUT/summary.json (exit $STATUS, $((SECONDS - START)) s)"
  exit "$STATUS"
}

run_step() {      # name, command...: run it under its budget, record it
  local name=$1 t0=$SECONDS limit rc
  shift
  limit=$(budget "$name")
  if [ "$limit" -le 0 ]; then
    record "$name" 124 "$t0" "skipped: deadline"
    STATUS=1
    return 124
  fi
  timeout -k 5 "$limit" "$@" > "$WORK/$name.log" 2>&1
  rc=$?
  [ "$rc" -eq 124 ] && note="timed out after $limit s" || note=$(tail -n 1 "$WORK/$name.log")
  record "$name" "$rc" "$t0" "$note"
  return "$rc"
}

# 0. install
t0=$SECONDS
if ls .gpu/*.whl > /dev/null 2>&1; then
  timeout "$(budget install)" $PY -m pip install -q --no-index --no-deps --no-compile \
    --no-cache-dir --upgrade --target /tmp/site .gpu/*.whl > "$WORK/install.log" 2>&1
  rc=$?
  export PYTHONPATH=/tmp/site:$PWD
else
  rc=0
  export PYTHONPATH=$PWD
fi
if [ -f .gpu/kernel_cache.tgz ]; then
  mkdir -p "$CUPY_CACHE_DIR" && tar xzf .gpu/kernel_cache.tgz -C "$CUPY_CACHE_DIR"
fi
record install "$rc" "$t0" "$(ls .gpu/*.whl 2>/dev/null | wc -l) wheels"
[ "$rc" -eq 0 ] || { STATUS=1; finish; }

# 1. preflight: no usable GPU -> exit 2 now
run_step preflight $PY tools/gpu_preflight.py --device "$DEVICE" --json "$WORK/preflight.json"
rc=$?
if [ "$rc" -ne 0 ]; then
  STATUS=$([ "$rc" -eq 2 ] && echo 2 || echo 1)
  cat "$WORK/preflight.log"
  finish
fi

# 2. parity
run_step parity $PY tools/gpu_parity.py --device "$DEVICE" --json "$WORK/parity.json" \
  || STATUS=1

# 3. every script --quick --gpu 0, in parallel; two resumes
quick_limit=$(budget quick)
quick_one() {     # name, command...: one run under the quick limit, a line of quick.tsv
  local name=$1 t0=$SECONDS rc
  shift
  timeout -k 5 "$quick_limit" "$@" > "/tmp/gpu_quick/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" \
    "$(tail -n 1 "/tmp/gpu_quick/$name.log" | cut -c1-300)" >> "$WORK/quick.tsv"
  return "$rc"
}
resume_pair() {   # name, the first run's options: 2 epochs; then a 3rd on the GPU from epoch 1
  local name=$1 snap
  shift
  quick_one "$name" $PY experiments/aae_gaussian.py --quick "$@" --epoch 2 \
    --snapshot-interval 1 --out "/tmp/gpu_quick/$name" || return
  snap=$(ls "/tmp/gpu_quick/$name"/snapshot_iter_*.npz | sort -V | head -n 1)
  quick_one "${name}_resumed_on_gpu" $PY experiments/aae_gaussian.py --quick --gpu "$GPU" \
    --epoch 3 --resume "$snap" --out "/tmp/gpu_quick/${name}_resumed"
}
export -f quick_one resume_pair
export quick_limit WORK PY GPU
t0=$SECONDS
rm -rf /tmp/gpu_quick && mkdir -p /tmp/gpu_quick && : > "$WORK/quick.tsv"
if [ "$quick_limit" -lt 20 ]; then           # too little left for a run to finish
  record quick 124 "$t0" "skipped: deadline"
  STATUS=1
else
  {
    for script in $SCRIPTS; do
      name=$(basename "$script" .py)
      echo "quick_one $name $PY $script --quick --gpu $GPU --threads 2 --out /tmp/gpu_quick/$name"
    done
    echo "resume_pair gpu_snapshot --gpu $GPU"
    echo "resume_pair cpu_snapshot --threads 2"
  } | xargs -P "$QUICK_JOBS" -I{} bash -c '{}'
  n=$(wc -l < "$WORK/quick.tsv")
  ok=$(awk -F'\t' '$2 == 0' "$WORK/quick.tsv" | wc -l)
  [ "$n" -gt 0 ] && [ "$ok" -eq "$n" ] || STATUS=1
  record quick "$([ "$n" -gt 0 ] && [ "$ok" -eq "$n" ] && echo 0 || echo 1)" "$t0" \
    "$ok of $n runs exit 0"
fi

# 4. the step time of the AAE and the DCGAN, synchronised
run_step speed $PY tools/gpu_speed.py --device "$DEVICE" --seconds 8 --json "$WORK/speed.json" \
  || STATUS=1

finish
