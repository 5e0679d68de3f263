"""Demo W&B stage: start the run its config asks for (offline in tests), report what arrived."""

import hashlib
import os
import sys

from nemotron.kit.config import apply_hydra_overrides, load_config, resolve_to_container
from nemotron.kit.lineage import finish_wandb, init_wandb_if_configured


def main() -> None:
    args = sys.argv[1:]
    config = args[args.index("--config") + 1]
    overrides = args[args.index("--config") + 2 :]
    cfg = resolve_to_container(apply_hydra_overrides(load_config(config), overrides))
    run = init_wandb_if_configured(cfg, job_type="demo-track")
    print(f"wandb run project={run.project} entity={run.entity} mode={run.settings.mode}")
    env = {k: os.environ.get(k) for k in ("WANDB_PROJECT", "WANDB_ENTITY")}
    print(f"wandb env {env['WANDB_PROJECT']} {env['WANDB_ENTITY']}")
    key = os.environ.get("WANDB_API_KEY", "")
    print(f"wandb key sha256 {hashlib.sha256(key.encode()).hexdigest()[:16] if key else None}")
    finish_wandb()


if __name__ == "__main__":
    main()
