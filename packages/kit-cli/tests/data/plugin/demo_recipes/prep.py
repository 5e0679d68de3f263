"""Demo data prep: write a few JSONL rows and publish them as `demo-data`."""

import json
from dataclasses import dataclass
from pathlib import Path

from nemotron.kit.artifacts import SplitJsonlDataArtifact
from nemotron.kit.config import cli


@dataclass
class PrepConfig:
    output_dir: Path
    rows: int = 4
    fail: bool = False


def main() -> None:
    config = cli(PrepConfig)
    if config.fail:
        raise SystemExit("demo prep failed on purpose (fail=true)")
    config.output_dir.mkdir(parents=True, exist_ok=True)
    train = config.output_dir / "train.jsonl"
    train.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(config.rows)))
    print(f"wrote {config.rows} rows to {train}")
    artifact = SplitJsonlDataArtifact(
        path=str(config.output_dir), train_path=str(train), train_count=config.rows
    ).save(name="demo-data")
    print(f"published {artifact.uri}")


if __name__ == "__main__":
    main()
