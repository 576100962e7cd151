"""clip_skip references: StableDiffusionXLPipeline.encode_prompt on the sdxl-tiny fixture's text encoders.

Writes clip-skip.json beside this file: for clip_skip None, 1, 2 and 4, the prompt, negative and pooled embeddings
of encode_prompt('a photo of a cat', negative_prompt='blurry', do_classifier_free_guidance=True), float32
little-endian in base64. Usage: python3 make_clip_skip.py <sdxl-tiny folder>. README.md says with what it ran.
"""

import base64
import json
import os
import platform
import sys

import numpy as np
import torch
import transformers
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

import diffusers
from diffusers import StableDiffusionXLPipeline

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)


def b64(t):
    return base64.b64encode(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


def main(folder):
    pipe = StableDiffusionXLPipeline(
        vae=None,
        text_encoder=CLIPTextModel.from_pretrained(os.path.join(folder, "text_encoder")),
        text_encoder_2=CLIPTextModelWithProjection.from_pretrained(os.path.join(folder, "text_encoder_2")),
        tokenizer=CLIPTokenizer.from_pretrained(os.path.join(folder, "tokenizer")),
        tokenizer_2=CLIPTokenizer.from_pretrained(os.path.join(folder, "tokenizer_2")),
        unet=None,
        scheduler=None,
    )
    cases = {}
    for clip_skip in (None, 1, 2, 4):
        with torch.no_grad():
            pe, npe, ppe, nppe = pipe.encode_prompt(
                "a photo of a cat",
                device="cpu",
                num_images_per_prompt=1,
                do_classifier_free_guidance=True,
                negative_prompt="blurry",
                clip_skip=clip_skip,
            )
        cases[str(clip_skip)] = {
            "dims": list(pe.shape),
            "prompt_embeds": b64(pe),
            "negative_prompt_embeds": b64(npe),
            "pooled_prompt_embeds": b64(ppe),
            "negative_pooled_prompt_embeds": b64(nppe),
        }
    out = {
        "about": "see README.md beside this file; made by make_clip_skip.py",
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "diffusers": diffusers.__version__,
            "diffusers_commit": os.environ.get("DIFFUSERS_COMMIT"),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "prompt": "a photo of a cat",
        "negative_prompt": "blurry",
        "cases": cases,
    }
    with open(os.path.join(HERE, "clip-skip.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
