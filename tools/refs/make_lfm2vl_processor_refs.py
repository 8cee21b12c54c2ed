#!/usr/bin/env python3
"""transformers' own LFM2-VL processor on the shared test images: the golden for our src/image.

    build-refs/venv/bin/python tools/refs/make_lfm2vl_processor_refs.py   (LFM_REFS_TORCH=1 scripts/refs.sh runs it)

The processor is built from the published LFM2.5-VL-450M configs (../shared/testdata/lfm2/LFM2.5-VL-450M:
processor_config.json names Lfm2VlProcessor + Lfm2VlImageProcessorFast) and the real tokenizer
(tests/text/data/lfm2.5-vl-450m/tokenizer.json). Each image is loaded with transformers.image_utils.load_image
(PIL, EXIF transpose, RGB) and run with the chat-templated prompt "<image>Describe this image.".

Output: tests/image/data/transformers_lfm2vl.json, per image:
  input_ids             the expanded ids, exactly
  expanded_text         tokenizer.decode(input_ids) (the prompt string after image-token expansion)
  pixel_values_shape    [crops, max_num_patches, 3*16*16]
  spatial_shapes        [[patches_h, patches_w], ...]
  mask_sums             valid patches per crop (pixel_attention_mask row sums; the mask is a prefix)
  crop_sums             sum of each crop's pixel_values (float64)
  sha256                of pixel_values as float32 little-endian
  samples               pixel_values.flatten()[::SAMPLE_STRIDE]
"""
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import PIL
import torch
import torchvision
import transformers
from transformers import AutoProcessor
from transformers.image_utils import load_image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "testdata")
CONFIGS = os.path.join(SHARED, "lfm2", "LFM2.5-VL-450M")
IMAGES = ["branches.jpg", "camera.png", "chelsea.png", "retina.jpg", "rocket.jpg"]
SAMPLE_STRIDE = 2003
PROMPT = "Describe this image."


def main():
    with tempfile.TemporaryDirectory() as d:
        for name in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json",
                     "chat_template.jinja"):
            shutil.copyfile(os.path.join(CONFIGS, name), os.path.join(d, name))
        shutil.copyfile(os.path.join(ROOT, "tests", "text", "data", "lfm2.5-vl-450m", "tokenizer.json"),
                        os.path.join(d, "tokenizer.json"))
        proc = AutoProcessor.from_pretrained(d)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]}]
    text = proc.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    out = {
        "about": "tools/refs/make_lfm2vl_processor_refs.py: transformers' Lfm2VlProcessor on the shared images",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "pillow": PIL.__version__},
        "processor": type(proc).__name__, "image_processor": type(proc.image_processor).__name__,
        "prompt": text, "sample_stride": SAMPLE_STRIDE, "images": {},
    }
    for name in IMAGES:
        img = load_image(os.path.join(SHARED, "images", name))
        enc = proc(images=[img], text=text, return_tensors="pt")
        pv = enc["pixel_values"].to(torch.float32).numpy()
        mask = enc["pixel_attention_mask"].numpy()
        for r in range(mask.shape[0]):  # the mask is a prefix of ones: sums describe it fully
            k = int(mask[r].sum())
            assert mask[r, :k].all() and not mask[r, k:].any()
        ids = enc["input_ids"][0].tolist()
        out["images"][name] = {
            "size": [img.height, img.width],
            "input_ids": ids,
            "expanded_text": proc.tokenizer.decode(ids),
            "pixel_values_shape": list(pv.shape),
            "spatial_shapes": enc["spatial_shapes"].tolist(),
            "mask_sums": [int(s) for s in mask.sum(1)],
            "crop_sums": [float(pv[c].astype(np.float64).sum()) for c in range(pv.shape[0])],
            "sha256": hashlib.sha256(pv.astype("<f4").tobytes()).hexdigest(),
            "samples": [float(v) for v in pv.reshape(-1)[::SAMPLE_STRIDE]],
        }
        print(f"{name}: {img.width}x{img.height} -> {list(pv.shape)}, {ids.count(396)} image tokens")
    path = os.path.join(ROOT, "tests", "image", "data", "transformers_lfm2vl.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({out['processor']}, {out['image_processor']})")


if __name__ == "__main__":
    main()
