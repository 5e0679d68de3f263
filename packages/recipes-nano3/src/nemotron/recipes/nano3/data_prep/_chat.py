"""Chat conversations -> template text segments with a loss flag on assistant turns.

The chat template is rendered with Jinja (as `transformers`' `apply_chat_template` does). The
text of assistant turn i is found without template markers: it is what rendering messages[:i+1]
adds to rendering messages[:i] with `add_generation_prompt=True`. A template for which that is
not a prefix (e.g. one that rewrites earlier turns) is reported instead of guessed at.
"""

from __future__ import annotations

from functools import cache
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


def check_conversation(messages: Any) -> str | None:
    """None if `messages` is a usable conversation, else why not."""
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"message {i} is not an object"
        role = message.get("role")
        if role not in ROLES:
            return f"message {i} has role {role!r}; expected one of {', '.join(ROLES)}"
        if role == "system" and i != 0:
            return f"message {i}: a system message may only come first"
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            return f"message {i}: content must be a string"
        if content is None and not (role == "assistant" and message.get("tool_calls")):
            return f"message {i} has no content"
    if not any(m["role"] == "assistant" for m in messages):
        return "no assistant message to train on"
    if messages[-1]["role"] != "assistant":
        return "the last message must be the assistant's"
    return None


@cache
def compile_template(source: str) -> Any:
    """The Jinja template (compiled once per process); raises TemplateSyntaxError."""
    from jinja2 import StrictUndefined  # noqa: F401  (documented: undefined names render empty)
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True
    )
    return env.from_string(source)


def segments(
    template: str, record: dict[str, Any], messages_field: str = "messages"
) -> list[tuple[str, bool]]:
    """The conversation as (text, train_on_it) pieces whose concatenation is the full rendering."""
    messages = record[messages_field]
    tools = record.get("tools")
    render = compile_template(template).render

    def text(upto: int, prompt: bool) -> str:
        return str(render(messages=messages[:upto], tools=tools, add_generation_prompt=prompt))

    full = text(len(messages), False)
    pieces: list[tuple[str, bool]] = []
    done = 0
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before, after = text(i, True), text(i + 1, False)
        if not after.startswith(before) or not full.startswith(after) or len(before) < done:
            raise ValueError(f"chat template is not incremental at message {i}")
        if len(before) > done:
            pieces.append((full[done : len(before)], False))
        pieces.append((full[len(before) : len(after)], True))
        done = len(after)
    if done < len(full):
        pieces.append((full[done:], False))
    return pieces
