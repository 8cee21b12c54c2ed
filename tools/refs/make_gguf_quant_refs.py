#!/usr/bin/env python3
"""Q8_0 and Q4_0 GGUF files of the tiny random LFM2 model, quantized by an independent quantizer.

The quantizer is the `gguf` Python package (llama.cpp's gguf-py, from PyPI): `gguf.quants.quantize`,
whose Q8_0 is documented as bit-exact with ggml's reference quantizer. The input is
../shared/testdata/lfm2-synthetic/tiny-lfm2/model-f32.gguf (llama.cpp's own f32 conversion).

To keep the committed files small (about 1 MB together) the vocabulary is cut to its first VOCAB
ids: the embedding table (tied with the output) keeps rows [0, VOCAB), `lfm2.vocab_size` says
VOCAB, and the tokenizer metadata is dropped (the tests feed token ids; both reference prompts
of tiny-lfm2 use ids < VOCAB). Every other tensor and metadata value is copied.

Every 2-D tensor whose rows are whole 32-element blocks is quantized (the embedding table and
all block matrices); the norms and the [64, 3] conv kernels stay F32, as llama-quantize keeps them.

Also writes <name>.json with, per quantized tensor, the SHA-256 of `gguf.quants.dequantize` of its
blocks as little-endian float32 bytes, and the SHA-256 of the source f32 rows. The C++ test checks
that its own dequantization of the same blocks gives the same bytes (bit-exact), then compares the
decoder run on the quantized file against an f32 run on those dequantized weights.

Usage: /work/venv-refs/bin/python tools/refs/make_gguf_quant_refs.py \
           ../shared/testdata/lfm2-synthetic/tiny-lfm2/model-f32.gguf tests/model/data/gguf_quant
"""
import hashlib
import importlib.metadata
import json
import os
import sys

import gguf
import numpy as np

VOCAB = 8192
DROPPED_KEYS = ("tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
                "tokenizer.ggml.merges", "tokenizer.chat_template", "tokenizer.ggml.add_bos_token",
                "tokenizer.ggml.add_eos_token")


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype("<f4").tobytes()).hexdigest()


def field_value(field):
    value = field.contents()
    sub_type = field.types[1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
    return value, field.types[0], sub_type


def write(reader, qtype, out_dir):
    name = f"tiny-lfm2-v{VOCAB}-{qtype.name.lower()}"
    path = os.path.join(out_dir, name + ".gguf")
    w = gguf.GGUFWriter(path, "lfm2")
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture" or key in DROPPED_KEYS:
            continue
        value, vtype, sub_type = field_value(field)
        if key == "lfm2.vocab_size":
            value = VOCAB
        elif key == "general.name":
            value = f"{value}-v{VOCAB}-{qtype.name.lower()}"
        elif key == "general.file_type":
            value = {gguf.GGMLQuantizationType.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
                     gguf.GGMLQuantizationType.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0}[qtype]
        w.add_key_value(key, value, vtype, sub_type)
    refs = {"quantizer": f"gguf {importlib.metadata.version('gguf')} gguf.quants",
            "numpy": np.__version__, "type": qtype.name, "vocab": VOCAB, "tensors": {}}
    for t in reader.tensors:
        data = np.array(t.data, dtype=np.float32)
        if t.name == "token_embd.weight":
            data = data[:VOCAB]
        if data.ndim == 2 and data.shape[1] % 32 == 0:
            q = gguf.quants.quantize(data, qtype)
            deq = gguf.quants.dequantize(q, qtype)
            assert deq.shape == data.shape
            refs["tensors"][t.name] = {"shape": list(data.shape), "source_f32_sha256": sha256(data),
                                       "dequantized_f32_sha256": sha256(deq)}
            w.add_tensor(t.name, q, raw_dtype=qtype)
        else:
            w.add_tensor(t.name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes, {len(refs['tensors'])} quantized tensors")


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    reader = gguf.GGUFReader(src)
    for qtype in (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0):
        write(reader, qtype, out_dir)


if __name__ == "__main__":
    main()
