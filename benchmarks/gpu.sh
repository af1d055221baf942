#!/usr/bin/env bash
# GPU figures, within 8 minutes: training throughput at the blog's setting (MobileNetV2 alpha
# 1.0, 224x224, batch 128 and 256, float32 vs mixed bf16 vs mixed fp16, fed the new way (uint8
# as stored, resized on the device) and the old way (float32 224x224 from the host), side by
# side; gpu_throughput.py), then a short GPU study (16 trials of the gpu preset: Fashion-MNIST
# at 224x224, precision auto, augmentation on the device, compiled models reused per
# architecture) and its analysis. Each part has a time limit, so the whole stays under 8 min.
#
#   bash benchmarks/gpu.sh [OUT_DIR]        # default OUT_DIR: $OUT, else reports/gpu
#
# Works where the project is installed (`make setup`; PYTHON=.venv/bin/python) and on a GPU
# host without network or TensorFlow: wheels found in .whl/ are installed into a private
# folder first, Keras runs on JAX (KERAS_BACKEND defaults to jax here), and Fashion-MNIST is
# read from BNSTUDY_FASHION_MNIST_DIR, else from .fmnist/ (a copy of the Debian package's
# four .gz files), else from the Debian package. `bash benchmarks/gpu_carry.sh` makes .whl/ and
# .fmnist/ here, for the device tool's `carry`. The study trains from uint8 arrays in memory
# when TensorFlow is missing; resizing and augmentation happen in the model, on the device.
#
# Sizes can be changed for a dry run on a CPU (STUDY_ARGS come last and win), e.g.
#   THROUGHPUT_ARGS="--alpha 0.35 --image-size 32 --batch-sizes 16 32 --steps 2 --reps 1" \
#   STUDY_ARGS="--image-size 32 --train-size 256 --val-size 128 --n-trials 4 --epochs 1" \
#   PYTHON=.venv/bin/python bash benchmarks/gpu.sh /tmp/gpu-dry-run
# Time shares (seconds): THROUGHPUT_BUDGET (default 150; the part is killed 30 s after it) and
# STUDY_TIMEOUT (default 170: no trial starts later; killed 50 s after it); the analysis gets
# 40. PARTS="throughput" or PARTS="study" runs one part alone (the study part includes the
# analysis) with the same limits. Compilation is most of both parts' time on a GPU (17-81 s per
# MobileNetV2 at 224x224 on an H200, section 7 of benchmarks/README.md): the throughput part
# warms its models up in order of importance and lists those it had no time for. XLA_FLAGS
# reaches both parts (e.g. --xla_gpu_autotune_level=0 trades possibly slower convolutions for
# shorter compiles).
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

# JAX's compilation cache would sit beside gpu.db in $out, and the device tool brings back at
# most 8 files from there: a fresh folder outside it, shared by this run's trials only.
export BNSTUDY_JAX_CACHE=${BNSTUDY_JAX_CACHE:-$(mktemp -d)}

throughput_budget=${THROUGHPUT_BUDGET:-150}
study_timeout=${STUDY_TIMEOUT:-170}
parts=${PARTS:-throughput study}
started=$SECONDS
date -u '+%Y-%m-%d %H:%M UTC'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "KERAS_BACKEND=$KERAS_BACKEND; $($python -c 'import sys; print(sys.version.split()[0])')"

if [[ " $parts " == *" throughput "* ]]; then
  echo "== 1. throughput"
  # shellcheck disable=SC2086  # the extra arguments are meant to split
  timeout $((throughput_budget + 30)) $python benchmarks/gpu_throughput.py \
    --budget "$throughput_budget" ${THROUGHPUT_ARGS:-} | tee "$out/throughput.md" \
    || echo "throughput stopped early (exit $?)"
fi
if [[ " $parts " != *" study "* ]]; then
  echo "== total $((SECONDS - started)) s"
  exit 0
fi

echo "== 2. short study ($((SECONDS - started)) s so far)"
storage="sqlite:///$out/gpu.db"
# --timeout: no trial starts after $study_timeout s, so the part ends one trial later.
# shellcheck disable=SC2086
timeout $((study_timeout + 50)) $python -m study.search --preset gpu --storage "$storage" \
  --study-name gpu_short --n-trials 16 --epochs 2 --train-size 4096 --val-size 1024 \
  --timeout "$study_timeout" ${STUDY_ARGS:-} \
  | tee "$out/study.log" \
  || echo "study stopped early (exit $?)"
$python - "$storage" <<'EOF' | tee -a "$out/study.log"
import sys

import optuna

study = optuna.load_study(study_name="gpu_short", storage=sys.argv[1])
states = [t.state.name for t in study.storage.trials]
print(f"{states.count('COMPLETE')} COMPLETE, {states.count('PRUNED')} PRUNED of "
      f"{len(states)} trials; models: {[t.user_attrs.get('compiled_model') for t in study.storage.trials]}")
for t in study.storage.trials:
    a = t.user_attrs
    print(f"trial {t.number}: {t.state.name}, {t.params}, value {t.value}, "
          f"{a.get('epochs_run')} epochs, train {a.get('train_seconds')} s, "
          f"{a.get('images_per_second')} img/s, {a.get('compiled_model')} model, "
          f"{a.get('dtype_policy')}, epochs {a.get('epoch_seconds')} s (epoch 1 - epoch 2 = "
          f"compile time), wall {(t.datetime_complete - t.datetime_start).total_seconds():.1f} s"
          if t.datetime_complete else f"trial {t.number}: {t.state.name}")
EOF

echo "== 3. analysis ($((SECONDS - started)) s so far)"
timeout 40 $python -m analysis --storage "$storage" --study-name gpu_short \
  --out "$out/report" --no-note | tail -n 15 || echo "analysis did not finish"
if [ -d "$out/report" ]; then  # one file: the device tool brings back at most 8
  tar -czf "$out/report.tgz" -C "$out" report && rm -rf "$out/report"
fi
echo "== total $((SECONDS - started)) s"
