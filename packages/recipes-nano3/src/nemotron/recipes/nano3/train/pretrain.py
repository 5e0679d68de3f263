"""nano3 pretrain: Pretrain Nemotron Nano 3 with Megatron-Bridge on a PretrainBlendsArtifact.

Run as `python -m nemotron.recipes.nano3.train.pretrain --config FILE [overrides...]`
(`nemotron nano3 pretrain` does this, locally or on a cluster profile).
"""

from __future__ import annotations

import sys

from nemotron.recipes.nano3.train._stage_main import main

if __name__ == "__main__":
    sys.exit(main("pretrain"))
