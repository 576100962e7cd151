import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultClipVocab } from '../../models/default-model/clip-bpe-vocab.ts';
import { type EncodableTensor, encodeSafetensors } from '../../models/safetensors.ts';
import type { WeightSource } from '../../models/weight-source.ts';
import { buildClipText } from '../../onnx/builders/clip-text.ts';
import { buildTaesdDecoder } from '../../onnx/builders/taesd-decoder.ts';
import { buildTaesdEncoder } from '../../onnx/builders/taesd-encoder.ts';
import { buildUnet } from '../../onnx/builders/unet.ts';
import { buildVaeDecoder } from '../../onnx/builders/vae-decoder.ts';
import { buildVaeEncoder } from '../../onnx/builders/vae-encoder.ts';
import { f32ToF16 } from '../../onnx/float16.ts';
import { type RecordedTensor, RecordingSource } from './recording-source.ts';
import type { FolderConfigs } from './sdxl-family-spec.ts';

// Writes a complete diffusers SDXL folder from component configs: each component's weights are exactly the tensors
// our builders ask for (recorded over synthetic weights), saved as real safetensors files.

export interface WriteFolderOptions {
  /** 'fp32' (default): *.safetensors; 'fp16': only *.fp16.safetensors (F16); 'both': each. */
  variant?: 'fp32' | 'fp16' | 'both';
  /** Splits the UNet into this many shards with diffusion_pytorch_model.safetensors.index.json. */
  unetShards?: number;
  /** Offsets every component's weight seed. */
  seed?: number;
}

type Component = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae' | 'vae_tiny';

const FP32 = { precision: 'fp32', target: 'cpu' } as const;

/** What each component's builders read, as diffusers/transformers would save it. */
export function recordWeights(
  configs: FolderConfigs,
  seed = 0,
): Partial<Record<Component, Map<string, RecordedTensor>>> {
  const record = (s: number, build: (w: WeightSource) => void): Map<string, RecordedTensor> => {
    const w = new RecordingSource(seed * 16 + s);
    build(w);
    return w.tensors;
  };
  const out: Partial<Record<Component, Map<string, RecordedTensor>>> = {
    text_encoder: record(2, (w) => buildClipText(configs.text_encoder, w, { ...FP32, withProjection: false })),
    text_encoder_2: record(3, (w) => buildClipText(configs.text_encoder_2, w, { ...FP32, withProjection: true })),
    unet: record(0, (w) => buildUnet(configs.unet, w, FP32)),
    vae: record(1, (w) => {
      buildVaeEncoder(configs.vae, w, FP32);
      buildVaeDecoder(configs.vae, w, FP32);
    }),
  };
  const tiny = configs.vae_tiny;
  if (tiny)
    out.vae_tiny = record(4, (w) => {
      buildTaesdEncoder(tiny, w, FP32);
      buildTaesdDecoder(tiny, w, FP32);
    });
  return out;
}

/** Writes the folder (created) and returns the files written, relative to root. */
export function writeDiffusersFolder(root: string, configs: FolderConfigs, opts: WriteFolderOptions = {}): string[] {
  const written: string[] = [];
  const put = (rel: string, data: string | Uint8Array) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
    written.push(rel);
  };
  const json = (rel: string, value: unknown) => put(rel, `${JSON.stringify(value, null, 2)}\n`);

  json('model_index.json', configs.model_index);
  json('scheduler/scheduler_config.json', configs.scheduler);
  const { vocab, merges } = defaultClipVocab();
  for (const [dir, config] of [
    ['tokenizer', configs.tokenizer],
    ['tokenizer_2', configs.tokenizer_2],
  ] as const) {
    json(`${dir}/tokenizer_config.json`, config);
    put(`${dir}/vocab.json`, JSON.stringify(vocab));
    put(`${dir}/merges.txt`, `#version: 0.2\n${merges.join('\n')}\n`);
  }

  const weights = recordWeights(configs, opts.seed ?? 0);
  const variant = opts.variant ?? 'fp32';
  for (const [name, tensors] of Object.entries(weights) as [Component, Map<string, RecordedTensor>][]) {
    json(`${name}/config.json`, configs[name]);
    const stem = name.startsWith('text_encoder') ? 'model' : 'diffusion_pytorch_model';
    const shards = name === 'unet' ? (opts.unetShards ?? 1) : 1;
    for (const half of variant === 'both' ? [false, true] : [variant === 'fp16']) {
      const suffix = half ? '.fp16' : '';
      if (shards <= 1) {
        put(`${name}/${stem}${suffix}.safetensors`, encode(tensors, half));
        continue;
      }
      const names = [...tensors.keys()];
      const per = Math.ceil(names.length / shards);
      const weightMap: Record<string, string> = {};
      let total = 0;
      for (let i = 0; i < shards; i++) {
        const file = `${stem}${suffix}-${pad5(i + 1)}-of-${pad5(shards)}.safetensors`;
        const part = new Map(names.slice(i * per, (i + 1) * per).map((k) => [k, tensors.get(k) as RecordedTensor]));
        for (const [k, t] of part) {
          weightMap[k] = file;
          total += t.data.length * (half ? 2 : 4);
        }
        put(`${name}/${file}`, encode(part, half));
      }
      const index = half ? `${stem}.safetensors.index.fp16.json` : `${stem}.safetensors.index.json`;
      json(`${name}/${index}`, { metadata: { total_size: total }, weight_map: weightMap });
    }
  }
  return written;
}

const pad5 = (n: number) => String(n).padStart(5, '0');

/** safetensors bytes: F32, or F16 when `half`. */
export function encode(tensors: ReadonlyMap<string, RecordedTensor>, half: boolean): Uint8Array {
  const out: Record<string, EncodableTensor> = {};
  for (const [name, t] of tensors)
    out[name] = half ? { dims: t.dims, data: f32ToF16(t.data), dtype: 'F16' } : { dims: t.dims, data: t.data };
  return encodeSafetensors(out, { format: 'pt' });
}
