"""Image-to-image references for sdflow, computed with diffusers' own code on the sdxl-tiny fixture.

Writes img2img.safetensors, img2img.json and input.png beside this file (README.md says how to rerun and with
what). StableDiffusionXLImg2ImgPipeline itself cannot be imported here (it imports transformers, and
diffusers.loaders needs transformers/peft), so the script runs the pipeline's own methods - `retrieve_latents`,
`retrieve_timesteps`, `get_timesteps`, `prepare_latents`, `_get_add_time_ids`, `prepare_extra_step_kwargs`, taken
from pipeline_stable_diffusion_xl_img2img.py's source with `ast` and executed unchanged - on diffusers'
AutoencoderKL, UNet2DConditionModel, EulerDiscreteScheduler and VaeImageProcessor, in the order of the pipeline's
__call__ (copied below as comments). The text encoders are not needed: prompt_embeds / pooled_prompt_embeds come
from the fixture's references (encode_prompt.safetensors, `neg_empty`: 'a photo of a cat', negative '').

Environment shims, none of which takes part in any arithmetic: huggingface_hub and safetensors placeholders
(shim/; the safetensors one reads the fixture's weights with numpy), inert torch.xpu/mps/compiler/float8 names for
torch builds older than diffusers expects, and diffusers.models.transformers as a bare package (its __init__
imports flex-attention models that need torch 2.x; the UNet needs two of its submodules, imported directly).
"""

import ast
import inspect
import json
import os
import platform
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../../../.."))
FIXTURE = os.environ.get("SDXL_TINY", os.path.join(ROOT, "../shared/fixtures/sdxl-tiny"))
sys.path.insert(0, os.path.join(HERE, "shim"))
try:
    import huggingface_hub  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "apps/runtime/src/sdxl/schedulers/reference/shim"))

import numpy as np  # noqa: E402
import PIL.Image  # noqa: E402
import torch  # noqa: E402

if np.__version__.startswith("1.") and hasattr(np, "_set_promotion_state"):
    np._set_promotion_state("weak")  # NumPy 2's promotion (NEP 50), which diffusers' schedulers assume

for _dev in ("xpu", "mps", "npu", "mtia"):
    if not hasattr(torch, _dev):
        setattr(torch, _dev, types.SimpleNamespace(
            empty_cache=lambda: None, is_available=lambda: False, device_count=lambda: 0,
            manual_seed=lambda s: None, reset_peak_memory_stats=lambda *a: None,
            max_memory_allocated=lambda *a: 0, synchronize=lambda *a: None))
for _dt in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
            "float4_e2m1fn_x2", "uint16", "uint32", "uint64", *(f"uint{i}" for i in range(1, 8)),
            *(f"int{i}" for i in range(1, 8))):
    if not hasattr(torch, _dt):
        setattr(torch, _dt, type(_dt, (), {})())
if not hasattr(torch.distributed, "device_mesh"):
    torch.distributed.device_mesh = types.SimpleNamespace(DeviceMesh=type("DeviceMesh", (), {}))
for _m in ("torch.distributed._functional_collectives", "torch.distributed.tensor"):
    try:
        __import__(_m)
    except ImportError:
        sys.modules[_m] = types.ModuleType(_m)
if not hasattr(torch, "compiler"):
    torch.compiler = types.SimpleNamespace(disable=lambda fn=None, *a, **k: fn if callable(fn) else (lambda g: g),
                                           is_compiling=lambda: False, is_dynamo_compiling=lambda: False)

import diffusers  # noqa: E402
import diffusers.models  # noqa: E402

_tp = types.ModuleType("diffusers.models.transformers")
_tp.__path__ = [os.path.join(os.path.dirname(diffusers.models.__file__), "transformers")]
sys.modules["diffusers.models.transformers"] = _tp

from diffusers.image_processor import VaeImageProcessor  # noqa: E402
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL  # noqa: E402
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # noqa: E402
from diffusers.schedulers.scheduling_euler_ancestral_discrete import EulerAncestralDiscreteScheduler  # noqa: E402
from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler  # noqa: E402
from diffusers.utils.torch_utils import empty_device_cache, randn_tensor  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402  (shim/)

torch.set_num_threads(1)

