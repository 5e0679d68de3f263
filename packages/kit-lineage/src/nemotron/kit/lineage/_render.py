"""Renderers of a `LineageGraph`: a text tree, a mermaid flowchart, and JSON.

All three are deterministic (stable ordering), so their output can be diffed and tested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    from nemotron.kit.lineage._graph import LineageGraph, LineageNode

__all__ = ["render_json", "render_mermaid", "render_text"]


def _describe(node: LineageNode) -> str:
    if node.kind == "source":
        facts = ", ".join(f"{k}={v}" for k, v in node.metadata.items())
        uri = f" <{node.uri}>" if node.uri and node.uri != node.label else ""
        return f"{node.label}  [source]{uri}" + (f" ({facts})" if facts else "")
    parts = [node.label]
    if node.type:
        parts.append(f"[{node.type}]")
    run_id = (node.producer or {}).get("run_id")
    if run_id:
        parts.append(f"run {run_id}")
    if node.metadata.get("missing"):
        parts.append("(not in this registry)")
    return "  ".join(parts)


def render_text(
    graph: LineageGraph,
    ref: str,
    direction: Literal["ancestors", "descendants"] = "ancestors",
) -> str:
    """A tree rooted at `ref`: its inputs (ancestors) or what was made from it (descendants).

    A node reached a second time is printed once more with `(see above)` and not expanded.
    """
    root = graph.node(ref)
    step = graph.parents if direction == "ancestors" else graph.children
    lines = [_describe(root)]
    expanded = {root.id}
    # Depth-first with an explicit stack: lineage chains can be thousands of versions deep.
    stack: list[tuple[LineageNode, str, bool]] = [
        (kid, "", i == 0) for i, kid in enumerate(reversed(step(root.id)))
    ]
    while stack:
        node, prefix, last = stack.pop()
        branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
        if node.id in expanded:
            lines.append(f"{prefix}{branch}{node.label}  (see above)")
            continue
        expanded.add(node.id)
        lines.append(f"{prefix}{branch}{_describe(node)}")
        kids = step(node.id)
        stack.extend((kid, prefix + indent, i == 0) for i, kid in enumerate(reversed(kids)))
    return "\n".join(lines) + "\n"


def _mermaid_label(node: LineageNode) -> str:
    text = (
        node.label if node.kind != "artifact" or not node.type else f"{node.label}<br/>{node.type}"
    )
    return text.replace('"', "#quot;")


def render_mermaid(graph: LineageGraph) -> str:
    """A mermaid `flowchart LR`: data flows from inputs (left) to what was made of them."""
    ordered = sorted(graph.nodes.values(), key=lambda n: n.id)
    ids = {node.id: f"n{index}" for index, node in enumerate(ordered)}
    lines = ["flowchart LR"]
    for node in ordered:
        label = _mermaid_label(node)
        shape = f'(["{label}"])' if node.kind == "source" else f'["{label}"]'
        lines.append(f"    {ids[node.id]}{shape}")
    for src, dst in sorted(graph.edges()):
        lines.append(f"    {ids[src]} --> {ids[dst]}")
    sources = [ids[n.id] for n in ordered if n.kind == "source"]
    if sources:
        lines.append("    classDef source fill:#fff3e0,stroke:#f57c00")
        lines.append(f"    class {','.join(sources)} source")
    return "\n".join(lines) + "\n"


def render_json(graph: LineageGraph) -> str:
    """`{"nodes": [...], "edges": [{"from", "to"}], "runs": [...]}`, sorted, indented."""
    doc = {
        "nodes": sorted(graph.nodes.values(), key=lambda n: n.id),
        "edges": [{"from": src, "to": dst} for src, dst in sorted(graph.edges())],
        "runs": sorted(graph.runs.values(), key=lambda r: r.run_id),
    }
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n"
