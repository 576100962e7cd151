// `sdflow export <model> <dir>`: builds every SDXL graph once and writes it as Optimum lays exports out
// (<part>/model.onnx + model.onnx_data[_N] + config.json), plus sdflow.json naming our IO, so later starts load it.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildClipText, CLIP_TEXT_INPUTS } from '../onnx/builders/clip-text.ts';
import { buildTaesdDecoder } from '../onnx/builders/taesd-decoder.ts';
import { buildTaesdEncoder } from '../onnx/builders/taesd-encoder.ts';
import { buildUnet, UNET_INPUTS, UNET_OUTPUT } from '../onnx/builders/unet.ts';
import { buildVaeDecoder } from '../onnx/builders/vae-decoder.ts';
import { buildVaeEncoder } from '../onnx/builders/vae-encoder.ts';
import type { BuiltModel } from '../onnx/built-model.ts';
import type { Precision, Target } from '../onnx/graph-builder.ts';
import { type ComponentFolder, type ExportMeta, openSdxlFolder } from './diffusers-folder.ts';

export interface ExportOptions {
  precision: Precision;
  target: Target;
  /** Called as each part is written (CLI progress). */
  onPart?: (part: string) => void;
}

interface Part {
  folder: string;
  from: ComponentFolder;
  inputs: readonly string[];
  outputs: readonly string[];
  build: () => BuiltModel;
}

/** Writes the exported pipeline to outDir (created); returns the part folders written. */
export function exportModel(modelDir: string, outDir: string, opts: ExportOptions): string[] {
  const src = openSdxlFolder(modelDir);
  const out = resolve(outDir);
  if (out === src.root) throw new Error(`${out}: export target is the source folder`);
  const o = { precision: opts.precision, target: opts.target };
  const w = (c: ComponentFolder) => c.weights(opts.precision === 'fp16' ? { variant: 'fp16' } : {});
  const parts: Part[] = [
    {
      folder: 'text_encoder',
      from: src.textEncoder,
      inputs: CLIP_TEXT_INPUTS,
      outputs: ['hidden_states_m2', 'last_hidden_state', 'pooler_output'],
      build: () => buildClipText(src.textEncoder.config, w(src.textEncoder), { ...o, withProjection: false }),
    },
    {
      folder: 'text_encoder_2',
      from: src.textEncoder2,
      inputs: CLIP_TEXT_INPUTS,
      outputs: ['hidden_states_m2', 'last_hidden_state', 'text_embeds'],
      build: () => buildClipText(src.textEncoder2.config, w(src.textEncoder2), { ...o, withProjection: true }),
    },
    {
      folder: 'unet',
      from: src.unet,
      inputs: UNET_INPUTS,
      outputs: [UNET_OUTPUT],
      build: () => buildUnet(src.unet.config, w(src.unet), { ...o, configFile: src.unet.configPath }),
    },
    {
      folder: 'vae_decoder',
      from: src.vae,
      inputs: ['latent_sample'],
      outputs: ['sample'],
      build: () => buildVaeDecoder(src.vae.config, w(src.vae), o),
    },
    {
      folder: 'vae_encoder',
      from: src.vae,
      inputs: ['sample'],
      outputs: ['mean', 'logvar'],
      build: () => buildVaeEncoder(src.vae.config, w(src.vae), o),
    },
  ];
  const tiny = src.vaeTiny;
  if (tiny) {
    parts.push(
      {
        folder: 'vae_tiny_decoder',
        from: tiny,
        inputs: ['latent_sample'],
        outputs: ['sample'],
        build: () => buildTaesdDecoder(tiny.config, w(tiny), o),
      },
      {
        folder: 'vae_tiny_encoder',
        from: tiny,
        inputs: ['sample'],
        outputs: ['latent_sample'],
        build: () => buildTaesdEncoder(tiny.config, w(tiny), o),
      },
    );
  }
  for (const p of parts)
    if (p.from.onnx && !p.from.hasSafetensors)
      throw new Error(`${p.from.dir}: already an ONNX export without safetensors; nothing to build '${p.folder}' from`);

  mkdirSync(out, { recursive: true });
  copyPlain(join(src.root, 'model_index.json'), join(out, 'model_index.json'));
  for (const d of ['tokenizer', 'tokenizer_2', 'scheduler']) copyPlain(join(src.root, d), join(out, d));
  const written: string[] = [];
  for (const p of parts) {
    const dir = join(out, p.folder);
    writeBuilt(p.build(), dir);
    copyPlain(p.from.configPath, join(dir, 'config.json'));
    const meta: ExportMeta = { producer: 'sdflow', version: 1, ...o, inputs: [...p.inputs], outputs: [...p.outputs] };
    writeFileSync(join(dir, 'sdflow.json'), `${JSON.stringify(meta, null, 2)}\n`);
    written.push(dir);
    opts.onPart?.(p.folder);
  }
  return written;
}

/** model.onnx plus its external data files, under the names the model refers to. */
export function writeBuilt(built: BuiltModel, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), built.model);
  for (const f of built.externalData) writeFileSync(join(dir, f.path), f.data);
}

/** Copies contents only (not modes: a read-only source such as a shared fixture must not make the export read-only). */
function copyPlain(from: string, to: string): void {
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) copyPlain(join(from, name), join(to, name));
  } else writeFileSync(to, readFileSync(from));
}
