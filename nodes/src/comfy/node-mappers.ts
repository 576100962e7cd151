import type { InputRef } from '../graph/workflow.ts';
import type { ComfyNode } from './comfy-graph.ts';
import { type ComfyValue, type Converter, type Mapper, Unmappable } from './converter.ts';
import { mapSampler } from './samplers.ts';

// One mapper per ComfyUI node type that has an sdflow counterpart. A mapper returns the node's outputs in sdflow
// terms (by ComfyUI output index) and creates sdflow nodes through the converter; it throws Unmappable, naming
// the input, for what has no counterpart. ComfyUI's KSampler takes two conditionings and makes its own noise;
// sdflow's Encode Prompt holds both prompts and Empty Latent holds the noise seed, so prompts and empty latents
// become sdflow nodes where a sampler uses them.

const MODEL_FILE = /\.(safetensors|ckpt|pt|pth|bin|sft)$/i;

/**
 * `ckpt_name` -> an sdflow model name: the path under the checkpoints folder without its extension, with the
 * characters model names cannot hold (brackets, `+`, a leading dot...) made `_`, so that the file still converts
 * and the report says which name to put under models/ (or to `--set`).
 */
export function modelNameOf(ckptName: string): string {
  const segments = ckptName
    .replace(/\\/g, '/')
    .replace(MODEL_FILE, '')
    .split('/')
    .map((seg) => seg.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[^A-Za-z0-9]+/, ''))
    .filter((seg) => seg !== '');
  return segments.join('/') || 'default';
}

const loadCheckpoint: Mapper = (c, n) => {
  const ckpt = c.string(n, 'ckpt_name');
  const model = modelNameOf(ckpt);
  const id = c.add(n, {
    type: 'loadModel',
    params: { model },
    inputs: {},
    sources: { model: 'ckpt_name' },
    layout: n.layout,
  });
  c.note(n.id, `ckpt_name "${ckpt}" -> model "${model}" (a folder or checkpoint of that name under models/)`);
  const ref = (output: string): InputRef => ({ node: id, output });
  return [
    { kind: 'port', type: 'UNET', ref: ref('unet'), loadModel: id },
    { kind: 'port', type: 'CLIP', ref: ref('clip'), loadModel: id },
    { kind: 'port', type: 'VAE', ref: ref('vae'), loadModel: id },
  ];
};

/** The CLIP input of a text encoder: where it comes from, and the layer CLIPSetLastLayer chose on the way. */
function clipOf(c: Converter, n: ComfyNode): { clip: InputRef; clipSkip?: number } {
  const port = c.port(n, 'clip', 'CLIP');
  return { clip: port.ref, ...(port.clipSkip ? { clipSkip: port.clipSkip } : {}) };
}

const clipTextEncode: Mapper = (c, n) => [
  { kind: 'prompt', ...clipOf(c, n), text: c.string(n, 'text'), zero: false, from: [n.id] },
];

/**
 * ComfyUI's SDXL encoders read layer -2 (the penultimate) by default, as diffusers' do; stop_at_clip_layer -k reads
 * layer -k, which is diffusers' clip_skip k - 2. Layer -1 (the last) has no counterpart.
 */
const clipSetLastLayer: Mapper = (c, n) => {
  const port = c.port(n, 'clip', 'CLIP');
  const stop = c.number(n, 'stop_at_clip_layer', -1);
  if (!Number.isInteger(stop) || stop > -2) {
    throw new Unmappable(
      `input "stop_at_clip_layer" is ${stop}: sdflow reads the penultimate layer (-2) or earlier ones (clip skip)`,
    );
  }
  const clipSkip = -stop - 2;
  c.note(n.id, `stop_at_clip_layer ${stop} -> clipSkip ${clipSkip} on the prompts that use it`);
  return [{ ...port, ...(clipSkip > 0 ? { clipSkip } : {}) }];
};

const clipTextEncodeSdxl: Mapper = (c, n) => {
  const clip = clipOf(c, n);
  const g = c.string(n, 'text_g');
  const l = c.string(n, 'text_l', '');
  if (l !== g && l !== '') {
    c.note(n.id, 'text_l differs from text_g: sdflow encodes one prompt with both encoders, so text_g is used');
  }
  c.note(
    n.id,
    'width/height/crop_w/crop_h/target_width/target_height not mapped: sdflow conditions on the generated size, crop 0',
  );
  return [{ kind: 'prompt', ...clip, text: g, zero: false, from: [n.id] }];
};

