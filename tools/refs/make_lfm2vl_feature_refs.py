#!/usr/bin/env python3
"""transformers' image features (vision tower + projector) and next-token logits on the tiny random LFM2-VL
checkpoint that make_lfm2vl_transformers_refs.py wrote (tests/model/data/lfm2-vl-tiny-hf/, read, not rewritten).

    build-refs/venv/bin/python tools/refs/make_lfm2vl_feature_refs.py   (LFM_REFS_TORCH=1 scripts/refs.sh runs it)

The model is loaded in float32 (its bf16 weights widen exactly), the real Lfm2VlProcessor prepares each image,
`model.get_image_features` gives each crop's rows, and one forward pass over the processor's input_ids gives the
logits of the next token. Kept small: per image and crop, the row count, the sum and sum of squares of all
values, and every 8th row in full; the top 8 logits of the last position. Output: features.json next to the
checkpoint (read by tests/vision/vision_transformers_test.cpp).
"""
import json, os, sys, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_lfm2_transformers_refs as R
import transformers
from transformers import Lfm2VlForConditionalGeneration, AutoProcessor
from transformers.image_utils import load_image

ckpt = os.path.join(R.ROOT, "tests", "model", "data", "lfm2-vl-tiny-hf")
m = Lfm2VlForConditionalGeneration.from_pretrained(ckpt, dtype=torch.float32).eval()
proc = AutoProcessor.from_pretrained(ckpt)
msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}]
text = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
out = {"transformers": transformers.__version__, "torch": torch.__version__, "row_stride": 8, "images": {}}
for name in ("rocket.jpg", "retina.jpg"):
    enc = proc(images=[load_image(os.path.join(R.ROOT, "..", "shared", "testdata", "images", name))], text=text,
               return_tensors="pt")
    with torch.no_grad():
        feats = m.model.get_image_features(pixel_values=enc["pixel_values"], spatial_shapes=enc["spatial_shapes"],
                                           pixel_attention_mask=enc["pixel_attention_mask"])
        feats = feats.pooler_output if hasattr(feats, "pooler_output") and feats.pooler_output is not None else feats
        logits = m(**enc).logits[0, -1]
    crops = []
    for f in feats:
        f = f.reshape(-1, f.shape[-1]).double()
        crops.append({"rows": f.shape[0], "cols": f.shape[1], "sum": f.sum().item(), "sumsq": (f * f).sum().item(),
                      "sampled_rows": [f[r].float().tolist() for r in range(0, f.shape[0], out["row_stride"])]})
    top = torch.topk(logits, 8)
    out["images"][name] = {"spatial_shapes": enc["spatial_shapes"].tolist(), "crops": crops,
                           "top_ids": top.indices.tolist(), "top_logits": top.values.tolist()}
    print(name, [c["rows"] for c in crops], top.indices.tolist()[:4])
with open(os.path.join(ckpt, "features.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
