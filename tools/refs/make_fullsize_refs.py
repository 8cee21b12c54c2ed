#!/usr/bin/env python3
"""transformers' logits and image features on the FULL-SIZE random checkpoints that our own deterministic
generator writes, so that CI (which has no torch and cannot store a 700 MB checkpoint) checks the real
LFM2-350M and LFM2.5-VL-450M shapes against transformers: CI rewrites the same checkpoint bit for bit
(`lfm make-test-model`, fixed seed) and compares with the small goldens committed here.

    build-refs/venv/bin/python tools/refs/make_fullsize_refs.py build/lfm   (LFM_REFS_TORCH=1 scripts/refs.sh runs it)

1. `lfm make-test-model --shape lfm2-350m` and `--shape lfm2.5-vl-450m` (default seed, bf16, as stored by
   the published checkpoints) into build-refs/fullsize-*/. The sha256 of each model.safetensors goes into the
   goldens, so a test can tell "the generator changed" from "the arithmetic is wrong".
2. Text: `Lfm2ForCausalLM.from_pretrained(dir, dtype=float32)` on the three prompts of
   make_lfm2_transformers_refs.py (short, 600+ tokens, chat-templated; ids from the real tokenizer) ->
   tests/model/data/fullsize/lfm2-350m-golden.txt, in golden.txt's format.
3. Vision: the real Lfm2VlImageProcessorFast (from the directory's preprocessor_config.json; in transformers 5
   an alias of Lfm2VlImageProcessor on its torchvision backend, which the golden records) on rocket.jpg
   (one crop), then `Lfm2VlForConditionalGeneration.model.get_image_features` in float32 ->
   tests/model/data/fullsize/lfm2.5-vl-450m-features.json (row count, sum, sum of squares, every 32nd row).
"""
import hashlib
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_lfm2_transformers_refs as R  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoImageProcessor, AutoTokenizer, Lfm2VlForConditionalGeneration  # noqa: E402
from transformers.image_utils import load_image  # noqa: E402

OUT = os.path.join(R.ROOT, "tests", "model", "data", "fullsize")
WORK = os.path.join(R.ROOT, "build-refs")
ROW_STRIDE = 32


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_checkpoint(lfm, shape):
    out = os.path.join(WORK, "fullsize-" + shape)
    subprocess.run([lfm, "make-test-model", "--shape", shape, "--out", out, "-q"], check=True)
    return out, sha256(os.path.join(out, "model.safetensors"))


def text_golden(lfm):
    ckpt, digest = make_checkpoint(lfm, "lfm2-350m")
    # The prompts' ids come from the real tokenizer (the one next to the tiny transformers checkpoint);
    # the random checkpoint's own tokenizer does not matter: the test feeds ids.
    tok = AutoTokenizer.from_pretrained(os.path.join(R.ROOT, "tests", "model", "data", "lfm2-tiny-hf"))
    path = os.path.join(OUT, "lfm2-350m-golden.txt")
    R.write_golden(ckpt, tok, path)
    with open(path) as f:
        # write_golden's header names the seed of transformers' own init, unused here.
        body = f.read().replace(f", seed {R.SEED}, ", ", ")
    with open(path, "w") as f:
        f.write(f"# checkpoint: lfm make-test-model --shape lfm2-350m (default seed), model.safetensors sha256 {digest}\n")
        f.write(body)


def vision_golden(lfm):
    ckpt, digest = make_checkpoint(lfm, "lfm2.5-vl-450m")
    m = Lfm2VlForConditionalGeneration.from_pretrained(ckpt, dtype=torch.float32).eval()
    proc = AutoImageProcessor.from_pretrained(ckpt)
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "row_stride": ROW_STRIDE,
           "image_processor": f"{type(proc).__name__}/{type(proc).__mro__[1].__name__}", "checkpoint_sha256": digest, "images": {}}
    for name in ("rocket.jpg",):
        enc = proc(images=[load_image(os.path.join(R.ROOT, "..", "shared", "testdata", "images", name))],
                   return_tensors="pt")
        with torch.no_grad():
            feats = m.model.get_image_features(pixel_values=enc["pixel_values"], spatial_shapes=enc["spatial_shapes"],
                                               pixel_attention_mask=enc["pixel_attention_mask"])
        feats = feats.pooler_output if getattr(feats, "pooler_output", None) is not None else feats
        crops = []
        for f in feats:
            f = f.reshape(-1, f.shape[-1]).double()
            crops.append({"rows": f.shape[0], "cols": f.shape[1], "sum": f.sum().item(),
                          "sumsq": (f * f).sum().item(),
                          "sampled_rows": [f[r].float().tolist() for r in range(0, f.shape[0], ROW_STRIDE)]})
        out["images"][name] = {"spatial_shapes": enc["spatial_shapes"].tolist(), "crops": crops}
        print(name, [c["rows"] for c in crops])
    with open(os.path.join(OUT, "lfm2.5-vl-450m-features.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_fullsize_refs.py PATH/TO/lfm")
    os.makedirs(OUT, exist_ok=True)
    text_golden(sys.argv[1])
    vision_golden(sys.argv[1])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