/** Zeroed conditioning = Encode Prompt's empty negative (zero embeddings), so it maps where it is the negative. */
const conditioningZeroOut: Mapper = (c, n) => {
  const source = c.input(n, 'conditioning');
  if (source.kind !== 'prompt') throw new Unmappable('input "conditioning" is not from a text encoder');
  return [{ ...source, zero: true, from: [...source.from, n.id] }];
};

const emptyLatentImage: Mapper = (c, n) => [
  {
    kind: 'emptyLatent',
    width: c.number(n, 'width'),
    height: c.number(n, 'height'),
    batchSize: c.number(n, 'batch_size', 1),
    from: n.id,
  },
];

function prompt(c: Converter, n: ComfyNode, name: 'positive' | 'negative') {
  const v = c.input(n, name);
  if (v.kind !== 'prompt') {
    throw new Unmappable(
      `input "${name}" is not conditioning from CLIPTextEncode or CLIPTextEncodeSDXL (the only ones sdflow maps)`,
    );
  }
  if (v.zero && name === 'positive') throw new Unmappable('input "positive" is zeroed: sdflow zeroes only negatives');
  return v;
}

function sampler(c: Converter, n: ComfyNode, advanced: boolean): ComfyValue[] {
  const unet = c.port(n, 'model', 'UNET');
  const positive = prompt(c, n, 'positive');
  const negative = prompt(c, n, 'negative');
  const seedInput = advanced ? 'noise_seed' : 'seed';
  const seed = c.number(n, seedInput);
  let steps = c.number(n, 'steps');
  const cfg = c.number(n, 'cfg');
  const mapped = mapSampler(c.string(n, 'sampler_name'), c.string(n, 'scheduler'));
  c.note(n.id, mapped.note);
  let denoise = 1;
  if (advanced) {
    if (c.string(n, 'add_noise', 'enable') === 'disable') {
      throw new Unmappable('input "add_noise" is "disable": sdflow always starts a sampler from noise');
    }
    const start = c.number(n, 'start_at_step', 0);
    const end = c.number(n, 'end_at_step', 10000);
    if (start > 0 || end < steps) {
      throw new Unmappable(
        `inputs "start_at_step"/"end_at_step" run steps ${start}-${Math.min(end, steps)} of ${steps}: a partial step range (the base/refiner split) has no counterpart yet`,
      );
    }
  } else {
    denoise = c.number(n, 'denoise', 1);
    if (denoise <= 0) throw new Unmappable('input "denoise" is 0: the sampler would run no step');
    if (denoise <= 0.9999) {
      // ComfyUI runs `steps` steps, the tail of a schedule of int(steps / denoise); diffusers' strength runs
      // int(total * strength) steps of `total`: the same tail when total = int(steps / denoise).
      const total = Math.floor(steps / denoise);
      c.note(
        n.id,
        `denoise ${denoise} with ${steps} steps -> steps ${total} at denoise ${denoise} (diffusers' strength)`,
      );
      steps = total;
    }
  }
  if (positive.clip.node !== negative.clip.node || positive.clip.output !== negative.clip.output) {
    c.note(n.id, 'positive and negative use different CLIP models: sdflow encodes both with the positive one');
  }
  if ((positive.clipSkip || negative.clipSkip) && !negative.zero) {
    c.note(
      n.id,
      "clip skip applies to the positive prompt; the negative reads the penultimate layer (diffusers' rule)",
    );
  }
  const encode = c.add(n, {
    type: 'encodePrompt',
    params: {
      prompt: positive.text,
      negativePrompt: negative.zero ? '' : negative.text,
      // ComfyUI encodes an empty negative text like any other; only a zeroed negative is zeros.
      encodeEmptyNegative: !negative.zero,
      // ComfyUI always reads `(word:1.2)` as a weight, by its own rule.
      weighting: 'comfy',
      ...(positive.clipSkip ? { clipSkip: positive.clipSkip } : {}),
    },
    inputs: { clip: positive.clip },
    sources: { prompt: 'positive', negativePrompt: 'negative' },
    madeOf: [...positive.from, ...negative.from],
    shared: true,
    preferredId: positive.from[0],
    layout: c.graph.nodes.get(positive.from[0]!)?.layout,
  });
  const latent = samplerLatent(c, n, unet.loadModel!, seed, seedInput);
  const id = c.add(n, {
    type: 'unetDenoise',
    params: { steps, cfg, scheduler: mapped.scheduler, seed, denoise },
    inputs: { unet: unet.ref, conditioning: { node: encode, output: 'conditioning' }, latent },
    sources: { steps: 'steps', cfg: 'cfg', scheduler: 'sampler_name', seed: seedInput, denoise: 'denoise' },
    layout: n.layout,
  });
  return [{ kind: 'port', type: 'LATENT', ref: { node: id, output: 'latent' } }];
}

