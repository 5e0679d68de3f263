"""Build the small real assets that ship with recipes-nano3 (run from the repo root).

    uv run --no-sync python packages/recipes-nano3/scripts/build_tiny_assets.py

Writes, under `src/nemotron/recipes/nano3/assets/`:
- `tiny/pretrain/`: documents made from the docstrings of Python's standard library
  (PSF license), as JSONL and Parquet, with `text` fields;
- `tiny/sft/chat.jsonl`: conversations (system prompts, multi-turn, tool calls) built from the
  same docstrings;
- `tiny/rl/prompts-*.jsonl`: arithmetic word prompts with exact expected answers;
- `tiny/rl-blend/blend.jsonl` + `tiny/rl-fill/`: a blend shaped like the Nemotron 3 Nano RL blend
  (whole records and `_hf_placeholder` records pointing at rows of two math sources) and those
  sources, in the row format of DAPO-Math-17k (Parquet) and Skywork-OR1-RL-Data (JSONL);
- `tokenizer/tokenizer.json`: a byte-level BPE (4,096 ids) trained with the `tokenizers` library
  on the pretrain sample, with the chat special tokens of the Nano 3 template.

Deterministic for a given Python version: fixed module list, sorted members, seeded choices.
"""

from __future__ import annotations

import importlib
import inspect
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ASSETS = Path(__file__).resolve().parents[1] / "src/nemotron/recipes/nano3/assets"
MODULES = [
    "argparse",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "gzip",
    "hashlib",
    "heapq",
    "html",
    "itertools",
    "json",
    "logging",
    "math",
    "operator",
    "pathlib",
    "pprint",
    "queue",
    "random",
    "re",
    "secrets",
    "shutil",
    "statistics",
    "string",
    "struct",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "unittest",
    "urllib.parse",
    "uuid",
    "zipfile",
]
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<think>",
    "</think>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
]
VOCAB_SIZE = 4096


def _docstrings() -> list[tuple[str, str]]:
    """(qualified name, cleaned docstring) for public members of MODULES, in a fixed order."""
    found: list[tuple[str, str]] = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        doc = inspect.getdoc(module)
        if doc:
            found.append((module_name, doc))
        for name in sorted(getattr(module, "__all__", None) or dir(module)):
            if name.startswith("_"):
                continue
            member = getattr(module, name, None)
            if getattr(member, "__module__", module_name) != module_name:
                continue
            doc = inspect.getdoc(member) if callable(member) else None
            if doc and len(doc) > 80:
                found.append((f"{module_name}.{name}", doc))
            if inspect.isclass(member):
                for attr, value in sorted(vars(member).items()):
                    method_doc = None if attr.startswith("_") else inspect.getdoc(value)
                    if method_doc and len(method_doc) > 80:
                        found.append((f"{module_name}.{name}.{attr}", method_doc))
    return found


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _pretrain(docs: list[tuple[str, str]]) -> list[str]:
    texts = [f"{name}\n\n{doc}" for name, doc in docs]
    half = len(texts) // 2
    out = ASSETS / "tiny/pretrain"
    _write_jsonl(
        out / "stdlib-docs-a.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts[:half])]
    )
    table = pa.table({"id": list(range(half, len(texts))), "text": texts[half:]})
    pq.write_table(table, out / "stdlib-docs-b.parquet", compression="zstd")
    return texts


def _sft(docs: list[tuple[str, str]], rng: random.Random) -> None:
    systems = [
        "You are a concise Python documentation assistant.",
        "Answer with the documented behaviour only.",
    ]
    rows = []
    for i, (name, doc) in enumerate(docs[:400]):
        summary, _, rest = doc.partition("\n\n")
        messages: list[dict] = []
        if i % 3 == 0:
            messages.append({"role": "system", "content": systems[i % 2]})
        messages.append({"role": "user", "content": f"What does `{name}` do?"})
        if i % 5 == 1:
            call = {"name": "lookup_docs", "arguments": {"symbol": name}}
            messages.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"type": "function", "function": call}],
                }
            )
            messages.append({"role": "tool", "content": summary})
        messages.append({"role": "assistant", "content": summary})
        if rest and rng.random() < 0.5:
            messages.append({"role": "user", "content": "Tell me more."})
            messages.append({"role": "assistant", "content": rest[:1500]})
        rows.append({"messages": messages})
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup_docs",
                "description": "Look up the docstring of a Python symbol.",
                "parameters": {
                    "type": "object",
                    "properties": {"symbol": {"type": "string"}},
                    "required": ["symbol"],
                },
            },
        }
    ]
    for row in rows:
        if any("tool_calls" in m for m in row["messages"]):
            row["tools"] = tools
    _write_jsonl(ASSETS / "tiny/sft/chat.jsonl", rows)


