"""The real wandb library, offline, inside a network namespace with only loopback.

Two stages run as subprocesses under `unshare -n` (a prep run: sources + tokenizer -> Blends;
a train run: Blends -> Base). The tests then read what wandb wrote on disk (the `.wandb`
transaction log that `wandb sync` uploads) and check the artifacts, their references, metadata,
inputs and the run config, that no credential was written anywhere, and that nothing tried to
reach the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

JOB = Path(__file__).with_name("_wandb_job.py")
WANDB_KEY = "local-0123456789abcdef0123456789abcdef01234567"
HF_TOKEN = "hf_SECRET_SHOULD_NOT_LEAK"


def _netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    done = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture(scope="module")
def offline_runs(
    tmp_path_factory: pytest.TempPathFactory, read_wandb: Callable[[Path], list[Any]]
) -> dict[str, Any]:
    if not _netns_available():
        pytest.skip("[netns] needs root (unshare -n) to cut the network for the W&B test")
    tmp = tmp_path_factory.mktemp("wandb-offline")
    data, ckpt, home = tmp / "data", tmp / "ckpt", tmp / "home"
    for folder in (data, ckpt, home):
        folder.mkdir()
    (data / "blend.json").write_text('{"train": [1.0, "shard"]}')
    (data / "shard.bin").write_bytes(os.urandom(4096))
    (ckpt / "model.pt").write_bytes(os.urandom(2048))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "NEMOTRON_ARTIFACTS_ROOT": str(tmp / "registry"),
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DIR": str(tmp / "wandb"),
        "WANDB_DATA_DIR": str(tmp / "wandb-data"),
        "WANDB_CACHE_DIR": str(tmp / "wandb-cache"),
        "WANDB_CONFIG_DIR": str(tmp / "wandb-config"),
        "WANDB_API_KEY": WANDB_KEY,
    }
    (tmp / "wandb").mkdir()
    outputs = {}
    for run_id, stage, folder in (("prep-1", "prep", data), ("train-1", "train", ckpt)):
        command = (
            f"ip link set lo up && NEMOTRON_RUN_ID={run_id} {sys.executable} {JOB} {stage} {folder}"
        )
        done = subprocess.run(
            ["unshare", "-n", "sh", "-c", command],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        outputs[stage] = done.stdout + done.stderr
    run_dirs = {
        stage: Path(
            next(line for line in out.splitlines() if line.startswith("run-dir:")).split()[1]
        ).parent
        for stage, out in outputs.items()
    }
    records = {stage: read_wandb(next(d.glob("run-*.wandb"))) for stage, d in run_dirs.items()}
    return {
        "tmp": tmp,
        "outputs": outputs,
        "dirs": run_dirs,
        "records": records,
        "data": data,
        "ckpt": ckpt,
    }


def _records(runs: dict[str, Any], stage: str, kind: str) -> list[Any]:
    return [getattr(r, kind) for r in runs["records"][stage] if r.WhichOneof("record_type") == kind]


def _artifacts(runs: dict[str, Any], stage: str) -> dict[str, Any]:
    return {a.name: a for a in _records(runs, stage, "artifact")}


def _entries(artifact: Any) -> dict[str, Any]:
    return {c.path: c for c in artifact.manifest.contents}


def _config(runs: dict[str, Any], stage: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for run in _records(runs, stage, "run"):
        config.update({u.key: json.loads(u.value_json) for u in run.config.update})
    for update in _records(runs, stage, "config"):
        config.update({u.key: json.loads(u.value_json) for u in update.update})
    return config


def test_the_network_was_cut_and_never_tried(offline_runs: dict[str, Any]) -> None:
    for stage, output in offline_runs["outputs"].items():
        assert "probe: blocked" in output, stage  # an outgoing connect failed in that process
        assert "W&B" not in output, output  # no lineage warning: W&B worked offline
        for log in (offline_runs["dirs"][stage] / "logs").glob("*.log"):
            text = log.read_text().lower()
            for sign in ("unreachable", "dial tcp", "no such host", "connection refused"):
                assert sign not in text, (log, sign)


def test_prep_run_logs_sources_tokenizer_and_the_data_artifact(
    offline_runs: dict[str, Any],
) -> None:
    data = offline_runs["data"]
    run = _records(offline_runs, "prep", "run")[-1]
    assert (run.project, run.entity, run.job_type, run.run_group) == (
        "nano3-test",
        "kit-team",
        "prep",
        "exp-1",
    )
    assert list(run.tags) == ["nano3", "prep", "extra-tag"]
    arts = _artifacts(offline_runs, "prep")
    assert set(arts) == {"nemotron-cc", "code", "tokenizer", "Blends"}

    # inputs: marked "use after commit", which `wandb sync` turns into use_artifact
    for name in ("nemotron-cc", "code", "tokenizer"):
        assert arts[name].use_after_commit and arts[name].user_created, name
    cc = arts["nemotron-cc"]
    assert cc.type == "dataset" and _entries(cc)["source"].ref == "hf://nvidia/Nemotron-CC"
    assert json.loads(cc.metadata)["revision"] == "r1"
    assert arts["tokenizer"].type == "tokenizer"
    assert set(_entries(arts["code"])) == {"source.json"}  # /raw/code-jsonl is not on this host

    blends = arts["Blends"]
    assert not blends.use_after_commit and blends.type == "PretrainBlendsArtifact"
    assert sorted(blends.aliases) == ["latest", "prep-1"]
    entries = _entries(blends)
    assert entries["data/shard.bin"].ref == (data / "shard.bin").as_uri()
    assert entries["data/shard.bin"].size == 4096 and not entries["data/shard.bin"].local_path
    for small in ("metadata.json", "blend.json"):  # uploaded (staged for sync), not referenced
        assert entries[small].local_path and not entries[small].ref
        assert Path(entries[small].local_path).read_bytes() == (data / small).read_bytes()
    meta = json.loads(blends.metadata)
    assert (meta["kit_ref"], meta["kit_uri"]) == ("Blends:v1", "art://Blends:v1")
    assert meta["fields"]["total_tokens"] == 12345
    assert meta["producer"]["run_id"] == "prep-1" and "git_commit" in meta["producer"]
    assert {i["ref"] for i in meta["inputs"]} == {
        "source:/raw/code-jsonl",
        "source:hf://nvidia/Nemotron-Tokenizer",
        "source:hf://nvidia/Nemotron-CC@r1",
    }
    lineage = _config(offline_runs, "prep")["nemotron_lineage"]
    assert lineage["outputs"] == [
        {"ref": "Blends:v1", "uri": "art://Blends:v1", "type": "PretrainBlendsArtifact"}
    ]
    assert len(lineage["inputs"]) == 3


def test_train_run_uses_the_same_w_and_b_version_and_logs_the_model(
    offline_runs: dict[str, Any],
) -> None:
    produced = _artifacts(offline_runs, "prep")["Blends"]
    arts = _artifacts(offline_runs, "train")
    used, base = arts["Blends"], arts["Base"]
    assert used.use_after_commit and used.digest == produced.digest  # same manifest: one version
    assert not base.use_after_commit and sorted(base.aliases) == ["latest", "train-1"]
    assert _entries(base)["data/model.pt"].ref == (offline_runs["ckpt"] / "model.pt").as_uri()
    meta = json.loads(base.metadata)
    assert meta["inputs"] == [
        {
            "ref": "Blends:v1",
            "uri": "art://Blends:v1",
            "type": "PretrainBlendsArtifact",
            "kind": "artifact",
        }
    ]
    assert meta["fields"]["step"] == 500 and meta["metadata"] == {"blend": "art://Blends:v1"}
    config = _config(offline_runs, "train")
    assert config["nemotron_lineage"]["inputs"][0]["ref"] == "Blends:v1"
    assert config["nemotron_run_id"] == "train-1"
    assert config["train"] == {"lr": 3e-4, "hf_token": "***"}


def test_lineage_is_also_kept_locally_with_the_w_and_b_run(offline_runs: dict[str, Any]) -> None:
    runs = offline_runs["tmp"] / "registry" / ".runs"
    train = json.loads((runs / "train-1.json").read_text())
    assert [a["ref"] for a in train["consumed"]] == ["Blends:v1"]
    assert [a["ref"] for a in train["produced"]] == ["Base:v1"]
    assert train["wandb"]["mode"] == "offline" and train["wandb"]["project"] == "nano3-test"
    assert train["wandb"]["id"] == offline_runs["dirs"]["train"].name.rsplit("-", 1)[1]


def test_no_credential_is_written_anywhere(offline_runs: dict[str, Any]) -> None:
    checked = 0
    for path in offline_runs["tmp"].rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert WANDB_KEY.encode() not in content, path
            assert HF_TOKEN.encode() not in content, path
            checked += 1
    assert checked > 20