/** The sampler's latent input: an Empty Latent with the sampler's seed (ComfyUI draws the noise there), or a latent. */
function samplerLatent(c: Converter, n: ComfyNode, loadModel: string, seed: number, seedInput: string): InputRef {
  const v = c.input(n, 'latent_image');
  if (v.kind === 'port' && v.type === 'LATENT') return v.ref;
  if (v.kind !== 'emptyLatent') throw new Unmappable('input "latent_image" is not a latent sdflow can make');
  const id = c.add(n, {
    type: 'emptyLatent',
    params: { width: v.width, height: v.height, batchSize: v.batchSize, seed },
    inputs: { vae: { node: loadModel, output: 'vae' } },
    sources: { width: 'width', height: 'height', batchSize: 'batch_size', seed: seedInput },
    madeOf: [v.from, n.id],
    shared: true,
    preferredId: v.from,
    layout: c.graph.nodes.get(v.from)?.layout,
  });
  return { node: id, output: 'latent' };
}

/** Whether anything in the file reads output `slot` of node `id`. */
function usesOutput(c: Converter, id: string, slot: number): boolean {
  return [...c.graph.nodes.values()].some((m) =>
    Object.values(m.inputs).some((i) => 'link' in i && i.link.node === id && i.link.slot === slot),
  );
}

/**
 * LoadImage -> Load Image (alpha dropped, as ComfyUI's IMAGE has none) and, where its MASK is used, Load Mask from
 * the same file's alpha (1 - alpha, ComfyUI's rule). The file is looked up in sdflow's input folder.
 */
const loadImage: Mapper = (c, n) => {
  // The editor may show "name.png [input]": the folder annotation is not part of the name.
  const file = c.string(n, 'image').replace(/ \[(input|output|temp)\]$/, '');
  const image = c.add(n, {
    type: 'loadImage',
    params: { file, fit: 'none', alpha: 'ignore' },
    inputs: {},
    sources: { file: 'image' },
    layout: n.layout,
  });
  c.note(n.id, `image "${file}" -> the file of that name in sdflow's input folder (--input)`);
  const outs: ComfyValue[] = [{ kind: 'port', type: 'IMAGE', ref: { node: image, output: 'image' } }];
  if (usesOutput(c, n.id, 1)) {
    const mask = c.add(n, {
      type: 'loadMask',
      params: { file, channel: 'alpha' },
      inputs: {},
      sources: { file: 'image' },
      preferredId: `${n.id}_mask`,
    });
    outs.push({ kind: 'port', type: 'MASK', ref: { node: mask, output: 'mask' } });
  }
  return outs;
};

/** ComfyUI's VAE Encode takes the latent distribution's mean (its regularizer does not sample): `mode`. */
const vaeEncode: Mapper = (c, n) => {
  const image = c.port(n, 'pixels', 'IMAGE').ref;
  const vae = c.port(n, 'vae', 'VAE').ref;
  c.note(n.id, 'ComfyUI crops pixels to a multiple of 8; sdflow refuses other sizes (fit the image in Load Image)');
  const id = c.add(n, { type: 'vaeEncode', params: { sampling: 'mode' }, inputs: { vae, image }, layout: n.layout });
  return [{ kind: 'port', type: 'LATENT', ref: { node: id, output: 'latent' } }];
};