def _rl(rng: random.Random) -> None:
    items = ["apples", "books", "coins", "marbles", "stamps", "pencils"]
    for shard in range(2):
        rows = []
        for i in range(100):
            a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 9)
            item = items[(i + shard) % len(items)]
            question = f"Ana has {a} {item}. She buys {c} boxes of {b} {item} each. How many {item} does she have now?"
            rows.append(
                {
                    "id": f"arith-{shard}-{i:03d}",
                    "question": question,
                    "expected_answer": str(a + b * c),
                }
            )
        _write_jsonl(ASSETS / f"tiny/rl/prompts-{shard}.jsonl", rows)


DAPO_WRAPPER = (
    "Solve the following math problem step by step. The last line of your response should be of "
    "the form Answer: $Answer (without quotes) where $Answer is the answer to the problem.\n\n",
    '\n\nRemember to put your answer on its own line after "Answer:".',
)


def _rl_blend(rng: random.Random) -> None:
    """Placeholder records as the published RL blend has them, and the rows they point at."""

    def problem() -> tuple[str, str]:
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        return f"What is {a} + {b} * 3?", str(a + b * 3)

    dapo, skywork = [problem() for _ in range(12)], [problem() for _ in range(12)]
    (ASSETS / "tiny/rl-fill").mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(
            [
                {
                    "data_source": "math_dapo",
                    "prompt": [{"content": q.join(DAPO_WRAPPER), "role": "user"}],
                    "ability": "MATH",
                    "reward_model": {"ground_truth": a, "style": "rule-lighteval/MATH_v2"},
                }
                for q, a in dapo
            ]
        ),
        ASSETS / "tiny/rl-fill/dapo-math.parquet",
    )
    _write_jsonl(
        ASSETS / "tiny/rl-fill/skywork-math.jsonl",
        [
            {
                "data_source": "skywork",
                "prompt": [{"content": q, "role": "user"}],
                "reward_model": {"ground_truth": json.dumps([a]), "style": "rule"},
            }
            for q, a in skywork
        ],
    )
    rows: list[dict[str, object]] = []
    for i in range(8):
        q, a = problem()
        message = {"role": "user", "content": q}
        rows.append(
            {
                "id": f"blend-{i:03d}",
                "dataset": "arithmetic",
                "question": q,
                "expected_answer": a,
                "responses_create_params": {"input": [message]},
            }
        )
    boxed = "Put the final answer in \\boxed{}."
    templates = [{"prefix": f"{boxed}\n\n"}, {"suffix": f"\n\n{boxed}"}]
    for i, row in enumerate(rng.sample(range(len(dapo)), 8)):
        rows.append(
            {
                "id": f"blend-dapo-{i:03d}",
                "dataset": "nano_v3_sft_profiled_dapo17k",
                "_hf_placeholder": {"row": row, "question_template": templates[i % 2]},
            }
        )
    for i, row in enumerate(rng.sample(range(len(skywork)), 8)):
        rows.append(
            {
                "id": f"blend-skywork-{i:03d}",
                "dataset": "nano_v3_sft_profiled_skywork_no_omni",
                "_hf_placeholder": {"row": row, "question_template": f"{{question}}\n\n{boxed}"},
            }
        )
    _write_jsonl(ASSETS / "tiny/rl-blend/blend.jsonl", rows)


def _tokenizer(texts: list[str]) -> None:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    out = ASSETS / "tokenizer"
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(out / "tokenizer.json"))
    config = {
        "eos_token": "<|endoftext|>",
        "bos_token": None,
        "pad_token": "<|endoftext|>",
        "model_max_length": 4096,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def main() -> None:
    rng = random.Random(1234)
    docs = _docstrings()
    texts = _pretrain(docs)
    _sft(docs, rng)
    _rl(rng)
    _rl_blend(random.Random(5678))
    _tokenizer(texts)
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    print(f"{len(docs)} docstrings; assets: {total / 1e6:.2f} MB in {ASSETS}")


if __name__ == "__main__":
    main()
