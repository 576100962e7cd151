"""Scheduler references for sdflow's samplers, computed with diffusers' own scheduler classes.

Writes samplers.json beside this file: for each case the timesteps, sigmas, init_noise_sigma and a step trace
(scale_model_input and step() outputs) of a stand-in model, eps = 0.5 * x_in + 0.5 * c, on a [1, 4, 2, 2] latent.
Noise for the samplers that draw it comes from torch.Generator('cpu').manual_seed(0) passed to step(), as
StableDiffusionXLPipeline passes its generator. README.md (this folder) says how to rerun it and with what.

Environment shims (they change no arithmetic): huggingface_hub is replaced by a placeholder module when it is not
installed (diffusers imports it for hub download helpers a scheduler built from a dict never calls), and torch
builds older than diffusers expects get inert `torch.xpu` / `torch.mps` / ... namespaces (diffusers' device-cache
helpers, unused on the CPU).
"""

import json
import os
import platform
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import huggingface_hub  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "shim"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

# NumPy 2 promotes a float64 scalar with a float32 array to float64 (NEP 50); NumPy 1.x did it in float32, which
# changes diffusers' _sigma_to_t (w, hence fractional timesteps, in float32). NumPy 1.24+ can follow NEP 50.
if np.__version__.startswith("1.") and hasattr(np, "_set_promotion_state"):
    np._set_promotion_state("weak")

for _dev in ("xpu", "mps", "npu", "mtia"):
    if not hasattr(torch, _dev):
        setattr(
            torch,
            _dev,
            types.SimpleNamespace(
                empty_cache=lambda: None,
                is_available=lambda: False,
                device_count=lambda: 0,
                manual_seed=lambda s: None,
                reset_peak_memory_stats=lambda *a: None,
                max_memory_allocated=lambda *a: 0,
                synchronize=lambda *a: None,
            ),
        )

import diffusers  # noqa: E402
from diffusers.schedulers.scheduling_dpmsolver_multistep import DPMSolverMultistepScheduler  # noqa: E402
from diffusers.schedulers.scheduling_euler_ancestral_discrete import EulerAncestralDiscreteScheduler  # noqa: E402
from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler  # noqa: E402
from diffusers.schedulers.scheduling_lcm import LCMScheduler  # noqa: E402

torch.set_num_threads(1)

# SDXL base's scheduler_config.json (the sdxl-tiny fixture's too)
SDXL = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "final_sigmas_type": "zero",
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "rescale_betas_zero_snr": False,
    "sigma_max": None,
    "sigma_min": None,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "discrete",
    "trained_betas": None,
    "use_beta_sigmas": False,
    "use_exponential_sigmas": False,
    "use_karras_sigmas": False,
}

