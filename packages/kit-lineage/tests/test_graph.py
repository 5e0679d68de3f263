"""The file backend: run records, a data -> model -> model chain with branches, queries,
renderers, and a registry moved to another root."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from nemotron.kit.artifacts import (
    Artifact,
    InputDatasetInfo,
    ModelArtifact,
    PretrainBlendsArtifact,
    get_registry,
    set_registry,
    use_artifact,
)
from nemotron.kit.lineage import (
    FileTracker,
    LineageGraph,
    NoOpTracker,
    RunRecord,
    get_lineage_tracker,
    render_json,
    render_mermaid,
    set_lineage_tracker,
)
from nemotron.kit.lineage.errors import LineageRefError

SOURCES = [
    InputDatasetInfo(uri="hf://nvidia/Nemotron-CC", name="nemotron-cc", revision="abc123"),
    InputDatasetInfo(uri="hf://nvidia/code", name="code", split="train"),
]


@pytest.fixture(autouse=True)
def _no_tracker_left() -> Iterator[None]:
    yield
    set_lineage_tracker(None)
    set_registry(None)


def _data(tmp: Path, name: str) -> str:
    folder = tmp / "data" / name
    folder.mkdir(parents=True)
    (folder / "shard_0.bin").write_bytes(os.urandom(64))
    return str(folder)


def _run(monkeypatch: pytest.MonkeyPatch, run_id: str) -> FileTracker:
    monkeypatch.setenv("NEMOTRON_RUN_ID", run_id)
    tracker = FileTracker()
    set_lineage_tracker(tracker)
    return tracker


def _build_chain(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prep -> Blends:v1; pretrain -> Base:v1; two SFT branches; a merge of both."""
    with _run(monkeypatch, "r1-prep"):
        PretrainBlendsArtifact(
            path=_data(tmp, "blends"), total_tokens=1000, inputs=list(SOURCES)
        ).save(name="Blends")
        Artifact(path=_data(tmp, "unused")).save(name="Other")
    with _run(monkeypatch, "r2-pretrain") as t:
        t.use_artifact("art://Blends:latest")
        ModelArtifact(path=_data(tmp, "base"), step=100).save(name="Base")
    for run_id, out in (("r3-sft-a", "SftA"), ("r4-sft-b", "SftB")):
        with _run(monkeypatch, run_id):
            use_artifact("art://Base:v1")
            ModelArtifact(path=_data(tmp, out.lower()), step=10).save(name=out)
    with _run(monkeypatch, "r5-merge"):
        use_artifact("art://SftA:latest")
        use_artifact("art://SftB:v1")
        ModelArtifact(path=_data(tmp, "merged")).save(name="Merged", aliases=("best",))


def test_run_records_say_what_each_run_consumed_and_produced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build_chain(tmp_path, monkeypatch)
    root = Path(get_registry().root)
    record = msgspec.json.decode((root / ".runs" / "r5-merge.json").read_bytes(), type=RunRecord)
    assert [a.ref for a in record.consumed] == ["SftA:v1", "SftB:v1"]
    assert [(a.ref, a.type) for a in record.produced] == [("Merged:v1", "ModelArtifact")]
    assert (record.status, record.exit_code) == ("succeeded", 0)
    assert record.info["argv"] and record.info["host"]
    prep = msgspec.json.decode((root / ".runs" / "r1-prep.json").read_bytes(), type=RunRecord)
    assert [a.ref for a in prep.produced] == ["Blends:v1", "Other:v1"] and prep.consumed == []
    assert str(root) not in (root / ".runs" / "r2-pretrain.json").read_text()


def test_ancestors_descendants_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _build_chain(tmp_path, monkeypatch)
    graph = LineageGraph.from_registry()
    ids = lambda nodes: [n.id for n in nodes]  # noqa: E731

    assert ids(graph.ancestors("Merged:v1")) == [
        "SftA:v1",
        "SftB:v1",
        "Base:v1",
        "Blends:v1",
        "source:hf://nvidia/Nemotron-CC@abc123",
        "source:hf://nvidia/code",
    ]
    assert ids(graph.ancestors("art://Merged:best", depth=1)) == ["SftA:v1", "SftB:v1"]
    assert ids(graph.descendants("Blends:latest")) == ["Base:v1", "SftA:v1", "SftB:v1", "Merged:v1"]
    assert ids(graph.descendants("source:hf://nvidia/code"))[0] == "Blends:v1"
    assert graph.descendants("Other:v1") == [] and graph.ancestors("Other:v1") == []
    assert graph.node("Blends:v1").metadata == {}
    assert graph.node("source:hf://nvidia/code").metadata == {"split": "train"}

    produced = graph.produced_by("Base:v1")
    assert produced is not None and produced.run_id == "r2-pretrain"
    assert [r.run_id for r in graph.consumed_by("Base:v1")] == ["r3-sft-a", "r4-sft-b"]
    assert graph.consumed_by("Merged:v1") == []

    with pytest.raises(LineageRefError, match=r"no artifact 'Nope:v1' in registry"):
        graph.node("Nope:v1")
    with pytest.raises(LineageRefError):
        graph.node("Base:v9")