const setLatentNoiseMask: Mapper = (c, n) => {
  const latent = c.port(n, 'samples', 'LATENT').ref;
  const mask = c.port(n, 'mask', 'MASK').ref;
  c.note(n.id, "the mask is thresholded at 0.5 (diffusers' rule); ComfyUI blends a soft mask as it is");
  const id = c.add(n, { type: 'setLatentMask', params: {}, inputs: { latent, mask }, layout: n.layout });
  return [{ kind: 'port', type: 'LATENT', ref: { node: id, output: 'latent' } }];
};

function vaeDecode(c: Converter, n: ComfyNode, tiled: boolean): ComfyValue[] {
  const latent = c.port(n, 'samples', 'LATENT').ref;
  const vae = c.port(n, 'vae', 'VAE').ref;
  let params: Record<string, unknown> = {};
  if (tiled) {
    const tileSize = c.number(n, 'tile_size', 512);
    const overlap = c.number(n, 'overlap', 64);
    // As ComfyUI's VAEDecodeTiled: an overlap over a quarter of the tile is cut to a quarter.
    params = { tiling: true, tileSize, tileOverlap: tileSize < overlap * 4 ? Math.floor(tileSize / 4) : overlap };
  }
  const id = c.add(n, {
    type: 'vaeDecode',
    params,
    inputs: { vae, latent },
    sources: { tileSize: 'tile_size', tileOverlap: 'overlap' },
    layout: n.layout,
  });
  return [{ kind: 'port', type: 'IMAGE', ref: { node: id, output: 'image' } }];
}

/** ComfyUI prefixes may hold a subfolder and %date:...% / %Node.widget% tokens; sdflow takes a plain file name. */
export function filenamePrefixOf(prefix: string): string {
  const name =
    prefix
      .replace(/%[^%]*%/g, '')
      .split(/[/\\]/)
      .pop() ?? '';
  const clean = name.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return clean.slice(0, 100) || 'ComfyUI';
}

function saveImage(c: Converter, n: ComfyNode, preview: boolean): ComfyValue[] {
  const image = c.port(n, 'images', 'IMAGE').ref;
  const given = preview ? 'ComfyUI_preview' : c.string(n, 'filename_prefix', 'ComfyUI');
  const filenamePrefix = filenamePrefixOf(given);
  if (preview) c.note(n.id, 'sdflow has no temporary previews: the image is saved to the output folder');
  else if (filenamePrefix !== given) c.note(n.id, `filename_prefix "${given}" -> filenamePrefix "${filenamePrefix}"`);
  c.add(n, {
    type: 'saveImage',
    params: { filenamePrefix },
    inputs: { image },
    sources: { filenamePrefix: 'filename_prefix' },
    layout: n.layout,
  });
  return [];
}

const primitive: Mapper = (c, n) => [{ kind: 'value', value: c.value(n, 'value'), from: n.id }];

export const MAPPERS: Readonly<Record<string, Mapper>> = {
  CheckpointLoaderSimple: loadCheckpoint,
  // The deprecated loader with a config file: the model's own config (config.json / the SDXL layout) is used.
  CheckpointLoader: (c, n) => {
    c.note(
      n.id,
      `config_name "${String(c.value(n, 'config_name', ''))}" not used: sdflow reads the model's own config`,
    );
    return loadCheckpoint(c, n);
  },
  CLIPSetLastLayer: clipSetLastLayer,
  CLIPTextEncode: clipTextEncode,
  CLIPTextEncodeSDXL: clipTextEncodeSdxl,
  ConditioningZeroOut: conditioningZeroOut,
  EmptyLatentImage: emptyLatentImage,
  LoadImage: loadImage,
  VAEEncode: vaeEncode,
  SetLatentNoiseMask: setLatentNoiseMask,
  KSampler: (c, n) => sampler(c, n, false),
  KSamplerAdvanced: (c, n) => sampler(c, n, true),
  VAEDecode: (c, n) => vaeDecode(c, n, false),
  VAEDecodeTiled: (c, n) => vaeDecode(c, n, true),
  SaveImage: (c, n) => saveImage(c, n, false),
  PreviewImage: (c, n) => saveImage(c, n, true),
  PrimitiveInt: primitive,
  PrimitiveFloat: primitive,
  PrimitiveString: primitive,
  PrimitiveStringMultiline: primitive,
  PrimitiveBoolean: primitive,
};

/** ComfyUI node types that are outputs: conversion starts from them. */
export const OUTPUT_TYPES = new Set(['SaveImage', 'PreviewImage']);