DPM = {"algorithm_type": "dpmsolver++", "solver_order": 2}
# (case, sdflow scheduler value, class, overrides, steps, sigma schedule grafted from EulerDiscreteScheduler)
CASES = [
    ("euler_karras_30", "euler_karras", EulerDiscreteScheduler, {"use_karras_sigmas": True}, 30, None),
    ("euler_karras_4", "euler_karras", EulerDiscreteScheduler, {"use_karras_sigmas": True}, 4, None),
    ("euler_exponential_30", "euler_exponential", EulerDiscreteScheduler, {"use_exponential_sigmas": True}, 30, None),
    ("euler_ancestral_karras_30", "euler_ancestral_karras", EulerAncestralDiscreteScheduler, {}, 30, "karras"),
    ("euler_ancestral_exponential_30", "euler_ancestral_exponential", EulerAncestralDiscreteScheduler, {}, 30,
     "exponential"),
    ("dpmpp_2m_30", "dpmpp_2m", DPMSolverMultistepScheduler, DPM, 30, None),
    ("dpmpp_2m_8", "dpmpp_2m", DPMSolverMultistepScheduler, DPM, 8, None),
    ("dpmpp_2m_exponential_30", "dpmpp_2m_exponential", DPMSolverMultistepScheduler,
     {**DPM, "use_exponential_sigmas": True}, 30, None),
    ("dpmpp_2m_sde_30", "dpmpp_2m_sde", DPMSolverMultistepScheduler,
     {**DPM, "algorithm_type": "sde-dpmsolver++"}, 30, None),
    ("dpmpp_2m_sde_karras_30", "dpmpp_2m_sde_karras", DPMSolverMultistepScheduler,
     {**DPM, "algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}, 30, None),
    ("dpmpp_2m_sde_karras_10", "dpmpp_2m_sde_karras", DPMSolverMultistepScheduler,
     {**DPM, "algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}, 10, None),
    ("lcm_4", "lcm", LCMScheduler, {}, 4, None),
    ("lcm_8", "lcm", LCMScheduler, {}, 8, None),
]


def f32list(t):
    """float32 values as the shortest decimal that reads back to the same float32."""
    return [float(repr(np.float32(v)).replace("np.float32(", "").rstrip(")")) for v in t.reshape(-1).tolist()]


def build(cls, overrides, steps, graft):
    s = cls.from_config({**SDXL, **overrides})
    s.set_timesteps(steps)
    if graft:
        # EulerAncestralDiscreteScheduler has no Karras/exponential option: its step() runs over the sigmas and
        # timesteps that EulerDiscreteScheduler computes with use_<graft>_sigmas (the schedule sdflow's
        # euler_ancestral_<graft> uses).
        e = EulerDiscreteScheduler.from_config({**SDXL, f"use_{graft}_sigmas": True})
        e.set_timesteps(steps)
        s.sigmas = e.sigmas.clone()
        s.timesteps = e.timesteps.clone()
    return s


def trace(s, x0, c):
    generator = torch.Generator("cpu").manual_seed(0)
    x = x0 * s.init_noise_sigma
    xs_in, xs = [], []
    for t in s.timesteps:
        x_in = s.scale_model_input(x, t)
        eps = 0.5 * x_in + 0.5 * c
        x = s.step(eps, t, x, generator=generator, return_dict=False)[0]
        xs_in.append(f32list(x_in))
        xs.append(f32list(x))
    return xs_in, xs


def main():
    shape = [1, 4, 2, 2]
    x0 = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(300))
    c = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(301))
    cases = {}
    for key, name, cls, overrides, steps, graft in CASES:
        s = build(cls, overrides, steps, graft)
        xs_in, xs = trace(build(cls, overrides, steps, graft), x0, c)
        sigmas = getattr(s, "sigmas", None)
        init = s.init_noise_sigma
        cases[key] = {
            "scheduler": name,
            "class": cls.__name__,
            "overrides": overrides,
            "graft_sigmas_from_euler": graft,
            "steps": steps,
            "timesteps": [float(v) for v in s.timesteps.tolist()],
            "sigmas": f32list(sigmas) if isinstance(sigmas, torch.Tensor) and cls is not LCMScheduler else None,
            "init_noise_sigma": float(init.item() if isinstance(init, torch.Tensor) else init),
            "x_in": xs_in,
            "x": xs,
        }
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=os.path.dirname(diffusers.__file__),
                                capture_output=True, text=True).stdout.strip() or None
    except OSError:
        commit = None
    out = {
        "about": "see README.md beside this file; made by make_references.py",
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "numpy_promotion": np._get_promotion_state() if hasattr(np, "_get_promotion_state") else "NEP 50",
            "diffusers": diffusers.__version__,
            "diffusers_commit": os.environ.get("DIFFUSERS_COMMIT", commit),
            "huggingface_hub": "shim" if "shim" in sys.path[0] else "installed",
            "platform": platform.platform(),
        },
        "config": SDXL,
        "latent_shape": shape,
        "model": "eps = 0.5 * x_in + 0.5 * c; x starts at x0 * init_noise_sigma",
        "x0": f32list(x0),
        "c": f32list(c),
        "noise": "torch.Generator('cpu').manual_seed(0), passed to every step()",
        "cases": cases,
    }
    with open(os.path.join(HERE, "samplers.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
