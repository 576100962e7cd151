// Test helpers for the UNet builders: fixture paths, a WeightSource that records what a builder reads, and
// a second SDXL-family config (3 levels, other widths/heads/depths/groups, conv projections) for synthetic runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { WeightSource } from '../../models/weight-source.ts';
import { fixtureDir, readReferenceTensors, reference } from '../../sdxl/testing/references.ts';
import type { BuiltModel } from '../built-model.ts';
import { createSession } from '../session.ts';

export { fixtureDir, relativeError } from '../../sdxl/testing/references.ts';
export const unetDir = path.join(fixtureDir, 'unet');

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

let unetRefs: ReturnType<typeof readReferenceTensors> | undefined;
/** A float tensor of the fixture's UNet references (references/unet.safetensors), read on first use. */
export function unetRef(key: string): Tensor {
  unetRefs ??= readReferenceTensors('unet.safetensors');
  return reference(unetRefs, key);
}

/** Counts every read() by name, delegating to another source. */
export class RecordingSource implements WeightSource {
  readonly reads = new Map<string, number>();
  readonly shapes = new Map<string, readonly number[]>();
  constructor(private readonly inner: WeightSource) {}
  get description(): string {
    return this.inner.description;
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  dims(name: string): number[] | undefined {
    return this.inner.dims(name);
  }
  read(name: string, expectedDims: readonly number[]): Float32Array {
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
    this.shapes.set(name, [...expectedDims]);
    return this.inner.read(name, expectedDims);
  }
}

export async function runOnce(built: BuiltModel, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const s = await createSession(built, { device: 'cpu', threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Deterministic N(0,1)-ish values (sum of uniforms from a small LCG) for synthetic inputs. */
export function pseudoRandom(dims: readonly number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++) data[i] = next() + next() + next() - 1.5;
  return { dims: [...dims], data };
}

/** SDXL-shaped but unlike the fixture: 3 levels, uneven layers, depths 1/2/3, conv proj_in/out, 4 groups. */
export const otherUnetConfig = {
  _class_name: 'UNet2DConditionModel',
  addition_embed_type: 'text_time',
  addition_time_embed_dim: 6,
  projection_class_embeddings_input_dim: 20 + 6 * 6,
  attention_head_dim: [2, 3, 4],
  block_out_channels: [16, 24, 48],
  cross_attention_dim: 40,
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  in_channels: 4,
  out_channels: 4,
  layers_per_block: [1, 2, 1],
  norm_num_groups: 4,
  transformer_layers_per_block: [1, 2, 3],
  use_linear_projection: false,
  flip_sin_to_cos: true,
  freq_shift: 0,
};

/**
 * Transformers 320 wide (the width com.microsoft.BiasAdd takes, and 2560 for BiasSplitGelu): one level, depth 2
 * everywhere, so every fused bias + residual site occurs (first / later blocks, the last block, proj_out).
 */
export const fusionWidthUnetConfig = {
  ...otherUnetConfig,
  attention_head_dim: 64,
  block_out_channels: [320],
  down_block_types: ['CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D'],
  layers_per_block: 1,
  norm_num_groups: 32,
  transformer_layers_per_block: 2,
  use_linear_projection: true,
};

/**
 * Another source's weights, with every 1-D tensor (biases, norm scales) offset by a deterministic U(±0.1) per
 * element: synthetic biases are 0 and norm scales 1, which would hide a bias wired to the wrong place.
 */
export class BiasedSource implements WeightSource {
  constructor(private readonly inner: WeightSource) {}
  get description(): string {
    return `${this.inner.description}, biased`;
  }
  has(name: string): boolean {
    return this.inner.has(name);
  }
  dims(name: string): number[] | undefined {
    return this.inner.dims(name);
  }
  read(name: string, expectedDims: readonly number[]): Float32Array {
    const w = this.inner.read(name, expectedDims);
    if (expectedDims.length !== 1) return w;
    let seed = 0;
    for (const c of name) seed = (Math.imul(seed, 31) + c.charCodeAt(0)) >>> 0;
    const noise = pseudoRandom(expectedDims, seed).data;
    return w.map((v, i) => v + (noise[i] as number) / 15);
  }
}
