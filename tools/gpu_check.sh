#!/usr/bin/env bash
# The GPU in one command: on a machine with an NVIDIA GPU, CuPy and Python >= 3.11
# (e.g. Python 3.12, NumPy 2, CuPy 14, no chainer, no network), in under 10 minutes:
#   0. installs what `make gpu-bundle` packed into .gpu/ on a CPU machine (the chainer
#      7.8.1 wheel, setuptools<74 for its pkg_resources import, mlxtend) into /tmp/site,
#      and uses the MNIST files packed beside them;
#   1. prints what Chainer sees (CuPy version, cuda.available, cudnn_enabled);
#   2. runs every experiment with --quick --gpu 0 (seconds each, a table of exit codes);
#   3. checks CPU/GPU parity (tools/gpu_parity.py);
#   4. measures the speed of aae_gaussian.py (Fig. 2) on the GPU: one epoch of full MNIST;
#   5. spends the minutes left on the longest paper-protocol run, aae_semisupervised with
#      100 labels, time-limited and resumable (--resume its snapshot on the next machine).
# Everything it finds goes to $OUT (default /tmp/gpu_check), flat, at most 8 files.
# Usage: bash tools/gpu_check.sh, with .gpu/ beside the checkout (under 10 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
MINUTES=${GPU_CHECK_MINUTES:-9}
mkdir -p "$OUT"
end=$((SECONDS + MINUTES * 60))
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 MNIST_DIR=${MNIST_DIR:-$PWD/.gpu/mnist}
PY=${PYTHON:-python3}
summary="$OUT/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }

# 0. install
if ls .gpu/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .gpu/*.whl || { note "install failed"; exit 2; }
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi

# 1. runtime
$PY - > "$OUT/runtime.txt" 2>&1 <<'PYEOF'
import chainer_compat  # noqa: F401
import chainer
from chainer.backends import cuda
chainer.print_runtime_info()
print('cuda.available', cuda.available, 'cudnn_enabled', cuda.cudnn_enabled)
if cuda.available:
    import cupy
    print('device', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())
PYEOF
note "runtime: $(tail -n 2 "$OUT/runtime.txt" | tr '\n' ' ')"

# 2. every experiment, --quick --gpu 0
printf 'script\texit\tseconds\n' > "$OUT/quick.tsv"
for script in experiments/*.py; do
  name=$(basename "$script" .py)
  [ "$name" = report ] && continue
  t0=$SECONDS
  timeout 180 $PY "$script" --quick --gpu 0 --out "/tmp/gpu_quick/$name" \
    > "/tmp/gpu_quick_$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >> "$OUT/quick.tsv"
  [ "$rc" -eq 0 ] || tail -n 5 "/tmp/gpu_quick_$name.log" | sed "s/^/  $name: /" >> "$summary"
done
note "quick runs: $(awk -F'\t' 'NR>1 && $2==0' "$OUT/quick.tsv" | wc -l) of \
$(($(wc -l < "$OUT/quick.tsv") - 1)) exit 0"

# 3. parity
$PY tools/gpu_parity.py --device @cupy:0 > "$OUT/parity.txt" 2>&1
note "$(tail -n 1 "$OUT/parity.txt")"

# 4. speed of aae_gaussian.py on the GPU (one epoch of 60,000 images; CPU: docs/performance.md)
$PY experiments/aae_gaussian.py --gpu 0 --epoch 1 --out /tmp/gpu_speed \
  > /tmp/gpu_speed.log 2>&1 && cp /tmp/gpu_speed/results.json "$OUT/speed_results.json"
note "aae_gaussian on the GPU: $($PY -c "import json; r = json.load(open('/tmp/gpu_speed/results.json')); print('%.0f train images/s' % r['train_images_per_second'])" 2>/dev/null || echo failed)"

# 5. the minutes left: the Table 2 run (time-limited, resumable)
left=$(( (end - SECONDS) / 60 - 1 ))
if [ "$left" -ge 2 ]; then
  $PY experiments/aae_semisupervised.py --gpu 0 --labels 100 --epoch 2000 \
    --time-limit "$left" --out /tmp/gpu_long > /tmp/gpu_long.log 2>&1
  cp /tmp/gpu_long/results.json "$OUT/long_results.json" 2>/dev/null
  cp /tmp/gpu_long/log "$OUT/long_log.json" 2>/dev/null
  note "long run: $left min, $(grep -o 'test_error_percent[^,]*' /tmp/gpu_long/results.json 2>/dev/null | head -n 1)"
else
  note "long run: skipped, $left min left"
fi
cat "$summary"
