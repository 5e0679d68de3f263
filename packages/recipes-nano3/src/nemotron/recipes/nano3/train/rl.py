"""nano3 rl: GRPO with NeMo-RL from the SFT ModelArtifact on a SplitJsonlDataArtifact.

Run as `python -m nemotron.recipes.nano3.train.rl --config FILE [overrides...]`
(`nemotron nano3 rl` does this, locally or on a cluster profile).
"""

from __future__ import annotations

import sys

from nemotron.recipes.nano3.train._stage_main import main

if __name__ == "__main__":
    sys.exit(main("rl"))