def test_text_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _build_chain(tmp_path, monkeypatch)
    graph = LineageGraph.from_registry()
    assert graph.to_text("Merged:v1") == (
        "Merged:v1  [ModelArtifact]  run r5-merge\n"
        "├── SftA:v1  [ModelArtifact]  run r3-sft-a\n"
        "│   └── Base:v1  [ModelArtifact]  run r2-pretrain\n"
        "│       └── Blends:v1  [PretrainBlendsArtifact]  run r1-prep\n"
        "│           ├── nemotron-cc  [source] <hf://nvidia/Nemotron-CC> (revision=abc123)\n"
        "│           └── code  [source] <hf://nvidia/code> (split=train)\n"
        "└── SftB:v1  [ModelArtifact]  run r4-sft-b\n"
        "    └── Base:v1  (see above)\n"
    )
    assert graph.to_text("Base:v1", "descendants") == (
        "Base:v1  [ModelArtifact]  run r2-pretrain\n"
        "├── SftA:v1  [ModelArtifact]  run r3-sft-a\n"
        "│   └── Merged:v1  [ModelArtifact]  run r5-merge\n"
        "└── SftB:v1  [ModelArtifact]  run r4-sft-b\n"
        "    └── Merged:v1  (see above)\n"
    )


def test_mermaid_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _build_chain(tmp_path, monkeypatch)
    sub = LineageGraph.from_registry().subgraph("SftA:v1", "both")
    assert sorted(sub.nodes) == [
        "Base:v1",
        "Blends:v1",
        "Merged:v1",
        "SftA:v1",
        "source:hf://nvidia/Nemotron-CC@abc123",
        "source:hf://nvidia/code",
    ]
    mermaid = render_mermaid(sub)
    lines = mermaid.splitlines()
    assert lines[0] == "flowchart LR"
    names = {line.split("[", 1)[0].split("(", 1)[0].strip(): line for line in lines[1:7]}
    by_label = {v.split('"')[1].split("<br/>")[0]: k for k, v in names.items()}
    edges = {line.strip() for line in lines if "-->" in line}
    assert f"{by_label['Base:v1']} --> {by_label['SftA:v1']}" in edges
    assert f"{by_label['SftA:v1']} --> {by_label['Merged:v1']}" in edges
    assert f"{by_label['nemotron-cc']} --> {by_label['Blends:v1']}" in edges
    assert len(edges) == 5  # SftB is outside the subgraph: its edge into Merged is dropped
    assert '(["nemotron-cc"])' in mermaid and "class " in mermaid

    doc = json.loads(render_json(sub))
    assert {(e["from"], e["to"]) for e in doc["edges"]} == {
        ("Blends:v1", "Base:v1"),
        ("Base:v1", "SftA:v1"),
        ("SftA:v1", "Merged:v1"),
        ("source:hf://nvidia/Nemotron-CC@abc123", "Blends:v1"),
        ("source:hf://nvidia/code", "Blends:v1"),
    }
    merged = next(n for n in doc["nodes"] if n["id"] == "Merged:v1")
    assert merged["producer"]["run_id"] == "r5-merge" and merged["inputs"] == ["SftA:v1"]
    # every run that touched a node of the subgraph (r4 consumed Base:v1)
    assert {r["run_id"] for r in doc["runs"]} == {
        "r1-prep",
        "r2-pretrain",
        "r3-sft-a",
        "r4-sft-b",
        "r5-merge",
    }
    assert render_json(sub) == sub.to_json()  # deterministic


def test_graph_survives_registry_moved_to_another_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build_chain(tmp_path, monkeypatch)
    old_root = Path(get_registry().root)
    before = LineageGraph.from_registry()
    before_ancestors = [n.id for n in before.ancestors("Merged:best")]
    new_root = tmp_path / "elsewhere" / "registry"
    shutil.move(str(old_root), str(new_root))
    set_registry(str(new_root))
    after = LineageGraph.from_registry()

    def shape(graph: LineageGraph) -> tuple[object, ...]:
        return (sorted(graph.nodes), graph.edges(), sorted(graph.runs))

    assert shape(after) == shape(before)
    assert [n.id for n in after.ancestors("Merged:best")] == before_ancestors
    assert after.to_text("Merged:v1") == before.to_text("Merged:v1")
    assert [r.run_id for r in after.consumed_by("Base:v1")] == ["r3-sft-a", "r4-sft-b"]
    assert str(old_root) not in after.to_json()


def test_concurrent_updates_of_one_run_record_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes (ranks) of one run each add what they used; nothing is lost."""
    import subprocess
    import sys

    monkeypatch.setenv("NEMOTRON_RUN_ID", "shared-run")
    for i in range(4):
        Artifact(path=_data(tmp_path, f"in{i}")).save(name=f"In{i}")
    script = (
        "import sys\n"
        "from nemotron.kit.artifacts import use_artifact\n"
        "from nemotron.kit.lineage import FileTracker, set_lineage_tracker\n"
        "set_lineage_tracker(FileTracker())\n"
        "for n in sys.argv[1:]:\n"
        "    use_artifact(f'art://{n}:v1')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *names])
        for names in (["In0", "In1"], ["In2", "In3"], ["In1", "In2"])
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    record = LineageGraph.from_registry().runs["shared-run"]
    assert sorted(a.ref for a in record.consumed) == ["In0:v1", "In1:v1", "In2:v1", "In3:v1"]


def test_noop_tracker_and_unpublished_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMOTRON_RUN_ID", "quiet")
    tracker = NoOpTracker()
    set_lineage_tracker(tracker)
    art = tracker.log_artifact(Artifact(path=_data(tmp_path, "x")), name="X")
    assert (art.name, art.version) == ("X", 1)
    assert not (Path(get_registry().root) / ".runs").exists()
    tracker.finish(3)
    assert not tracker.active and get_lineage_tracker() is tracker

    files = FileTracker()  # not installed: log_artifact records it itself
    files.log_artifact(art)
    files.finish(0)
    record = LineageGraph.from_registry().runs["quiet"]
    assert [a.ref for a in record.produced] == ["X:v1"] and record.exit_code == 0
