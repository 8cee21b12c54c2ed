#!/usr/bin/env python3
"""Tensor names and shapes of the published LFM2 checkpoints, as transformers builds them.

The real model.safetensors files are not available here, so the reference list comes from the
model code that wrote them: transformers' Lfm2ForCausalLM / Lfm2VlForConditionalGeneration,
instantiated on the meta device (no memory, no weights) from the published config.json in
../shared/testdata/lfm2/. The state dict then goes through the same two steps
`PreTrainedModel.save_pretrained` applies before writing a checkpoint:
  1. tied weights are dropped (tie_word_embeddings: lm_head.weight is not stored);
  2. the weight-name conversion is reverted to the on-disk layout. Recent transformers load
     SigLIP2 checkpoints through a PrefixChange that strips `vision_model.`; the published
     checkpoints carry it (model.vision_tower.vision_model.*). `revert_weight_conversion` re-adds
     it only for a model that came from `from_pretrained`, so the conversions are attached here as
     `from_pretrained` would attach them.

Cross-check: every name must also be one that llama.cpp's converter knows (the `gguf` package's
TensorNameMap for LFM2 text tensors and for mmproj vision/projector tensors, which list the HF
checkpoint names they convert); the script stops if one is not.

Output: one JSON file per model, {"model", "source_config", "transformers", "torch",
"tensors": [[name, [dims...]], ...]} sorted by name (dtypes are not compared: the random
generator writes all-bf16, and the published files' dtypes are not known here).

Usage (a venv outside the repository; see tests/engine/data/checkpoint_tensors/PROVENANCE.md):
  python3 -m venv /work/venv-refs && /work/venv-refs/bin/pip install torch transformers gguf
  /work/venv-refs/bin/python tools/refs/make_checkpoint_tensor_lists.py \
      ../shared/testdata/lfm2 tests/engine/data/checkpoint_tensors
"""
import json
import os
import sys

import torch
import transformers
from transformers import Lfm2Config, Lfm2ForCausalLM, Lfm2VlConfig, Lfm2VlForConditionalGeneration
from transformers.conversion_mapping import get_model_conversion_mapping
from transformers.core_model_loading import revert_weight_conversion
from transformers.modeling_utils import remove_tied_weights_from_state_dict


def checkpoint_tensors(model):
    model._weight_conversions = get_model_conversion_mapping(model, add_legacy=False)
    sd = remove_tied_weights_from_state_dict(model.state_dict(), model)
    sd = revert_weight_conversion(model, sd)
    return sorted([name, list(t.shape)] for name, t in sd.items())


def check_names_known_to_gguf(tensors):
    import gguf
    from gguf.tensor_mapping import get_tensor_name_map

    text_map = get_tensor_name_map(gguf.MODEL_ARCH.LFM2, 64)
    vision_map = get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, 64)
    for name, _ in tensors:
        text_name = name.replace("model.language_model.", "model.")
        # llama.cpp's mmproj converter drops the leading "model." of vision and projector names.
        known = text_map.get_name(text_name, try_suffixes=(".weight", ".bias")) or vision_map.get_name(
            name.removeprefix("model."), try_suffixes=(".weight", ".bias"))
        if known is None:
            sys.exit(f"{name}: not a checkpoint name the gguf package ({gguf.__file__}) knows")


def write(out_dir, model_name, source, tensors):
    doc = {
        "model": model_name,
        "source_config": source,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tensors": tensors,
    }
    path = os.path.join(out_dir, model_name + ".json")
    with open(path, "w") as f:
        f.write("{\n")
        for key in ("model", "source_config", "transformers", "torch"):
            f.write(f"  {json.dumps(key)}: {json.dumps(doc[key])},\n")
        f.write('  "tensors": [\n')
        f.write(",\n".join("    " + json.dumps(t) for t in tensors))
        f.write("\n  ]\n}\n")
    print(f"{path}: {len(tensors)} tensors")


def main():
    testdata, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    vl_rel = "LFM2.5-VL-450M/config.json"
    with open(os.path.join(testdata, vl_rel)) as f:
        vl_cfg = json.load(f)
    with torch.device("meta"):
        vl = Lfm2VlForConditionalGeneration(Lfm2VlConfig(**vl_cfg))
        # LFM2-350M is the text backbone of LFM2.5-VL-450M: its text_config (`_name_or_path`
        # LiquidAI/LFM2-350M) is the text model's config.json.
        text = Lfm2ForCausalLM(Lfm2Config(**vl_cfg["text_config"]))
    for model in (vl, text):
        check_names_known_to_gguf(checkpoint_tensors(model))
    write(out_dir, "lfm2.5-vl-450m", vl_rel, checkpoint_tensors(vl))
    write(out_dir, "lfm2-350m", vl_rel + " text_config", checkpoint_tensors(text))


if __name__ == "__main__":
    main()
