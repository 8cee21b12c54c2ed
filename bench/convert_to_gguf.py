#!/usr/bin/env python3
"""Runs llama.cpp's own convert_hf_to_gguf.py on a random model written by `lfm make-test-model`.

The only difference from running the script directly: the random models carry a synthetic
byte-level BPE vocabulary whose fingerprint llama.cpp's converter does not know, so it would refuse
to name a pre-tokenizer. The synthetic tokenizer splits text with the LLaMA-3 regex that LFM2's
real tokenizer uses, so the pre-tokenizer is declared as "lfm2", which is what the converter writes
for the published LFM2 checkpoints. Everything else (tensor names, dtypes, the --mmproj vision
file) is the converter's own work.

Usage: convert_to_gguf.py LLAMA_CPP_DIR [convert_hf_to_gguf.py arguments...]
"""
import runpy
import sys
from pathlib import Path


def main() -> None:
    llama_dir = Path(sys.argv[1])
    sys.path.insert(0, str(llama_dir / "gguf-py"))
    sys.path.insert(0, str(llama_dir))
    from conversion import base  # llama.cpp's conversion package, next to the script

    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "lfm2"
    script = llama_dir / "convert_hf_to_gguf.py"
    sys.argv = [str(script)] + sys.argv[2:]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
