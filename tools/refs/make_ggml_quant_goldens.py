#!/usr/bin/env python3
"""Golden blocks for the GGUF-only block types (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K).

Random blocks (seeded), dequantized by the `gguf` Python package (llama.cpp's gguf-py, from PyPI):
`gguf.quants.dequantize`, an implementation independent of ours. tests/tensor/ggml_dequant_test.cpp
checks that our DequantizeRow gives the same f32 values bit for bit.

Every byte of a block is random except its f16 scale fields (d, and m / dmin where the type has
them), which are drawn as finite f16 values (normal, some negative, a few zero and subnormal) so
the goldens hold no NaN/Inf.

Output, one file per type: <out_dir>/<type>.bin = the blocks' bytes, then their values as
little-endian float32 (so blocks = size / (block_bytes + 4 * block_size)).

Usage: /work/venv-refs/bin/python tools/refs/make_ggml_quant_goldens.py tests/tensor/data/ggml_quants
"""
import os
import sys

import gguf
import numpy as np

# type: (number of blocks, byte offsets of f16 scale fields)
TYPES = {
    gguf.GGMLQuantizationType.Q4_1: (64, (0, 2)),
    gguf.GGMLQuantizationType.Q5_0: (64, (0,)),
    gguf.GGMLQuantizationType.Q5_1: (64, (0, 2)),
    gguf.GGMLQuantizationType.Q4_K: (16, (0, 2)),
    gguf.GGMLQuantizationType.Q5_K: (16, (0, 2)),
    gguf.GGMLQuantizationType.Q6_K: (16, (208,)),
}


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261204)
    for qtype, (n_blocks, f16_at) in TYPES.items():
        block_size, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        blocks = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
        scales = (rng.standard_normal((n_blocks, len(f16_at))) * 0.02).astype(np.float16)
        scales[0, :] = 0                                        # zero scale / min
        scales[1, :] = np.float16(3e-6)                         # subnormal f16
        scales[2, :] = -np.abs(scales[2, :])                    # negative
        for j, at in enumerate(f16_at):
            blocks[:, at:at + 2] = scales[:, j:j + 1].view(np.uint8)
        values = gguf.quants.dequantize(blocks, qtype).astype("<f4")
        assert values.shape == (n_blocks, block_size) and np.isfinite(values).all()
        path = os.path.join(out_dir, qtype.name.lower() + ".bin")
        with open(path, "wb") as f:
            f.write(blocks.tobytes())
            f.write(values.tobytes())
        print(f"{path}: {n_blocks} blocks of {block_size} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
