# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The language model entries: Llama 3 8B/70B Instruct, Llama 3.1 405B Instruct (issue 13)."""

from __future__ import annotations

import pytest

from replicate_async._schemas import input_errors
from replicate_async.catalog import Catalog, ChatMessage, ChatRequest
from replicate_async.exceptions import ValidationError

L8 = "meta/meta-llama-3-8b-instruct"
L70 = "meta/meta-llama-3-70b-instruct"
L405 = "meta/meta-llama-3.1-405b-instruct"
STEMS = {
    L8: "meta__meta-llama-3-8b-instruct",
    L70: "meta__meta-llama-3-70b-instruct",
    L405: "meta__meta-llama-3.1-405b-instruct",
}

BEGIN = "<|begin_of_text|>"
SYS = "<|start_header_id|>system<|end_header_id|>\n\n"
USER = "<|start_header_id|>user<|end_header_id|>\n\n"
ASSISTANT = "<|start_header_id|>assistant<|end_header_id|>\n\n"
EOT = "<|eot_id|>"
PLAIN = f"{BEGIN}{USER}{{prompt}}{EOT}{ASSISTANT}"

CONVERSATION = (
    ChatMessage("system", "Answer in {JSON}."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello! {}"),
    ChatMessage("user", "What is 2+2?"),
)

LLAMA3 = [
    pytest.param(ChatRequest("Hi"), {"prompt": "Hi", "prompt_template": PLAIN}, (), id="prompt"),
    pytest.param(
        ChatRequest("Hi", system_prompt="Be brief.", max_tokens=64, temperature=0.2, top_p=0.5),
        {
            "prompt": "Hi",
            "prompt_template": f"{BEGIN}{SYS}Be brief.{EOT}{USER}{{prompt}}{EOT}{ASSISTANT}",
            "max_tokens": 64,
            "temperature": 0.2,
            "top_p": 0.5,
        },
        (),
        id="system",
    ),
    pytest.param(
        ChatRequest(messages=CONVERSATION, stop=["\n\n"], extra={"min_tokens": 2}),
        {
            "prompt": "What is 2+2?",
            "prompt_template": (
                f"{BEGIN}{SYS}Answer in {{{{JSON}}}}.{EOT}{USER}Hi{EOT}"
                f"{ASSISTANT}Hello! {{{{}}}}{EOT}{USER}{{prompt}}{EOT}{ASSISTANT}"
            ),
            "min_tokens": 2,
        },
        ("stop",),
        id="conversation",
    ),
]


@pytest.mark.parametrize("model", [L8, L70])
@pytest.mark.parametrize(("request_", "expected", "dropped"), LLAMA3)
def test_llama3_table(model, request_, expected, dropped):
    """Llama 3 8B/70B: the request maps to exactly this input, valid against the schema."""
    built = Catalog().plan(model, request_)
    assert dict(built.input) == expected
    assert built.dropped == dropped
    assert built.entry is not None
    assert built.entry.output == "text"
    assert built.entry.schema == STEMS[model]
    assert input_errors(STEMS[model], built.input) == []


LLAMA31 = [
    pytest.param(ChatRequest("Hi"), {"prompt": "Hi"}, id="prompt"),
    pytest.param(
        ChatRequest(
            "Hi", system_prompt="Be brief.", max_tokens=100, top_p=0.8, stop=["<end>", "###"]
        ),
        {
            "prompt": "Hi",
            "system_prompt": "Be brief.",
            "max_tokens": 100,
            "top_p": 0.8,
            "stop_sequences": "<end>,###",
        },
        id="system-stop",
    ),
    pytest.param(
        ChatRequest(messages=CONVERSATION, temperature=0, extra={"top_k": 10}),
        {
            "prompt": "What is 2+2?",
            "system_prompt": "Answer in {JSON}.",
            "prompt_template": (
                f"{BEGIN}{SYS}{{system_prompt}}{EOT}{USER}Hi{EOT}"
                f"{ASSISTANT}Hello! {{{{}}}}{EOT}{USER}{{prompt}}{EOT}{ASSISTANT}"
            ),
            "temperature": 0,
            "top_k": 10,
        },
        id="conversation",
    ),
]


@pytest.mark.parametrize(("request_", "expected"), LLAMA31)
def test_llama31_table(request_, expected):
    """Llama 3.1 405B: the request maps to exactly this input, valid against the schema."""
    built = Catalog().plan(L405, request_)
    assert dict(built.input) == expected
    assert built.dropped == ()
    assert built.entry is not None
    assert built.entry.output == "text"
    assert input_errors(STEMS[L405], built.input) == []


def test_llama3_template_formats_to_the_chat():
    """Filled as the server fills it (`str.format`), the template gives the conversation verbatim."""
    built = Catalog().build(L8, ChatRequest(messages=CONVERSATION))
    text = built["prompt_template"].format(prompt=built["prompt"])
    assert text == (
        f"{BEGIN}{SYS}Answer in {{JSON}}.{EOT}{USER}Hi{EOT}{ASSISTANT}Hello! {{}}{EOT}"
        f"{USER}What is 2+2?{EOT}{ASSISTANT}"
    )


def test_llama31_template_formats_to_the_chat():
    """405B's conversation template takes the system prompt and the prompt from their fields."""
    built = Catalog().build(L405, ChatRequest(messages=CONVERSATION))
    text = built["prompt_template"].format(
        system_prompt=built["system_prompt"], prompt=built["prompt"]
    )
    assert text == (
        f"{BEGIN}{SYS}Answer in {{JSON}}.{EOT}{USER}Hi{EOT}{ASSISTANT}Hello! {{}}{EOT}"
        f"{USER}What is 2+2?{EOT}{ASSISTANT}"
    )


def test_user_braces_stay_in_the_prompt():
    """The user's last message goes to `prompt` as given, braces and all (format leaves values)."""
    built = Catalog().build(L70, ChatRequest('Return {"a": 1}'))
    assert built["prompt"] == 'Return {"a": 1}'
    assert built["prompt_template"].format(prompt=built["prompt"]).count('{"a": 1}') == 1


# -- NeuroLink's mistakes (issue 13) ---------------------------------------------------------


@pytest.mark.parametrize("model", list(STEMS))
def test_max_tokens_not_max_new_tokens(model):
    """The token limit is `max_tokens` (NeuroLink sent `max_new_tokens`)."""
    built = Catalog().build(model, ChatRequest("Hi", max_tokens=256))
    assert built["max_tokens"] == 256
    assert "max_new_tokens" not in built


@pytest.mark.parametrize("model", list(STEMS))
def test_top_p_not_forced(model):
    """`top_p` is absent unless given (NeuroLink forced top_p=1), and sent as given."""
    assert "top_p" not in Catalog().build(model, ChatRequest("Hi", temperature=0.7))
    assert Catalog().build(model, ChatRequest("Hi", top_p=1))["top_p"] == 1


@pytest.mark.parametrize("model", [L8, L70])
def test_llama3_system_prompt_not_prepended(model):
    """Llama 3 8B/70B: the system prompt goes in the chat template's system turn, not the prompt."""
    built = Catalog().build(model, ChatRequest("Hi", system_prompt="Speak like a pirate."))
    assert built["prompt"] == "Hi"
    assert f"{SYS}Speak like a pirate.{EOT}" in built["prompt_template"]
    assert "system_prompt" not in built


def test_llama31_system_prompt_in_its_field():
    """Llama 3.1 405B has `system_prompt`: the system prompt goes there, the prompt is untouched."""
    built = Catalog().build(L405, ChatRequest("Hi", system_prompt="Speak like a pirate."))
    assert built == {"prompt": "Hi", "system_prompt": "Speak like a pirate."}


@pytest.mark.parametrize("model", [L8, L70])
def test_llama3_stop_dropped(model):
    """Llama 3 8B/70B have no stop field: stop is left out and reported."""
    built = Catalog().plan(model, ChatRequest("Hi", stop=["\n"]))
    assert set(built.input) == {"prompt", "prompt_template"}
    assert built.dropped == ("stop",)


# -- refusals --------------------------------------------------------------------------------

REFUSALS = [
    pytest.param(
        ChatRequest(), "prompt=None", "a prompt, or messages ending with a user turn", id="nothing"
    ),
    pytest.param(
        ChatRequest(messages=[ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello")]),
        "messages=ChatMessage(role='assistant', content='Hello')",
        "a conversation whose last message is the user's turn",
        id="last-assistant",
    ),
    pytest.param(
        ChatRequest(messages=[ChatMessage("system", "Be brief.")]),
        "messages=ChatMessage(role='system', content='Be brief.')",
        "a conversation whose last message is the user's turn",
        id="only-system",
    ),
    pytest.param(
        ChatRequest("Hi", messages=[ChatMessage("user", "Hello")]),
        "prompt='Hi'",
        "a prompt or messages, not both",
        id="prompt-and-messages",
    ),
    pytest.param(
        ChatRequest(messages=[ChatMessage("user", "Hi"), ChatMessage("system", "Be brief.")]),
        "messages=ChatMessage(role='system', content='Be brief.')",
        "a system message only first",
        id="system-later",
    ),
    pytest.param(
        ChatRequest(
            messages=[ChatMessage("system", "A"), ChatMessage("user", "Hi")], system_prompt="B"
        ),
        "messages=ChatMessage(role='system', content='A')",
        "one system prompt: system_prompt or a first message",
        id="two-system-prompts",
    ),
    pytest.param(
        ChatRequest(messages=[{"role": "user", "content": "Hi"}]),
        "messages={'role': 'user', 'content': 'Hi'}",
        "ChatMessage(role, content) items",
        id="dict-message",
    ),
    pytest.param(
        ChatRequest("Hi", max_tokens=0),
        "max_tokens=0",
        "a whole number of at least 1",
        id="max-tokens",
    ),
    pytest.param(
        ChatRequest("Hi", max_tokens=10.5),
        "max_tokens=10.5",
        "a whole number of at least 1",
        id="max-tokens-fraction",
    ),
    pytest.param(ChatRequest("Hi", top_p=1.5), "top_p=1.5", "a number from 0 to 1", id="top-p"),
    pytest.param(
        ChatRequest("Hi", temperature=-0.1),
        "temperature=-0.1",
        "a number of at least 0",
        id="temperature",
    ),
    pytest.param(
        ChatRequest("Hi", system_prompt=3), "system_prompt=3", "a string", id="system-type"
    ),
]


@pytest.mark.parametrize("model", list(STEMS))
@pytest.mark.parametrize(("request_", "shown", "allowed"), REFUSALS)
def test_refusal(model, request_, shown, allowed):
    """A request the model cannot take is refused, naming the model, field, value and rule."""
    with pytest.raises(ValidationError) as info:
        Catalog().plan(model, request_)
    message = str(info.value)
    assert message.startswith(f"{model}: {shown} is not accepted: ")
    assert allowed in message
    assert info.value.status_code is None


@pytest.mark.parametrize("stop", [["a,b"], [""]])
def test_llama31_stop_refusal(stop):
    """405B's stop sequences are sent comma-joined, so one with a comma (or empty) is refused."""
    with pytest.raises(ValidationError) as info:
        Catalog().build(L405, ChatRequest("Hi", stop=stop))
    assert str(info.value) == (
        f"{L405}: stop={stop[0]!r} is not accepted: "
        "non-empty strings without commas (sent comma-joined)"
    )


@pytest.mark.parametrize("model", [L8, L70])
def test_llama3_own_template_refused(model):
    """An `extra` prompt_template would replace the chat format the entry writes: say it once."""
    with pytest.raises(ValidationError, match=r"extra\['prompt_template'\]='\{prompt\}'"):
        Catalog().build(model, ChatRequest("Hi", extra={"prompt_template": "{prompt}"}))


@pytest.mark.parametrize("model", list(STEMS))
def test_unknown_extra_refused(model):
    """An `extra` key the schema does not name (here `max_new_tokens`) is refused."""
    with pytest.raises(ValidationError) as info:
        Catalog().build(model, ChatRequest("Hi", extra={"max_new_tokens": 5}))
    assert str(info.value).startswith(f"{model}: ")
    assert "input.max_new_tokens: the model has no input 'max_new_tokens'" in str(info.value)
