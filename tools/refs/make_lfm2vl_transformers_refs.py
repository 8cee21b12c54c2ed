#!/usr/bin/env python3
"""A tiny random LFM2-VL checkpoint written by transformers (Lfm2VlForConditionalGeneration, save_pretrained,
bf16) and transformers' greedy ids on it for image prompts.

    build-refs/venv/bin/python tools/refs/make_lfm2vl_transformers_refs.py   (LFM_REFS_TORCH=1 scripts/refs.sh runs it)

Shape: the published LFM2.5-VL-450M config with the tiny text decoder of make_lfm2_transformers_refs.py and a
2-layer, 32-wide SigLIP2 tower; processor configs, chat template and the real tokenizer beside it. Output:
tests/model/data/lfm2-vl-tiny-hf/ with golden.json: per image, the processor's input_ids and 8 greedy ids
from generate(do_sample=False) in float32 (read by tests/e2e/cli_transformers_test.cpp through `lfm run`).
"""
import json, os, shutil, sys, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_lfm2_transformers_refs as R
from transformers import Lfm2VlConfig, Lfm2VlForConditionalGeneration, AutoProcessor
from transformers.image_utils import load_image
pub = json.load(open(os.path.join(R.SHARED, "config.json")))
tc = R.tiny_config().to_dict()
vc = dict(pub["vision_config"]); vc.update(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
top = {k: v for k, v in pub.items() if k not in ("text_config", "vision_config", "transformers.js_config")}
top["projector_hidden_size"] = 32
cfg = Lfm2VlConfig(text_config=tc, vision_config=vc, **top)
torch.manual_seed(R.SEED)
m = Lfm2VlForConditionalGeneration(cfg).to(torch.bfloat16)
out = os.path.join(R.ROOT, "tests", "model", "data", "lfm2-vl-tiny-hf")
shutil.rmtree(out, ignore_errors=True); m.save_pretrained(out)
os.chmod(os.path.join(out, "model.safetensors"), 0o644)
for n in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
    shutil.copyfile(os.path.join(R.SHARED, n), os.path.join(out, n))
shutil.copyfile(os.path.join(R.TOK_DIR, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
m = Lfm2VlForConditionalGeneration.from_pretrained(out, dtype=torch.float32).eval()
proc = AutoProcessor.from_pretrained(out)
msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}]
text = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
golden = {}
for name in ("rocket.jpg", "retina.jpg"):
    enc = proc(images=[load_image(os.path.join(R.ROOT, "..", "shared", "testdata", "images", name))], text=text, return_tensors="pt")
    with torch.no_grad():
        g = m.generate(**enc, max_new_tokens=8, do_sample=False)
    golden[name] = {"prompt_ids": enc["input_ids"][0].tolist(), "greedy": g[0, enc["input_ids"].shape[1]:].tolist()}
    print(name, "greedy", golden[name]["greedy"])
with open(os.path.join(out, "golden.json"), "w") as f:
    json.dump(golden, f)
    f.write("\n")
