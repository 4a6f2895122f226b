# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""Language model entries: Llama 3 8B/70B Instruct and Llama 3.1 405B Instruct.

All three take ``max_tokens`` (not ``max_new_tokens``), and ``top_p`` is sent only when the
request gives it (the models' default 0.9 stands otherwise).

Llama 3 8B/70B (these versions) have no ``system_prompt`` field, and their
``prompt_template`` defaults to ``{prompt}``: nothing applies the chat format. So the entry
writes the Llama 3 chat format into ``prompt_template``, with the system prompt and earlier
turns in it and ``{prompt}`` where the user's last message goes; ``prompt`` is that message,
as given. Replicate's language model servers fill the template with ``str.format``
(replicate/cog-vllm and cog-triton ``predict.py``), so braces in the system prompt and earlier
turns are doubled.

Llama 3.1 405B has ``system_prompt`` (the request's goes there) and ``stop_sequences``, one
comma-separated string; a conversation with earlier turns is written into
``prompt_template`` with ``{system_prompt}`` and ``{prompt}`` placeholders (its server,
cog-vllm, fills both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from replicate_async.catalog._builder import Builder, CatalogEntry
from replicate_async.catalog._checks import at_least, whole_at_least
from replicate_async.catalog._requests import ChatMessage, ChatRequest

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ENTRIES"]

_BEGIN = "<|begin_of_text|>"
_ASSISTANT_NEXT = "<|start_header_id|>assistant<|end_header_id|>\n\n"


def _turn(role: str, content: str) -> str:
    """One turn of the Llama 3 chat format (content already escaped for ``str.format``)."""
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>"


def _escaped(text: str) -> str:
    """*text* as a literal inside a ``str.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _conversation(request: ChatRequest, b: Builder) -> tuple[str | None, list[ChatMessage], str]:
    """The system prompt, the earlier turns and the user's last message, or a refusal."""
    given: tuple[object, ...] = request.messages  # callers may pass anything
    if request.system_prompt is not None and not isinstance(request.system_prompt, str):
        b.fail("system_prompt", request.system_prompt, "a string")
    if not given:
        prompt = b.require(
            "prompt", request.prompt, "a prompt, or messages ending with a user turn"
        )
        return request.system_prompt, [], prompt
    if request.prompt is not None:
        b.fail("prompt", request.prompt, "a prompt or messages, not both (end messages with it)")
    messages = _messages(given, b)
    system = request.system_prompt
    if messages[0].role == "system":
        if system is not None:
            b.fail("messages", messages[0], "one system prompt: system_prompt or a first message")
        system = messages.pop(0).content
    for message in messages:
        if message.role not in ("user", "assistant"):
            b.fail("messages", message, "a system message only first, then user/assistant turns")
    if not messages or messages[-1].role != "user":
        b.fail("messages", given[-1], "a conversation whose last message is the user's turn")
    return system, messages[:-1], messages[-1].content


def _messages(given: tuple[object, ...], b: Builder) -> list[ChatMessage]:
    """*given* as ChatMessages, or a refusal of the first that is not one."""
    messages: list[ChatMessage] = []
    for item in given:
        content: object = getattr(item, "content", None)
        if not isinstance(item, ChatMessage) or not isinstance(content, str):
            b.fail("messages", item, "ChatMessage(role, content) items, content a string")
        messages.append(item)
    return messages


def _sampling(request: ChatRequest, b: Builder) -> None:
    b.set("max_tokens", whole_at_least(b, "max_tokens", request.max_tokens, 1))
    b.set("temperature", at_least(b, "temperature", request.temperature, 0))
    b.set("top_p", b.within("top_p", request.top_p, 0, 1))


def _history(history: list[ChatMessage]) -> str:
    return "".join(_turn(m.role, _escaped(m.content)) for m in history)


def _llama3(request: ChatRequest, b: Builder) -> None:
    system, history, last = _conversation(request, b)
    head = _turn("system", _escaped(system)) if system else ""
    template = f"{_BEGIN}{head}{_history(history)}{_turn('user', '{prompt}')}{_ASSISTANT_NEXT}"
    b.set("prompt", last)
    b.set("prompt_template", template)
    _sampling(request, b)
    b.drop("stop", request.stop)  # no stop field in these versions
    b.extra(request.extra)  # noqa: S610 - not Django


def _llama31(request: ChatRequest, b: Builder) -> None:
    system, history, last = _conversation(request, b)
    b.set("prompt", last)
    b.set("system_prompt", system)
    if history:
        head = _turn("system", "{system_prompt}")
        user = _turn("user", "{prompt}")
        b.set("prompt_template", f"{_BEGIN}{head}{_history(history)}{user}{_ASSISTANT_NEXT}")
    _sampling(request, b)
    b.set("stop_sequences", _stop_sequences(request.stop, b))
    b.extra(request.extra)  # noqa: S610 - not Django


def _stop_sequences(stop: tuple[str, ...], b: Builder) -> str | None:
    """The stop sequences as the comma-separated string the model splits on ``,``."""
    given: tuple[object, ...] = stop  # callers may pass anything
    for sequence in given:
        if not isinstance(sequence, str) or not sequence or "," in sequence:
            b.fail("stop", sequence, "non-empty strings without commas (sent comma-joined)")
    return ",".join(stop) or None


def _entry(
    model: str,
    build: Callable[[ChatRequest, Builder], None],
    schema: str,
    source: str,
    summary: str,
) -> CatalogEntry:
    return CatalogEntry(
        model=model,
        request=ChatRequest,
        build=build,
        schema=schema,
        output="text",
        source=source,
        summary=summary,
    )


_LLAMA3_SUMMARY = (
    "prompt or messages (last the user's) and system prompt, written in the Llama 3 chat "
    "format into prompt_template; max_tokens, temperature, top_p; no stop"
)
_LLAMA3_SOURCE = (
    "src/replicate_async/_schemas/{stem}.json: version {version} (reconstructed from "
    "nodetool-replicate; prompt_template default {{prompt}}, no system_prompt)"
)

ENTRIES: tuple[CatalogEntry, ...] = (
    _entry(
        "meta/meta-llama-3-8b-instruct",
        _llama3,
        "meta__meta-llama-3-8b-instruct",
        _LLAMA3_SOURCE.format(
            stem="meta__meta-llama-3-8b-instruct",
            version="5a6809ca6288247d06daf6365557e5e429063f32a21146b2a807c682652136b8",
        ),
        _LLAMA3_SUMMARY,
    ),
    _entry(
        "meta/meta-llama-3-70b-instruct",
        _llama3,
        "meta__meta-llama-3-70b-instruct",
        _LLAMA3_SOURCE.format(
            stem="meta__meta-llama-3-70b-instruct",
            version="fbfb20b472b2f3bdd101412a9f70a0ed4fc0ced78a77ff00970ee7a2383c575d",
        ),
        _LLAMA3_SUMMARY,
    ),
    _entry(
        "meta/meta-llama-3.1-405b-instruct",
        _llama31,
        "meta__meta-llama-3.1-405b-instruct",
        (
            "src/replicate_async/_schemas/meta__meta-llama-3.1-405b-instruct.json: verbatim "
            "latest_version openapi_schema (genfeedai/genfeed, fetched 2026-02-26; version id "
            "not recorded)"
        ),
        (
            "prompt or messages (last the user's); system_prompt; earlier turns in "
            "prompt_template; max_tokens, temperature, top_p; stop as stop_sequences (no commas)"
        ),
    ),
)
