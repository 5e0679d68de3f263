"""The lineage graph: artifact versions and source datasets, linked by `inputs`, plus runs.

Built from what the registry already stores (each version's inputs and producer) and the
per-run records under `<root>/.runs/`. Nodes are named `Name:vN` / `source:URI`, never by an
absolute registry path, so a registry copied or moved to another root gives the same graph.
Descendants come from one scan of every version (the inverse of `inputs`), built once per graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import msgspec

from nemotron.kit.artifacts import Artifact, InputDatasetInfo, Registry, get_registry
from nemotron.kit.artifacts.errors import CorruptMetadataError, UserError
from nemotron.kit.lineage._ids import (
    artifact_id,
    input_id,
    lineage_inputs,
    normalize_ref,
    source_id,
)
from nemotron.kit.lineage._records import RunRecord, load_run_records
from nemotron.kit.lineage.errors import LineageRefError

__all__ = ["Direction", "LineageGraph", "LineageNode"]

Direction = Literal["ancestors", "descendants", "both"]


class LineageNode(msgspec.Struct, kw_only=True):
    """One node of the lineage graph.

    Attributes:
        id: `Name:vN`, `source:URI[@rev]` or `path:/abs` (unpublished).
        kind: `artifact`, `source` or `path`.
        label: what renderers print (`Name:vN`, or the dataset's name / URI).
        type: the artifact type tag; `dataset` for sources.
        name: registry name (artifacts only).
        version: registry version (artifacts only).
        uri: `art://Name:vN` or the source URI.
        path: where the data lives now (for display; not part of the identity).
        created_at: when the version was published (ISO 8601).
        producer: the producing run's identity (run_id, git commit, config digest, ...).
        inputs: ids of the nodes this one was made from.
        metadata: extra facts worth showing (source revision/split/rows, artifact digest).
    """

    id: str
    kind: str
    label: str
    type: str | None = None
    name: str | None = None
    version: int | None = None
    uri: str | None = None
    path: str | None = None
    created_at: str | None = None
    producer: dict[str, Any] | None = None
    inputs: list[str] = []
    metadata: dict[str, Any] = {}


class LineageGraph:
    """Ancestors, descendants and runs of artifact versions.

    Args:
        nodes: the nodes; inputs that name a node not given become placeholder nodes.
        runs: per-run records (what each run consumed and produced).
        registry: used only to resolve aliases such as `Name:latest` in queries.
    """

    def __init__(
        self,
        nodes: Iterable[LineageNode],
        runs: Iterable[RunRecord] = (),
        registry: Registry | None = None,
    ) -> None:
        self.nodes: dict[str, LineageNode] = {n.id: n for n in nodes}
        self.runs: dict[str, RunRecord] = {r.run_id: r for r in runs}
        self._registry = registry
        self.skipped: list[CorruptMetadataError] = []
        """Corrupt registry records `from_registry` left out (each names its file)."""
        for node in list(self.nodes.values()):
            for ref in node.inputs:
                if ref not in self.nodes:
                    self.nodes[ref] = _placeholder(ref)
        self._consumers: dict[str, list[str]] = {n: [] for n in self.nodes}
        for node in sorted(self.nodes.values(), key=_order):
            for ref in node.inputs:
                self._consumers[ref].append(node.id)

    @classmethod
    def from_registry(cls, registry: Registry | None = None) -> LineageGraph:
        """Scan every version of `registry` (default: the current one) and its run records."""
        registry = registry or get_registry()
        nodes: list[LineageNode] = []
        skipped: list[CorruptMetadataError] = []
        for name in registry.list_names():
            for artifact in registry.list_versions(name, bad=skipped):
                nodes.append(_artifact_node(artifact))
                nodes.extend(
                    _source_node(i)
                    for i in lineage_inputs(artifact)
                    if isinstance(i, InputDatasetInfo)
                )
        runs = load_run_records(registry)
        graph = cls(nodes, runs, registry)
        graph.skipped = skipped
        return graph

    def node(self, ref: str) -> LineageNode:
        """The node for `Name:vN`, `art://Name:vN`, `Name:alias`, `Name:latest` or `source:URI`."""
        key = normalize_ref(ref)
        if key in self.nodes:
            return self.nodes[key]
        if self._registry is not None and ":" in key and not key.startswith(("source:", "path:")):
            name, _, selector = key.rpartition(":")
            try:
                resolved = self._registry.resolve(name, selector)
            except UserError:  # unknown name, version or alias
                resolved = None
            if resolved is not None and resolved.version is not None:
                found = self.nodes.get(artifact_id(resolved.name, resolved.version))
                if found is not None:
                    return found
        root = self._registry.root if self._registry is not None else "(given nodes)"
        raise LineageRefError(ref, root)

    def parents(self, ref: str) -> list[LineageNode]:
        """The direct inputs of `ref`."""
        return [self.nodes[i] for i in self.node(ref).inputs]

    def children(self, ref: str) -> list[LineageNode]:
        """The versions made directly from `ref`."""
        return [self.nodes[i] for i in self._consumers[self.node(ref).id]]

    def ancestors(self, ref: str, depth: int | None = None) -> list[LineageNode]:
        """Everything `ref` was made from, nearest first (each node once)."""
        return list(self._walk(self.node(ref).id, lambda n: self.nodes[n].inputs, depth))

    def descendants(self, ref: str, depth: int | None = None) -> list[LineageNode]:
        """Everything made from `ref`, nearest first (each node once)."""
        return list(self._walk(self.node(ref).id, self._consumers.__getitem__, depth))

    def produced_by(self, ref: str) -> RunRecord | None:
        """The run that produced `ref`: its run record, or its stored producer when no record."""
        node = self.node(ref)
        for run in self.runs.values():
            if any(a.ref == node.id for a in run.produced):
                return run
        if node.producer and node.producer.get("run_id"):
            info = {k: v for k, v in node.producer.items() if k != "run_id"}
            return RunRecord(run_id=node.producer["run_id"], info=info, status="unknown")
        return None

    def consumed_by(self, ref: str) -> list[RunRecord]:
        """The runs that used `ref` as an input, oldest first."""
        node_id = self.node(ref).id
        return [r for r in self.runs.values() if any(a.ref == node_id for a in r.consumed)]

    def subgraph(self, ref: str, direction: Direction = "ancestors") -> LineageGraph:
        """The graph of `ref` and its ancestors, descendants, or both."""
        root = self.node(ref)
        keep = {root.id}
        if direction in ("ancestors", "both"):
            keep |= {n.id for n in self.ancestors(root.id)}
        if direction in ("descendants", "both"):
            keep |= {n.id for n in self.descendants(root.id)}
        nodes = [
            msgspec.structs.replace(n, inputs=[i for i in n.inputs if i in keep])
            for n in self.nodes.values()
            if n.id in keep
        ]
        runs = [
            r for r in self.runs.values() if any(a.ref in keep for a in (*r.consumed, *r.produced))
        ]
        return LineageGraph(nodes, runs, self._registry)

    def edges(self) -> list[tuple[str, str]]:
        """(input, output) pairs, in a stable order."""
        return [(i, n.id) for n in sorted(self.nodes.values(), key=_order) for i in n.inputs]

    def to_text(
        self, ref: str, direction: Literal["ancestors", "descendants"] = "ancestors"
    ) -> str:
        """A tree rooted at `ref` (see `render_text`)."""
        from nemotron.kit.lineage._render import render_text

        return render_text(self, ref, direction)

    def to_mermaid(self) -> str:
        """The whole graph as a mermaid flowchart (see `render_mermaid`)."""
        from nemotron.kit.lineage._render import render_mermaid

        return render_mermaid(self)

    def to_json(self) -> str:
        """The whole graph as JSON (see `render_json`)."""
        from nemotron.kit.lineage._render import render_json

        return render_json(self)

    def _walk(self, start: str, step: Any, depth: int | None) -> Iterator[LineageNode]:
        seen = {start}
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        while queue:
            current, level = queue.popleft()
            if depth is not None and level >= depth:
                continue
            for nxt in step(current):
                if nxt not in seen:
                    seen.add(nxt)
                    yield self.nodes[nxt]
                    queue.append((nxt, level + 1))


def _order(node: LineageNode) -> tuple[str, int, str]:
    return (node.name or node.label, node.version or 0, node.id)


def _placeholder(ref: str) -> LineageNode:
    if ref.startswith("source:"):
        return LineageNode(id=ref, kind="source", label=ref.removeprefix("source:"), type="dataset")
    if ref.startswith("path:"):
        return LineageNode(id=ref, kind="path", label=ref, path=ref.removeprefix("path:"))
    name, _, version = ref.rpartition(":v")
    return LineageNode(
        id=ref,
        kind="artifact",
        label=ref,
        name=name,
        version=int(version),
        metadata={"missing": "not in this registry"},
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


def _artifact_node(artifact: Artifact) -> LineageNode:
    node_id = artifact_id(artifact.name, artifact.version, artifact.path)
    producer = msgspec.to_builtins(artifact.producer) if artifact.producer is not None else None
    return LineageNode(
        id=node_id,
        kind="artifact" if artifact.version is not None else "path",
        label=node_id,
        type=artifact.type,
        name=artifact.name,
        version=artifact.version,
        uri=artifact.uri if artifact.version is not None else None,
        path=artifact.path,
        created_at=_iso(artifact.created_at),
        producer=producer,
        inputs=[input_id(i) for i in lineage_inputs(artifact)],
        metadata={"digest": artifact.digest} if artifact.digest else {},
    )


def _source_node(info: InputDatasetInfo) -> LineageNode:
    # Only what identifies the source; per-use facts (weight, rows, files) stay on the consumer.
    facts = {k: getattr(info, k) for k in ("revision", "split", "subset") if getattr(info, k)}
    return LineageNode(
        id=source_id(info),
        kind="source",
        label=info.name or info.uri,
        type="dataset",
        uri=info.uri,
        metadata=facts,
    )
