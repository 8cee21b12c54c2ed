#!/usr/bin/env python3
"""Random LFM2 text checkpoints written by transformers itself, and transformers' logits on them.

    build-refs/venv/bin/python tools/refs/make_lfm2_transformers_refs.py tiny   (LFM_REFS_TORCH=1 scripts/refs.sh runs both)
    build-refs/venv/bin/python tools/refs/make_lfm2_transformers_refs.py full

`Lfm2ForCausalLM(config)` with a seeded init, then `save_pretrained(safe_serialization=True)`, so tensor
names, dtypes and file layout are transformers', not ours. Next to the weights go the real LFM2.5-VL
tokenizer (tests/text/data/lfm2.5-vl-450m/tokenizer.json) and the published tokenizer_config.json and
chat_template.jinja (../shared/testdata/lfm2/LFM2.5-VL-450M/), so our engine loads the directory as is.

tiny: a 6-layer, 16-wide decoder in bf16 (the published dtype) with the real 65,536-row vocabulary,
      ~2.1 MB, committed to tests/model/data/lfm2-tiny-hf/ (read by tests/model/lfm2_transformers_test.cpp
      and tests/e2e/cli_transformers_test.cpp).
full: the LFM2-350M shape (text_config of LFM2.5-VL-450M's published config.json), bf16, ~710 MB, written
      to build-refs/lfm2-350m-hf/ (not committed; the DISABLED_ full-size test reads it).

The reference is transformers in float32 (`from_pretrained(dir, dtype=float32)`: bf16 -> f32 is exact, so
both sides run the same f32 weights). golden.txt, per prompt (short, 600+ tokens, chat-templated):
    prompt NAME
    ids    the prompt ids (BOS included; chat prompt rendered by apply_chat_template)
    greedy 8 greedy ids from transformers (prefill, then one token per step with the cache)
    row P ABSMAX top ID:VAL*8 sample VAL*64
rows are numbered over prompt + greedy[:-1] (the sequence whose logits predict each next token); `sample`
holds the logits of ids 0, 1024, 2048, ... (every 1024th id) so the whole row is probed, not only its top.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, Lfm2Config, Lfm2ForCausalLM

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOK_DIR = os.path.join(ROOT, "tests", "text", "data", "lfm2.5-vl-450m")
SHARED = os.path.join(ROOT, "..", "shared", "testdata", "lfm2", "LFM2.5-VL-450M")
SEED = 20261203
TOP_K = 8
SAMPLE_STRIDE = 1024
GREEDY_STEPS = 8


def tiny_config():
    return Lfm2Config(
        vocab_size=65536, hidden_size=16, intermediate_size=32, num_hidden_layers=6,
        num_attention_heads=4, num_key_value_heads=2,
        layer_types=["conv", "conv", "full_attention", "conv", "conv", "full_attention"],
        block_auto_adjust_ff_dim=False, conv_L_cache=3, conv_bias=False, norm_eps=1e-5,
        rope_parameters={"rope_theta": 1000000.0, "rope_type": "default"}, max_position_embeddings=128000,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=7, pad_token_id=0,
        # A wider init than the published 0.02 so random logits have margins far above f32 noise.
        initializer_range=0.2)


def full_config():
    with open(os.path.join(SHARED, "config.json")) as f:
        tc = json.load(f)["text_config"]
    return Lfm2Config(**tc)


def write_checkpoint(cfg, out):
    torch.manual_seed(SEED)
    model = Lfm2ForCausalLM(cfg).to(torch.bfloat16)
    model.eval()
    if os.path.isdir(out):
        shutil.rmtree(out)
    model.save_pretrained(out, safe_serialization=True)
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)
    shutil.copyfile(os.path.join(TOK_DIR, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    for name in ("tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        shutil.copyfile(os.path.join(SHARED, name), os.path.join(out, name))
    return model


def prompts(tok):
    short = tok("The capital of France is").input_ids
    # 600+ tokens of mixed text: the first lines of the committed tokenizer corpus, joined.
    text = ""
    with open(os.path.join(TOK_DIR, "corpus.jsonl"), encoding="utf-8") as f:
        for line in f:
            text += json.loads(line) + "\n"
            if len(tok(text).input_ids) >= 640:
                break
    long = tok(text).input_ids
    chat = tok.apply_chat_template(
        [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "Describe a lighthouse at night in two sentences."}],
        add_generation_prompt=True, tokenize=True, return_dict=False)
    if isinstance(chat, dict) or hasattr(chat, "input_ids"):
        chat = chat["input_ids"]
    return [("short", list(short)), ("long", list(long)), ("chat", list(chat))]


def checked_rows(name, n_prompt, n_total):
    if name == "long":
        rows = list(range(0, n_prompt, 37)) + [n_prompt - 1]
    else:
        rows = list(range(n_prompt))
    return sorted(set(rows + list(range(n_prompt, n_total))))


@torch.no_grad()
def run(model, ids):
    """Prefill logits for every prompt row, then greedy decode steps with the cache."""
    out = model(torch.tensor([ids]), use_cache=True)
    rows = [out.logits[0].float().numpy()]
    past = out.past_key_values
    greedy = [int(rows[-1][-1].argmax())]
    for _ in range(GREEDY_STEPS - 1):
        out = model(torch.tensor([[greedy[-1]]]), past_key_values=past, use_cache=True)
        past = out.past_key_values
        rows.append(out.logits[0].float().numpy())
        greedy.append(int(rows[-1][-1].argmax()))
    return np.concatenate(rows, axis=0), greedy


def write_golden(out, tok, out_path):
    # The reference reads the directory back in float32: the bf16 -> f32 widening is exact, and
    # RoPE's inv_freq buffer is recomputed in f32 (model.to(bfloat16).float() would leave it rounded
    # to bf16, which moves long-context logits by ~1e-2 of the row max).
    model = Lfm2ForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert model.model.rotary_emb.inv_freq.dtype == torch.float32
    lines = [f"# transformers {transformers.__version__}, torch {torch.__version__}, seed {SEED}, f32 forward",
             f"# written by tools/refs/make_lfm2_transformers_refs.py; top_k {TOP_K} sample_stride {SAMPLE_STRIDE}"]
    margins = []
    for name, ids in prompts(tok):
        logits, greedy = run(model, ids)
        lines.append(f"prompt {name}")
        lines.append("ids " + " ".join(map(str, ids)))
        lines.append("greedy " + " ".join(map(str, greedy)))
        for p in checked_rows(name, len(ids), logits.shape[0]):
            row = logits[p]
            top = np.argsort(-row, kind="stable")[:TOP_K]
            margins.append((row[top[0]] - row[top[1]]) / np.abs(row).max())
            lines.append(f"row {p} {np.abs(row).max():.9g} top "
                         + " ".join(f"{int(i)}:{row[i]:.9g}" for i in top) + " sample "
                         + " ".join(f"{v:.9g}" for v in row[::SAMPLE_STRIDE]))
        print(f"{name}: {len(ids)} prompt ids, greedy {greedy}")
    print(f"smallest top-2 margin over checked rows: {min(margins):.3g} of the row max")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    if which == "tiny":
        out = os.path.join(ROOT, "tests", "model", "data", "lfm2-tiny-hf")
        cfg = tiny_config()
    elif which == "full":
        out = os.path.join(ROOT, "build-refs", "lfm2-350m-hf")
        cfg = full_config()
    else:
        sys.exit("usage: make_lfm2_transformers_refs.py tiny|full")
    write_checkpoint(cfg, out)
    tok = AutoTokenizer.from_pretrained(out)
    write_golden(out, tok, os.path.join(out, "golden.txt"))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
