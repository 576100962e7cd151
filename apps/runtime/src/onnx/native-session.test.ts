import path from 'node:path';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { describe, expect, it } from 'vitest';
import { SafetensorsSource } from '../models/weight-source.ts';
import { buildUnet } from './builders/unet.ts';
import { readJson, relativeError, unetDir, unetRef } from './builders/unet-test-support.ts';
import { createNativeSession, shrinkSharedArena } from './native-session.ts';
import { registerSharedArena } from './shared-arena.ts';
import { streamWeights } from './stream-weights.ts';

// Sessions through ONNX Runtime's C API with the weights as inputs held between runs (model offload's sessions):
// the sdxl-tiny UNet gives diffusers' output through it, with its weights loaded, unloaded and loaded again.

const config = readJson(path.join(unetDir, 'config.json'));
const feeds: Record<string, Tensor> = {
  sample: unetRef('sample'),
  timestep: unetRef('timestep_500'),
  encoder_hidden_states: unetRef('encoder_hidden_states'),
  text_embeds: unetRef('text_embeds'),
  time_ids: unetRef('time_ids'),
};

function streamedUnet() {
  return streamWeights(buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cpu' }), 'cpu');
}

describe('createNativeSession', () => {
  it('runs the sdxl-tiny UNet with its weights fed from loaded copies, matching diffusers within 1e-4', async () => {
    const built = streamedUnet();
    expect(built.externalData.map((f) => f.path)).toEqual(['resident.onnx_data']); // the smallest stay initializers
    const s = await createNativeSession(built, { device: 'cpu', threads: 1, label: 'unet' });
    try {
      expect(s.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
      expect(s.outputNames).toEqual(['out_sample']);
      expect(s.inputTypes.sample).toBe('float32');
      expect(s.weights.bytes).toBe(built.hostWeights?.reduce((a, w) => a + w.data.byteLength, 0));
      expect(s.weights.loaded).toBe(false);
      await expect(s.run(feeds)).rejects.toThrow(/unet: its weights are not loaded/);
      s.weights.load();
      expect(s.weights.loaded).toBe(true);
      const first = (await s.run(feeds)).out_sample!;
      expect(first.dims).toEqual([2, 4, 16, 16]);
      expect(relativeError(first.data, unetRef('out_t500').data)).toBeLessThan(1e-4);
      s.weights.unload();
      expect(s.weights.loaded).toBe(false);
      s.weights.load();
      const again = (await s.run(feeds)).out_sample!;
      expect([...again.data]).toEqual([...first.data]);
    } finally {
      await s.release();
    }
  });

  it('names the model and the input when a run fails, and keeps serving', async () => {
    const s = await createNativeSession(streamedUnet(), { device: 'cpu', threads: 1, label: 'unet' });
    try {
      s.weights.load();
      const { sample, ...rest } = feeds;
      await expect(s.run(rest)).rejects.toThrow(/unet: inference failed: .*sample/);
      const bad = { ...feeds, sample: { dims: [2, 4, 16], data: new Float32Array(2 * 4 * 16) } };
      await expect(s.run(bad)).rejects.toThrow(/unet: inference failed/);
      expect((await s.run(feeds)).out_sample!.dims).toEqual([2, 4, 16, 16]);
    } finally {
      await s.release();
    }
    await expect(s.run(feeds)).rejects.toThrow(/unet: the session was released/);
  });

  it('names the model when ONNX Runtime rejects it', async () => {
    const built = { model: new Uint8Array([1, 2, 3, 4]), externalData: [] };
    await expect(createNativeSession(built, { device: 'cpu', label: 'vae_decoder' })).rejects.toThrow(
      /vae_decoder: ONNX Runtime could not create a cpu session/,
    );
  });

  it('reads external data from memory: the whole sdxl-tiny UNet as initializers, matching diffusers', async () => {
    const built = buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cpu' });
    expect(built.externalData.length).toBeGreaterThan(0);
    const s = await createNativeSession(built, { device: 'cpu', threads: 1, label: 'unet' });
    try {
      expect(s.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
      expect(s.weights.bytes).toBe(0);
      const out = (await s.run(feeds)).out_sample!;
      expect(relativeError(out.data, unetRef('out_t500').data)).toBeLessThan(1e-4);
    } finally {
      await s.release();
    }
  });

  it("shrinks the shared arena through ONNX Runtime's run option, and names the device where it can't", () => {
    // CPU stands in for CUDA here: the same environment arena, run option and shrink
    expect(registerSharedArena('cpu')).toBe(true);
    expect(() => shrinkSharedArena('cpu', 0)).not.toThrow();
    expect(() => shrinkSharedArena('cpu', 0)).not.toThrow();
    expect(() => shrinkSharedArena('cuda', 0)).toThrow(/shrinking the shared cuda arena/);
  });
});
