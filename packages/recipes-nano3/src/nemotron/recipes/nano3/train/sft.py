"""nano3 sft: Supervised fine-tuning (packed sequences) with Megatron-Bridge from the pretrained ModelArtifact.

Run as `python -m nemotron.recipes.nano3.train.sft --config FILE [overrides...]`
(`nemotron nano3 sft` does this, locally or on a cluster profile).
"""

from __future__ import annotations

import sys

from nemotron.recipes.nano3.train._stage_main import main

if __name__ == "__main__":
    sys.exit(main("sft"))
