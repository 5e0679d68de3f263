"""Demo training: read the demo data artifact, "train", publish `demo-model`."""

from dataclasses import dataclass
from pathlib import Path

from nemotron.kit.artifacts import ModelArtifact, SplitJsonlDataArtifact, use_artifact
from nemotron.kit.config import cli


@dataclass
class TrainConfig:
    output_dir: Path
    data: str | None = None
    lr: float = 0.01
    steps: int = 3


def main() -> None:
    config = cli(TrainConfig)
    rows = 0
    if config.data:
        data = use_artifact(config.data, SplitJsonlDataArtifact)
        rows = data.train_count
    for step in range(1, config.steps + 1):
        print(f"step {step} lr={config.lr} rows={rows}")
    config.output_dir.mkdir(parents=True, exist_ok=True)
    model = ModelArtifact(path=str(config.output_dir), step=config.steps, loss=1.0 / config.steps)
    print(f"published {model.save(name='demo-model').uri}")


if __name__ == "__main__":
    main()
