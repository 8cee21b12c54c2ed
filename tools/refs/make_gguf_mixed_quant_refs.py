#!/usr/bin/env python3
"""A small random LFM2 GGUF holding every GGUF-only block type, quantized by llama.cpp's llama-quantize.

The tiny test model (hidden 64) cannot hold K-quants (rows must be whole 256-element super-blocks),
so this script first writes a small random LFM2 in f32 with the `gguf` Python package (llama.cpp's
gguf-py, from PyPI): hidden 256, FFN 512, 2 layers (conv, attention), 4 heads of 64 (2 KV heads),
vocabulary 512, tied embeddings, no tokenizer (the tests feed token ids). Weights are seeded normal
values (std 0.05; norms 1 + 0.05 * normal).

Then llama-quantize (a build of llama.cpp, given as the first argument; not needed by the tests)
quantizes it with per-tensor overrides so that one file exercises each type, in the roles llama.cpp's
own Q4_K_M / Q5_K_M mixes put them:
  token_embd (tied output) q6_k, ffn_gate q4_k, ffn_up q5_k, ffn_down q6_k, shortconv.in_proj q4_1,
  shortconv.out_proj q5_1, attn_q q5_0, attn_k q4_k, attn_v q6_k, attn_output q5_1.

Writes <out_dir>/lfm2-mixed-kquants.gguf and .json: per quantized tensor, its type, the SHA-256 of
`gguf.quants.dequantize` of its blocks (an implementation independent of ours and of llama.cpp's C
code) and of the f32 source, as little-endian float32 bytes.

Usage: /work/venv-refs/bin/python tools/refs/make_gguf_mixed_quant_refs.py \
           /work/llama.cpp/build/bin/llama-quantize tests/model/data/gguf_mixed
"""
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile

import gguf
import numpy as np

D, F, HEADS, KV, HEAD_DIM, VOCAB, L_CACHE = 256, 512, 4, 2, 64, 512, 3
LAYERS = ["conv", "attention"]
OVERRIDES = {"ffn_gate": "q4_k", "ffn_up": "q5_k", "ffn_down": "q6_k", "shortconv.in_proj": "q4_1",
             "shortconv.out_proj": "q5_1", "attn_q": "q5_0", "attn_k": "q4_k", "attn_v": "q6_k",
             "attn_output": "q5_1"}


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype("<f4").tobytes()).hexdigest()


def random_f32_gguf(path):
    rng = np.random.default_rng(20261204)
    w = gguf.GGUFWriter(path, "lfm2")
    w.add_name("lfm2-mixed-kquants-random")
    w.add_context_length(4096)
    w.add_embedding_length(D)
    w.add_block_count(len(LAYERS))
    w.add_feed_forward_length(F)
    w.add_head_count(HEADS)
    w.add_head_count_kv([KV if k == "attention" else 0 for k in LAYERS])
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_uint32("lfm2.shortconv.l_cache", L_CACHE)
    w.add_vocab_size(VOCAB)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_bos_token_id(1)
    w.add_eos_token_id(7)
    w.add_pad_token_id(0)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)

    def norm():
        return (1 + rng.standard_normal(D) * 0.05).astype(np.float32)

    w.add_tensor("token_embd.weight", mat(VOCAB, D))
    w.add_tensor("token_embd_norm.weight", norm())
    for i, kind in enumerate(LAYERS):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", norm())
        w.add_tensor(p + "ffn_norm.weight", norm())
        w.add_tensor(p + "ffn_gate.weight", mat(F, D))
        w.add_tensor(p + "ffn_up.weight", mat(F, D))
        w.add_tensor(p + "ffn_down.weight", mat(D, F))
        if kind == "conv":
            w.add_tensor(p + "shortconv.conv.weight", mat(D, L_CACHE))
            w.add_tensor(p + "shortconv.in_proj.weight", mat(3 * D, D))
            w.add_tensor(p + "shortconv.out_proj.weight", mat(D, D))
        else:
            w.add_tensor(p + "attn_q.weight", mat(HEADS * HEAD_DIM, D))
            w.add_tensor(p + "attn_k.weight", mat(KV * HEAD_DIM, D))
            w.add_tensor(p + "attn_v.weight", mat(KV * HEAD_DIM, D))
            w.add_tensor(p + "attn_output.weight", mat(D, HEADS * HEAD_DIM))
            w.add_tensor(p + "attn_q_norm.weight", (1 + rng.standard_normal(HEAD_DIM) * 0.05).astype(np.float32))
            w.add_tensor(p + "attn_k_norm.weight", (1 + rng.standard_normal(HEAD_DIM) * 0.05).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    quantize, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    name = "lfm2-mixed-kquants"
    out = os.path.join(out_dir, name + ".gguf")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "f32.gguf")
        random_f32_gguf(src)
        cmd = [quantize, "--token-embedding-type", "q6_k"]
        for pattern, t in OVERRIDES.items():
            cmd += ["--tensor-type", f"{pattern}={t}"]
        cmd += [src, out, "Q4_K_M", "1"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        source = {t.name: np.array(t.data, dtype=np.float32) for t in gguf.GGUFReader(src).tensors}
    # llama-quantize has no --version; the llama-completion next to it reports the build's.
    version = subprocess.run([os.path.join(os.path.dirname(quantize), "llama-completion"), "--version"],
                             capture_output=True, text=True)
    refs = {"quantizer": "llama-quantize, llama.cpp " + (version.stdout + version.stderr).strip().splitlines()[0],
            "dequantizer": f"gguf {importlib.metadata.version('gguf')} gguf.quants.dequantize",
            "numpy": np.__version__, "tensors": {}}
    for t in gguf.GGUFReader(out).tensors:
        if t.tensor_type == gguf.GGMLQuantizationType.F32:
            continue
        deq = gguf.quants.dequantize(np.array(t.data), t.tensor_type)
        assert deq.shape == source[t.name].shape, (t.name, deq.shape)
        refs["tensors"][t.name] = {"type": t.tensor_type.name, "shape": list(deq.shape),
                                   "source_f32_sha256": sha256(source[t.name]), "dequantized_f32_sha256": sha256(deq)}
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
        f.write("\n")
    types = sorted({v["type"] for v in refs["tensors"].values()})
    print(f"{out}: {os.path.getsize(out)} bytes, {len(refs['tensors'])} quantized tensors, types {types}")


if __name__ == "__main__":
    main()
