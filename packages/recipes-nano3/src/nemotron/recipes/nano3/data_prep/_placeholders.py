"""Fill the placeholder records of an RL blend from the datasets they point at.

The Nemotron 3 Nano RL blend (`nvidia/Nemotron-3-Nano-RL-Training-Blend`) does not carry the
rows of two math datasets; it holds placeholders instead: `dataset` names the source,
`_hf_placeholder` = `{row, question_template}`. NeMo-RL's Nano 3 guide
(docs/guides/nemotron-3-nano.md) runs the blend's `create_nanov3_jsonl.py` before training, which
takes row `row` of the source (DAPO-Math-17k `train`, Skywork-OR1-RL-Data `math`; both rows in
verl's format: `prompt[0].content`, `reward_model.ground_truth`) and writes the record back whole:
`question`, `expected_answer` and `responses_create_params.input` = one user message with the
templated question, `_hf_placeholder` dropped. This module does the same from the sources named in
`RLDataConfig.placeholders` (local files or `hf://` datasets, so it runs offline).

`load_rows` (main process) reads only the source rows the blend refers to; `fill` (in the
workers) rewrites one record, or says why it cannot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from nemotron.recipes.nano3.data_prep._common import source_input
from nemotron.recipes.nano3.data_prep._config import PlaceholderConfig
from nemotron.recipes.nano3.data_prep._sources import Shard, expand_source, plan_shards, raw_records
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError, InputDataError

PLACEHOLDER = "_hf_placeholder"
DAPO_INSTRUCTION = (
    "Solve the following math problem step by step. The last line of your response should be of "
    "the form Answer: $Answer (without quotes) where $Answer is the answer to the problem."
)
DAPO_REMINDER = 'Remember to put your answer on its own line after "Answer:".'
"""DAPO-Math-17k wraps each problem in these two lines; the blend's template replaces them."""


@dataclass(frozen=True)
class SourceRows:
    """The rows of one placeholder source that the blend refers to: row -> (problem, answer)."""

    template: str
    rows: dict[int, tuple[str, Any]]


def referenced_rows(shards: Iterable[Shard], datasets: set[str]) -> dict[str, set[int]]:
    """Which rows of each named dataset the blend's placeholder records point at."""
    decoder = msgspec.json.Decoder()
    wanted: dict[str, set[int]] = {name: set() for name in datasets}
    for shard in shards:
        for _, record in raw_records(shard, decoder, None):
            if not isinstance(record, dict):
                continue  # reported as a bad record by the stage's own read
            placeholder = record.get(PLACEHOLDER)
            name = record.get("dataset")
            if isinstance(placeholder, dict) and name in wanted:
                row = placeholder.get("row")
                if isinstance(row, int):
                    wanted[name].add(row)
    return wanted


def load_rows(entries: list[PlaceholderConfig], blend: list[Shard]) -> dict[str, SourceRows]:
    """Read, from each placeholder source, the rows the blend refers to (in source order)."""
    wanted = referenced_rows(blend, {e.dataset for e in entries})
    loaded: dict[str, SourceRows] = {}
    for i, entry in enumerate(entries):
        source = entry.source()
        need = wanted[entry.dataset]
        rows: dict[int, tuple[str, Any]] = {}
        count = 0
        for shard in plan_shards([source], shard_bytes=1 << 62, hf_shards=1):
            for _, record in raw_records(shard, msgspec.json.Decoder(), None):
                if count in need:
                    rows[count] = _problem_and_answer(record, shard.url, count)
                count += 1
        missing = sorted(need - rows.keys())
        if missing:
            raise DataPrepConfigError(
                f"placeholders[{i}]",
                f"the blend points at row {missing[0]} of {entry.path} (split {entry.split}), "
                f"which has {count} rows; name the dataset and split the blend was made from",
            )
        loaded[entry.dataset] = SourceRows(entry.template, rows)
    return loaded


def _problem_and_answer(record: Any, url: str, row: int) -> tuple[str, Any]:
    try:
        problem = record["prompt"][0]["content"]
        answer = record["reward_model"]["ground_truth"]
    except (KeyError, IndexError, TypeError):
        raise InputDataError(
            f"{url} row",
            row + 1,
            "no prompt[0].content / reward_model.ground_truth (the verl row format of "
            "DAPO-Math-17k and Skywork-OR1-RL-Data); point the placeholder entry at that dataset",
        ) from None
    if not isinstance(problem, str):
        raise InputDataError(f"{url} row", row + 1, "prompt[0].content is not a string")
    return problem, answer


def fill(record: dict[str, Any], sources: dict[str, SourceRows]) -> dict[str, Any] | str:
    """The record with its placeholder filled (others unchanged), or why it cannot be filled."""
    placeholder = record.get(PLACEHOLDER)
    if placeholder is None:
        return record
    name = record.get("dataset")
    source = sources.get(name) if isinstance(name, str) else None
    if source is None:
        return (
            f"placeholder of dataset {name!r} has no `placeholders` entry (add one naming its "
            "source, as NeMo-RL's Nano 3 guide fills it)"
        )
    row = placeholder.get("row") if isinstance(placeholder, dict) else None
    if row not in source.rows:
        return f"`{PLACEHOLDER}.row` is {row!r}, not a row of the {name} source"
    problem, answer = source.rows[row]
    template = placeholder.get("question_template")
    if source.template == "dapo":
        question = _dapo_question(problem, template)
        if question is None:
            return (
                "a DAPO placeholder needs a `question_template` {prefix, suffix} and DAPO's prompt"
            )
        shown = question
    else:
        text = template.get("template") if isinstance(template, dict) else template
        if not isinstance(text, str) or "{question}" not in text:
            return "a Skywork placeholder needs a `question_template` holding `{question}`"
        question, shown = problem, text.replace("{question}", problem)
    filled = {k: v for k, v in record.items() if k != PLACEHOLDER}
    filled["question"] = question
    filled["expected_answer"] = _first_answer(answer)
    filled["responses_create_params"] = {"input": [{"role": "user", "content": shown}]}
    return filled


def _dapo_question(prompt: str, template: Any) -> str | None:
    """DAPO's problem text between its instruction and reminder, inside the blend's template."""
    text = prompt.strip()
    if not (
        isinstance(template, dict)
        and text.startswith(DAPO_INSTRUCTION)
        and text.endswith(DAPO_REMINDER)
    ):
        return None
    problem = text[len(DAPO_INSTRUCTION) : -len(DAPO_REMINDER)].strip("\n")
    return f"{template.get('prefix', '')}{problem}{template.get('suffix', '')}".rstrip("\n")


def _first_answer(answer: Any) -> Any:
    """Skywork keeps its answers as a JSON list in a string (`'["12"]'`): the first one."""
    if isinstance(answer, str) and answer.startswith("[") and answer.endswith("]"):
        try:
            answer = json.loads(answer)
        except ValueError:
            return answer
    if isinstance(answer, list):
        return answer[0] if answer else ""
    return answer


def placeholder_inputs(
    entries: list[PlaceholderConfig], loaded: dict[str, SourceRows]
) -> list[Any]:
    """One InputDatasetInfo per placeholder source (rows = the rows the blend took from it)."""
    return [
        source_input(
            entry.source(),
            rows=len(loaded[entry.dataset].rows),
            files=sorted(url for url, _, _ in expand_source(entry.source())),
        )
        for entry in entries
    ]
