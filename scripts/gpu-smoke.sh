#!/usr/bin/env bash
# GPU smoke test of the nano3 pretrain hand-off to a real Megatron stack (< 10 minutes).
#
#   scripts/gpu-smoke.sh prepare   # here (CPU, network to PyPI): tiny pretrain data + wheels
#   scripts/gpu-smoke.sh           # on the GPU machine (Python 3.12 + CUDA torch, no internet);
#                                  # .whl/ and .gpu-smoke/ are git-ignored: carry them there
#
# What it proves: our tiny PretrainBlendsArtifact (bin/idx + blend.json written by
# `nemotron nano3 data prep pretrain -c tiny`) is read by megatron-core's
# BlendedMegatronDatasetBuilder(GPTDataset), a tiny GPT trains on it on the GPU (loss printed at
# the start and end), megatron-core's dist_checkpointing writes the checkpoint in the layout
# Megatron-Bridge uses (tracker file + iter_%07d/ torch_dist), and our publication code turns it
# into a ModelArtifact (step from the tracker file, final loss, format) whose input is the data
# artifact. What it does not prove: Megatron-Bridge itself (it needs transformer-engine, too big
# to carry as a wheel) and NeMo-RL; those run from the NeMo / NeMo-RL containers.
# Results (log, registry, result.json) land in $OUT when set, else .gpu-smoke/out.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMOKE="$ROOT/.gpu-smoke"
WHEELS="$ROOT/.whl"

if [ "${1:-}" = "prepare" ]; then
    rm -rf "$SMOKE" && mkdir -p "$SMOKE/prep" "$WHEELS"
    (cd "$SMOKE/prep" && NEMOTRON_ARTIFACTS_ROOT="$SMOKE/prep/registry" \
        uv run --project "$ROOT" --no-sync nemotron nano3 data prep pretrain -c tiny)
    data="$(dirname "$(find "$SMOKE/prep" -name blend.json -not -path '*/registry/*' | head -1)")"
    cp -r "$data" "$SMOKE/pretrain-data"
    pip download -q -d "$WHEELS" --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --no-deps \
        megatron-core==0.19.2 "numpy<2.5" packaging msgspec pyyaml
    echo "prepared: $SMOKE/pretrain-data, wheels in $WHEELS ($(ls "$WHEELS" | wc -l) files)"
    exit 0
fi

OUT="${OUT:-$SMOKE/out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-smoke.log") 2>&1
[ -f "$SMOKE/pretrain-data/blend.json" ] || { echo "run 'scripts/gpu-smoke.sh prepare' first"; exit 2; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
# The image's python3 holds the CUDA torch; the carried wheels go to a side folder on PYTHONPATH.
SITE=/tmp/nemotron-gpu-smoke-site
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" "$WHEELS"/*.whl
PY=python3
PYTHONPATH="$SITE" "$PY" -c "import torch, megatron.core as m; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'megatron-core', m.__version__)"

export PYTHONPATH="$SITE:$ROOT/packages/kit-artifacts/src:$ROOT/packages/recipes-nano3/src"
export NEMOTRON_ARTIFACTS_ROOT="$OUT/registry"
export NEMOTRON_RUN_ID="gpu-smoke-$(date +%s)"
start=$(date +%s)
"$PY" - "$SMOKE/pretrain-data" "$OUT" <<'PYEOF'
import json, subprocess, sys, time
from pathlib import Path

import msgspec
from nemotron.kit.artifacts import PretrainBlendsArtifact, use_artifact
from nemotron.recipes.nano3.train import import_checkpoint

data_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
# Publish the carried data folder as a real artifact on this machine (paths are local here).
meta = json.loads((data_dir / "metadata.json").read_text()) if (data_dir / "metadata.json").exists() else {}
data = PretrainBlendsArtifact(
    path=str(data_dir), blend_path=str(data_dir / "blend.json"),
    total_tokens=int(meta.get("total_tokens", 0)), tokenizer=meta.get("tokenizer"),
).save(name="nano3-pretrain-data")
use_artifact(data.uri)
t0 = time.time()
subprocess.run([sys.executable, "-m", "nemotron.recipes.nano3.train._mcore_tiny",
                "--blend", data.blend_path, "--out", str(out / "checkpoints"), "--iters", "60"],
               check=True)
model = import_checkpoint("pretrain", out / "checkpoints", name="nano3-tiny-pretrain-model")
result = {"data": data.uri, "model": model.uri, "step": model.step, "loss": model.loss,
          "format": model.format, "path": model.path, "train_seconds": round(time.time() - t0, 1),
          "inputs": [f"art://{i.name}:v{i.version}" for i in model.inputs]}
(out / "result.json").write_text(json.dumps(result, indent=2))
print(json.dumps(result, indent=2))
assert model.step == 60 and model.loss is not None and result["inputs"] == [data.uri], result
PYEOF
echo "gpu-smoke: OK in $(( $(date +%s) - start )) s"