# --- the pipeline's own functions, from its source ------------------------------------------------------------
PIPELINE_FILE = os.path.join(os.path.dirname(diffusers.__file__),
                             "pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl_img2img.py")
_tree = ast.parse(open(PIPELINE_FILE).read())
_ns = {"torch": torch, "inspect": inspect, "PIL": PIL, "randn_tensor": randn_tensor, "logger": None,
       "empty_device_cache": empty_device_cache, "Any": object, "Callable": object}
_wanted_fns = {"retrieve_latents", "retrieve_timesteps"}
_wanted_methods = {"get_timesteps", "prepare_latents", "_get_add_time_ids", "prepare_extra_step_kwargs"}
_methods = {}
for node in _tree.body:
    if isinstance(node, ast.FunctionDef) and node.name in _wanted_fns:
        exec(compile(ast.Module([node], []), PIPELINE_FILE, "exec"), _ns)
    if isinstance(node, ast.ClassDef) and node.name == "StableDiffusionXLImg2ImgPipeline":
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name in _wanted_methods:
                item.decorator_list = []
                exec(compile(ast.Module([item], []), PIPELINE_FILE, "exec"), _ns)
                _methods[item.name] = _ns[item.name]
assert set(_methods) == _wanted_methods and all(f in _ns for f in _wanted_fns)

INPAINT_FILE = PIPELINE_FILE.replace("_img2img.py", "_inpaint.py")
_inpaint_methods = {}
for node in ast.parse(open(INPAINT_FILE).read()).body:
    if isinstance(node, ast.ClassDef) and node.name == "StableDiffusionXLInpaintPipeline":
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name in (
                    "get_timesteps", "prepare_latents", "_encode_vae_image", "prepare_mask_latents"):
                item.decorator_list = []
                _ins = dict(_ns)
                exec(compile(ast.Module([item], []), INPAINT_FILE, "exec"), _ins)
                _inpaint_methods[item.name] = _ins[item.name]
assert len(_inpaint_methods) == 4
retrieve_latents = _ns["retrieve_latents"]
retrieve_timesteps = _ns["retrieve_timesteps"]


class Img2Img:
    """The pipeline's state the copied methods read (self.vae, self.scheduler, self.unet, config)."""

    def __init__(self, vae, unet, scheduler):
        self.vae, self.unet, self.scheduler = vae, unet, scheduler
        self.text_encoder_2 = None
        self.final_offload_hook = None
        self.config = types.SimpleNamespace(requires_aesthetics_score=False)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1)
        self.image_processor = VaeImageProcessor(vae_scale_factor=self.vae_scale_factor)


for _name, _fn in _methods.items():
    setattr(Img2Img, _name, _fn)


class Inpaint(Img2Img):
    """StableDiffusionXLInpaintPipeline's state for its copied methods; mask_processor as the pipeline builds it."""

    def __init__(self, vae, unet, scheduler):
        super().__init__(vae, unet, scheduler)
        self.mask_processor = VaeImageProcessor(vae_scale_factor=self.vae_scale_factor, do_normalize=False,
                                                do_binarize=True, do_convert_grayscale=True)


for _name, _fn in _inpaint_methods.items():
    setattr(Inpaint, _name, _fn)


def mask_image():
    """32x32 'L': 255 (repaint) in a rectangle and a disc, 0 elsewhere."""
    y, x = np.mgrid[0:32, 0:32]
    m = ((x >= 4) & (x < 14) & (y >= 6) & (y < 26)) | ((x - 22) ** 2 + (y - 12) ** 2 < 36)
    return PIL.Image.fromarray((m * 255).astype(np.uint8), "L")


