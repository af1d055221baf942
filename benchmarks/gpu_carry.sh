#!/usr/bin/env bash
# What a lent GPU host needs from here to run benchmarks/gpu.sh offline, made in one step:
# .whl/    wheels of the packages our code imports that the host's image lacks (keras,
#          keras-tuner, optuna and what they need beyond the image), at the versions installed
#          in this project's .venv, built for the host's Python (3.12, x86-64, by default);
# .fmnist/ a copy of the Debian package's four Fashion-MNIST files.
# Both folders are git-ignored; name them in the device tool's `carry`:
#
#   bash benchmarks/gpu_carry.sh                 # here, needs the package registry
#   run(command="bash benchmarks/gpu.sh $OUT", carry=[".whl", ".fmnist"], timeout_s=540)
#
# The host's image holds the rest of what these need (the device README's KINDS.md lists its
# packages): numpy, scipy, pandas, matplotlib, scikit-learn, pillow, h5py, rich, absl-py,
# ml-dtypes, requests, protobuf, grpcio, PyYAML, tqdm, MarkupSafe, JAX, and six, which
# keras-tuner imports without declaring it. None of those is carried: a wheel in .whl/ would
# shadow the host's build of it. PYTHON_VERSION=3.11 makes wheels for another Python (e.g. to
# rehearse here in a virtual environment holding only those).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
python_version=${PYTHON_VERSION:-3.12}
abi=cp${python_version//./}
# What the image lacks: our three libraries and their own requirements missing there.
packages=(keras namex optree keras-tuner kt-legacy optuna alembic Mako SQLAlchemy colorlog)

pins=()
for name in "${packages[@]}"; do
  version=$($python -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" \
    "$name")
  pins+=("$name==$version")
done
rm -rf .whl
$python -m pip download -q --dest .whl --no-deps --only-binary=:all: \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 --python-version "$python_version" \
  --implementation cp --abi "$abi" --abi abi3 --abi none "${pins[@]}"

mkdir -p .fmnist
cp /usr/share/datasets/fashion-mnist/*-ubyte.gz .fmnist/
echo "wheels: ${pins[*]}"
du -sh .whl .fmnist
