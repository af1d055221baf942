#!/usr/bin/env bash
# GPU figures, within 8 minutes: training throughput at the blog's setting (MobileNetV2 alpha
# 1.0, 224x224, both placements, mixed precision off and on; gpu_throughput.py), then a short
# GPU study (16 trials of the gpu preset on Fashion-MNIST at 224x224, compiled models reused
# per architecture) and its analysis.
#
#   bash benchmarks/gpu.sh [OUT_DIR]        # default OUT_DIR: $OUT, else reports/gpu
#
# Works where the project is installed (`make setup`; PYTHON=.venv/bin/python) and on a GPU
# host without network or TensorFlow: wheels found in .whl/ are installed into a private
# folder first, Keras runs on JAX (KERAS_BACKEND defaults to jax here), and Fashion-MNIST is
# read from BNSTUDY_FASHION_MNIST_DIR, else from .fmnist/ (a copy of the Debian package's
# four .gz files), else from the Debian package. The study trains from arrays in memory when
# TensorFlow is missing, so augmentation is off.
#
# Sizes can be changed for a dry run on a CPU, e.g.
#   THROUGHPUT_ARGS="--alpha 0.35 --image-size 32 --steps 2 --reps 1" \
#   STUDY_ARGS="--image-size 32 --train-size 256 --val-size 128 --n-trials 2 --epochs 1" \
#   PYTHON=.venv/bin/python bash benchmarks/gpu.sh /tmp/gpu-dry-run
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-reports/gpu}}
mkdir -p "$out"
python=${PYTHON:-python3}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2

if [ -d .whl ] && ! $python -c "import keras, keras_tuner, optuna" 2>/dev/null; then
  $python -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/bnstudy-site .whl/*.whl
  export PYTHONPATH=/tmp/bnstudy-site${PYTHONPATH:+:$PYTHONPATH}
fi
if [ -z "${BNSTUDY_FASHION_MNIST_DIR:-}" ] && [ -d .fmnist ]; then
  export BNSTUDY_FASHION_MNIST_DIR=$PWD/.fmnist
fi

started=$SECONDS
date -u '+%Y-%m-%d %H:%M UTC'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "KERAS_BACKEND=$KERAS_BACKEND; $($python -c 'import sys; print(sys.version.split()[0])')"

echo "== 1. throughput"
# shellcheck disable=SC2086  # the extra arguments are meant to split
timeout 270 $python benchmarks/gpu_throughput.py --budget 180 ${THROUGHPUT_ARGS:-} \
  | tee "$out/throughput.md" || echo "throughput stopped early (exit $?)"

echo "== 2. short study ($((SECONDS - started)) s so far)"
storage="sqlite:///$out/gpu.db"
# shellcheck disable=SC2086
timeout 210 $python -m study.search --preset gpu --dataset fashion_mnist --no-augment \
  --storage "$storage" --study-name gpu_short --n-trials 16 --epochs 2 --train-size 4096 \
  --val-size 1024 --timeout 120 ${STUDY_ARGS:-} | tee "$out/study.log" \
  || echo "study stopped early (exit $?)"
$python - "$storage" <<'EOF' | tee -a "$out/study.log"
import sys

import optuna

study = optuna.load_study(study_name="gpu_short", storage=sys.argv[1])
for t in study.trials:
    a = t.user_attrs
    print(f"trial {t.number}: {t.state.name}, {t.params}, value {t.value}, "
          f"{a.get('epochs_run')} epochs, train {a.get('train_seconds')} s, "
          f"{a.get('images_per_second')} img/s, {a.get('compiled_model')} model, epochs "
          f"{a.get('epoch_seconds')} s (epoch 1 - epoch 2 = compile time), wall "
          f"{(t.datetime_complete - t.datetime_start).total_seconds():.1f} s")
EOF

echo "== 3. analysis ($((SECONDS - started)) s so far)"
timeout 60 $python -m analysis --storage "$storage" --study-name gpu_short \
  --out "$out/report" --no-note | tail -n 15 || echo "analysis did not finish"
if [ -d "$out/report" ]; then  # one file: the device tool brings back at most 8
  tar -czf "$out/report.tgz" -C "$out" report && rm -rf "$out/report"
fi
echo "== total $((SECONDS - started)) s"