def run_inpaint(pipe, image, mask_img, strength, steps, seed, embeds, guidance_scale):
    """StableDiffusionXLInpaintPipeline.__call__ for a 4-channel UNet, height = width = 32, no padding_mask_crop."""
    out = {}
    prompt_embeds, negative_prompt_embeds, pooled, negative_pooled = embeds
    generator = torch.Generator("cpu").manual_seed(seed)
    batch_size, num_images_per_prompt, height, width = 1, 1, 32, 32
    device = torch.device("cpu")
    # 4. set timesteps
    timesteps, num_inference_steps = retrieve_timesteps(pipe.scheduler, steps, device, None, None)
    timesteps, num_inference_steps = pipe.get_timesteps(num_inference_steps, strength, device, denoising_start=None)
    latent_timestep = timesteps[:1].repeat(batch_size * num_images_per_prompt)
    is_strength_max = strength == 1.0
    # 5. Preprocess mask and image
    init_image = pipe.image_processor.preprocess(image, height=height, width=width, crops_coords=None,
                                                 resize_mode="default")
    init_image = init_image.to(dtype=torch.float32)
    mask = pipe.mask_processor.preprocess(mask_img, height=height, width=width, resize_mode="default",
                                          crops_coords=None)
    masked_image = init_image * (mask < 0.5)
    out["mask"] = mask
    # 6. Prepare latent variables
    num_channels_latents = pipe.vae.config.latent_channels
    num_channels_unet = pipe.unet.config.in_channels
    assert num_channels_unet == 4
    latents, noise, image_latents = pipe.prepare_latents(
        batch_size * num_images_per_prompt, num_channels_latents, height, width, prompt_embeds.dtype, device,
        generator, None, image=init_image, timestep=latent_timestep, is_strength_max=is_strength_max,
        add_noise=True, return_noise=True, return_image_latents=True)
    # 7. Prepare mask latent variables
    mask, masked_image_latents = pipe.prepare_mask_latents(
        mask, masked_image, batch_size * num_images_per_prompt, height, width, prompt_embeds.dtype, device,
        generator, True)
    out["mask_latents"] = mask[:1]
    # 8. Prepare extra step kwargs.
    extra_step_kwargs = pipe.prepare_extra_step_kwargs(generator, 0.0)
    original_size = target_size = (height, width)
    add_text_embeds = pooled
    add_time_ids, add_neg_time_ids = pipe._get_add_time_ids(
        original_size, (0, 0), target_size, 6.0, 2.5, original_size, (0, 0), target_size,
        dtype=prompt_embeds.dtype, text_encoder_projection_dim=int(pooled.shape[-1]))
    prompt_embeds = torch.cat([negative_prompt_embeds, prompt_embeds], dim=0)
    add_text_embeds = torch.cat([negative_pooled, add_text_embeds], dim=0)
    add_time_ids = torch.cat([add_neg_time_ids, add_time_ids], dim=0)
    # 11. Denoising loop
    for i, t in enumerate(timesteps):
        latents = guided_step(pipe, latents, t, (prompt_embeds, add_text_embeds, add_time_ids), guidance_scale,
                              extra_step_kwargs)
        # num_channels_unet == 4: masked latent blending
        init_latents_proper = image_latents
        init_mask, _ = mask.chunk(2)
        if i < len(timesteps) - 1:
            noise_timestep = timesteps[i + 1]
            init_latents_proper = pipe.scheduler.add_noise(init_latents_proper, noise, torch.tensor([noise_timestep]))
        latents = (1 - init_mask) * init_latents_proper + init_mask * latents
    out["latents_out"] = latents
    decoded = pipe.vae.decode(latents / pipe.vae.config.scaling_factor, return_dict=False)[0]
    out["image"] = torch.from_numpy(pipe.image_processor.postprocess(decoded, output_type="np"))
    out["timesteps"] = timesteps.to(torch.float32)
    return out


