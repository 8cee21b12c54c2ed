#!/usr/bin/python3
"""Reference outputs for SigLIP2 NaFlex position-embedding resizing (tests/model/vision_position_test.cpp).

HF Siglip2VisionEmbeddings.resize_positional_embeddings resizes the learned [grid, grid, C] table with
torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True). This script
re-implements PyTorch's antialiased separable interpolation in float64 numpy, following aten
UpSampleKernel.cpp `_compute_indices_min_size_weights_aa` for every output size (it uses one generic
formula for up- and downsampling, unlike the C++ code, which uses plain bilinear when upsampling):

  scale   = in / out                       (area_pixel_compute_scale, align_corners=False)
  support = scale if scale >= 1 else 1     (interp_size/2 = 1 for bilinear, stretched when downsampling)
  center  = scale * (i + 0.5)
  xmin    = max(int(center - support + 0.5), 0);  xmax = min(int(center + support + 0.5), in)
  w_j     = tri((j - center + 0.5) / max(scale, 1)),  tri(x) = max(0, 1 - |x|),  normalised to sum 1

The two axes are separable; the result does not depend on the pass order in exact arithmetic.

Usage: /usr/bin/python3 tools/refs/pos_embed_resize_ref.py tests/model/data
Writes pos_embed_table.f32 ([256, 8] float32, seeded normal) and pos_embed_resize_<h>x<w>.f32
([h*w, 8] float32, row y*w + x) for the sizes below.
"""
import os
import sys

import numpy as np

GRID = 16
CHANNELS = 8
SIZES = [(6, 52), (52, 6), (8, 8), (16, 16), (20, 14), (32, 32), (18, 28), (2, 2), (1, 40)]


def aa_weights(in_len, out_len):
    scale = in_len / out_len
    support = scale if scale >= 1.0 else 1.0
    inv = 1.0 / scale if scale >= 1.0 else 1.0
    m = np.zeros((out_len, in_len), dtype=np.float64)
    for i in range(out_len):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_len)
        w = np.array([max(0.0, 1.0 - abs((j - center + 0.5) * inv)) for j in range(xmin, xmax)])
        m[i, xmin:xmax] = w / w.sum()
    return m


def resize(table, h, w):
    grid = table.reshape(GRID, GRID, -1).astype(np.float64)  # [gy, gx, C]
    wy, wx = aa_weights(GRID, h), aa_weights(GRID, w)
    out = np.einsum("yi,xj,ijc->yxc", wy, wx, grid)
    return out.reshape(h * w, -1)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/model/data"
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261122)
    table = rng.standard_normal((GRID * GRID, CHANNELS)).astype(np.float32)
    table.tofile(os.path.join(out_dir, "pos_embed_table.f32"))
    for h, w in SIZES:
        resize(table, h, w).astype(np.float32).tofile(os.path.join(out_dir, f"pos_embed_resize_{h}x{w}.f32"))
    # Sanity: same size is the identity, as F.interpolate gives.
    assert np.allclose(resize(table, GRID, GRID), table, atol=1e-7)


if __name__ == "__main__":
    main()