def load_component(cls, sub):
    config = json.load(open(os.path.join(FIXTURE, sub, "config.json")))
    model = cls.from_config(config)
    state = load_file(os.path.join(FIXTURE, sub, "diffusion_pytorch_model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=True), None
    del missing, unexpected
    return model.eval()


def input_image():
    """32x32 RGB, deterministic: smooth patterns plus a little noise from numpy's seeded generator."""
    y, x = np.mgrid[0:32, 0:32].astype(np.float64) / 31.0
    rng = np.random.RandomState(7)
    rgb = np.stack([0.5 + 0.4 * np.sin(6 * x), 0.5 + 0.4 * np.cos(5 * y), 0.3 + 0.6 * x * y], -1)
    rgb = np.clip(rgb + 0.08 * rng.uniform(-1, 1, rgb.shape), 0, 1)
    return PIL.Image.fromarray(np.round(rgb * 255).astype(np.uint8), "RGB")


def guided_step(pipe, latents, t, cond, guidance_scale, extra_step_kwargs):
    """One step of both pipelines' denoising loop (do_classifier_free_guidance, guidance_rescale 0), their order."""
    prompt_embeds, add_text_embeds, add_time_ids = cond
    # expand the latents if we are doing classifier free guidance
    latent_model_input = torch.cat([latents] * 2)
    latent_model_input = pipe.scheduler.scale_model_input(latent_model_input, t)
    # predict the noise residual
    added_cond_kwargs = {"text_embeds": add_text_embeds, "time_ids": add_time_ids}
    noise_pred = pipe.unet(latent_model_input, t, encoder_hidden_states=prompt_embeds, timestep_cond=None,
                           cross_attention_kwargs=None, added_cond_kwargs=added_cond_kwargs, return_dict=False)[0]
    # perform guidance
    noise_pred_uncond, noise_pred_text = noise_pred.chunk(2)
    noise_pred = noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)
    # compute the previous noisy sample x_t -> x_t-1
    return pipe.scheduler.step(noise_pred, t, latents, **extra_step_kwargs, return_dict=False)[0]


def run(pipe, image, strength, steps, seed, embeds, guidance_scale):
    out = {}
    prompt_embeds, negative_prompt_embeds, pooled, negative_pooled = embeds
    generator = torch.Generator("cpu").manual_seed(seed)
    batch_size, num_images_per_prompt = 1, 1
    device = torch.device("cpu")
    # 4. Preprocess image
    image = pipe.image_processor.preprocess(image)
    out["image_in"] = image
    # 5. Prepare timesteps
    timesteps, num_inference_steps = retrieve_timesteps(pipe.scheduler, steps, device, None, None)
    timesteps, num_inference_steps = pipe.get_timesteps(num_inference_steps, strength, device, denoising_start=None)
    latent_timestep = timesteps[:1].repeat(batch_size * num_images_per_prompt)
    add_noise = True
    # 6. Prepare latent variables (also recorded without noise: the encoder's sample, from a generator of the seed)
    g2 = torch.Generator("cpu").manual_seed(seed)
    out["init_latents"] = pipe.vae.config.scaling_factor * retrieve_latents(pipe.vae.encode(image), generator=g2)
    out["mode_latents"] = pipe.vae.config.scaling_factor * retrieve_latents(pipe.vae.encode(image), sample_mode="argmax")
    latents = pipe.prepare_latents(image, latent_timestep, batch_size, num_images_per_prompt, prompt_embeds.dtype,
                                   device, generator, add_noise)
    out["noised_latents"] = latents
    # 7. Prepare extra step kwargs.
    extra_step_kwargs = pipe.prepare_extra_step_kwargs(generator, 0.0)
    height, width = latents.shape[-2:]
    height = height * pipe.vae_scale_factor
    width = width * pipe.vae_scale_factor
    original_size = target_size = (height, width)
    # 8. Prepare added time ids & embeddings
    add_text_embeds = pooled
    text_encoder_projection_dim = int(pooled.shape[-1])
    add_time_ids, add_neg_time_ids = pipe._get_add_time_ids(
        original_size, (0, 0), target_size, 6.0, 2.5, original_size, (0, 0), target_size,
        dtype=prompt_embeds.dtype, text_encoder_projection_dim=text_encoder_projection_dim)
    add_time_ids = add_time_ids.repeat(batch_size * num_images_per_prompt, 1)
    # do_classifier_free_guidance
    prompt_embeds = torch.cat([negative_prompt_embeds, prompt_embeds], dim=0)
    add_text_embeds = torch.cat([negative_pooled, add_text_embeds], dim=0)
    add_neg_time_ids = add_neg_time_ids.repeat(batch_size * num_images_per_prompt, 1)
    add_time_ids = torch.cat([add_neg_time_ids, add_time_ids], dim=0)
    # 9. Denoising loop
    step_latents = []
    for t in timesteps:
        latents = guided_step(pipe, latents, t, (prompt_embeds, add_text_embeds, add_time_ids), guidance_scale,
                              extra_step_kwargs)
        step_latents.append(latents)
    out["step_latents"] = torch.stack(step_latents)
    out["latents_out"] = latents
    # output_type "np": unscale, decode, postprocess
    decoded = pipe.vae.decode(latents / pipe.vae.config.scaling_factor, return_dict=False)[0]
    out["image"] = torch.from_numpy(pipe.image_processor.postprocess(decoded, output_type="np"))
    out["timesteps"] = timesteps.to(torch.float32)
    return out


SHARED = ("image_in", "init_latents", "mode_latents")


def main():
    vae = load_component(AutoencoderKL, "vae")
    unet = load_component(UNet2DConditionModel, "unet")
    sched_config = json.load(open(os.path.join(FIXTURE, "scheduler/scheduler_config.json")))
    enc = load_file(os.path.join(FIXTURE, "references/encode_prompt.safetensors"))
    embeds = tuple(enc[f"neg_empty.{k}"] for k in (
        "prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"))
    img = input_image()
    img.save(os.path.join(HERE, "input.png"))
    img = PIL.Image.open(os.path.join(HERE, "input.png"))
    img.load()
    cases = {
        "s030": {"strength": 0.3, "steps": 8, "seed": 42, "guidance_scale": 5.0, "scheduler": "euler"},
        "s075": {"strength": 0.75, "steps": 8, "seed": 42, "guidance_scale": 5.0, "scheduler": "euler"},
        # the ancestral sampler's step() draws from the same generator after prepare_latents' two draws
        "s075_ancestral": {"strength": 0.75, "steps": 8, "seed": 42, "guidance_scale": 5.0,
                           "scheduler": "euler_ancestral"},
    }
    schedulers = {"euler": EulerDiscreteScheduler, "euler_ancestral": EulerAncestralDiscreteScheduler}
    tensors = {}
    meta = {"prompt": "a photo of a cat", "negative_prompt": "", "input": "input.png", "cases": {}}
    with torch.no_grad():
        for key, c in cases.items():
            pipe = Img2Img(vae, unet, schedulers[c["scheduler"]].from_config(sched_config))
            out = run(pipe, img, c["strength"], c["steps"], c["seed"], embeds, c["guidance_scale"])
            meta["cases"][key] = {**c, "timesteps": out["timesteps"].tolist()}
            for k, v in out.items():
                v = v.to(torch.float32).contiguous()
                if k in SHARED:  # the same for every case (one image, one seed): kept once, checked equal
                    assert k not in tensors or torch.equal(tensors[k], v), k
                    tensors[k] = v
                else:
                    tensors[f"{key}.{k}"] = v
    mask_image().save(os.path.join(HERE, "mask.png"))
    mask_img = PIL.Image.open(os.path.join(HERE, "mask.png"))
    mask_img.load()
    inpaint_cases = {
        "inpaint_s075": {"strength": 0.75, "steps": 8, "seed": 42, "guidance_scale": 5.0, "scheduler": "euler"},
        "inpaint_s100": {"strength": 1.0, "steps": 8, "seed": 42, "guidance_scale": 5.0, "scheduler": "euler"},
        # its step noise follows three draws: image latents, noise, masked image latents
        "inpaint_s075_ancestral": {"strength": 0.75, "steps": 8, "seed": 42, "guidance_scale": 5.0,
                                   "scheduler": "euler_ancestral"},
    }
    meta["mask"] = "mask.png"
    meta["inpaint_cases"] = {}
    with torch.no_grad():
        for key, c in inpaint_cases.items():
            pipe = Inpaint(vae, unet, schedulers[c["scheduler"]].from_config(sched_config))
            out = run_inpaint(pipe, img, mask_img, c["strength"], c["steps"], c["seed"], embeds, c["guidance_scale"])
            meta["inpaint_cases"][key] = {**c, "timesteps": out["timesteps"].tolist()}
            for k, v in out.items():
                v = v.to(torch.float32).contiguous()
                if k in ("mask", "mask_latents"):
                    assert k not in tensors or torch.equal(tensors[k], v), k
                    tensors[k] = v
                else:
                    tensors[f"{key}.{k}"] = v
    diffusers_commit = os.environ.get("DIFFUSERS_COMMIT", "unknown")
    meta["versions"] = {"diffusers": diffusers.__version__, "diffusers_commit": diffusers_commit,
                        "torch": torch.__version__, "numpy": np.__version__, "PIL": PIL.__version__,
                        "python": platform.python_version(), "machine": platform.machine()}
    save_file(tensors, os.path.join(HERE, "img2img.safetensors"))
    with open(os.path.join(HERE, "img2img.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    for k, v in sorted(tensors.items()):
        print(k, list(v.shape))


if __name__ == "__main__":
    main()
