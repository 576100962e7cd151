import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyFixture } from '../../models/fixture-path.ts';
import { SafetensorsFile } from '../../models/safetensors.ts';
import { SafetensorsSource } from '../../models/weight-source.ts';
import { relativeError as relErr } from '../../sdxl/testing/references.ts';
import { createSession } from '../session.ts';
import { buildClipText, clipSkipOutput, clipTextOutputs } from './clip-text.ts';

const refs = SafetensorsFile.open(join(tinyFixture, 'references/text_encoders.safetensors'));
/** the states before the penultimate layer's input (5 layers: hidden_states[0..3]), for clip skip */
const EARLIER = ['hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'hidden_states.3'];

async function encode(
  component: string,
  idsKey: string,
  attention: 'mha' | 'matmul' | 'mha-webgpu',
  precision: 'fp32' | 'fp16' = 'fp32',
) {
  const dir = join(tinyFixture, component);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as unknown;
  // 'mha-webgpu': the graph built for WebGPU (causal mask as attention_bias), run here on the CPU EP
  const built = buildClipText(config, SafetensorsSource.open(dir), {
    precision,
    attention: attention === 'matmul' ? 'matmul' : 'mha',
    target: attention === 'mha-webgpu' ? 'webgpu' : 'cpu',
  });
  const s = await createSession(built, { device: 'cpu' });
  const out = await s.run({ input_ids: { dims: [3, 77], data: refs.readInt64(idsKey), dtype: 'int64' } });
  await s.release();
  return { out, names: s.outputNames };
}

describe('CLIP text encoders on sdxl-tiny', () => {
  for (const attention of ['mha', 'matmul', 'mha-webgpu'] as const) {
    it(`text_encoder matches transformers (${attention})`, async () => {
      const { out, names } = await encode('text_encoder', 'input_ids_1', attention);
      expect([...names].sort()).toEqual([...EARLIER, 'hidden_states_m2', 'last_hidden_state', 'pooler_output']);
      expect(out.hidden_states_m2?.dims).toEqual([3, 77, 32]);
      expect(relErr(out.hidden_states_m2?.data as Float32Array, refs.readFloat32('te1_hidden_states_m2'))).toBeLessThan(
        1e-4,
      );
      expect(
        relErr(out.last_hidden_state?.data as Float32Array, refs.readFloat32('te1_last_hidden_state')),
      ).toBeLessThan(1e-4);
      expect(relErr(out.pooler_output?.data as Float32Array, refs.readFloat32('te1_pooler_output'))).toBeLessThan(1e-4);
    });

    it(`text_encoder_2 matches transformers (${attention})`, async () => {
      const { out, names } = await encode('text_encoder_2', 'input_ids_2', attention);
      expect([...names].sort()).toEqual([...EARLIER, 'hidden_states_m2', 'last_hidden_state', 'text_embeds']);
      expect(relErr(out.hidden_states_m2?.data as Float32Array, refs.readFloat32('te2_hidden_states_m2'))).toBeLessThan(
        1e-4,
      );
      expect(
        relErr(out.last_hidden_state?.data as Float32Array, refs.readFloat32('te2_last_hidden_state')),
      ).toBeLessThan(1e-4);
      expect(relErr(out.text_embeds?.data as Float32Array, refs.readFloat32('te2_text_embeds'))).toBeLessThan(1e-4);
    });
  }

  // fp16 graphs are float16 end to end (ORT's CPU EP casts around ops without fp16 kernels); measured drift ~1e-3
  it('fp16 builds run and drift from fp32 by less than 5e-3 (relative)', async () => {
    for (const [component, ids] of [
      ['text_encoder', 'input_ids_1'],
      ['text_encoder_2', 'input_ids_2'],
    ] as const) {
      const fp32 = (await encode(component, ids, 'mha')).out;
      const fp16 = (await encode(component, ids, 'mha', 'fp16')).out;
      for (const [name, t] of Object.entries(fp32)) {
        const err = relErr(fp16[name]?.data as Float32Array, t.data);
        expect(err, `${component}.${name}`).toBeLessThan(5e-3);
        expect(err, `${component}.${name}`).toBeGreaterThan(0);
      }
    }
  });

  it('pools at argmax(input_ids) for legacy configs (eos_token_id 2), which picks the same EOS here', async () => {
    const dir = join(tinyFixture, 'text_encoder_2');
    const config = { ...(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as object), eos_token_id: 2 };
    const s = await createSession(buildClipText(config, SafetensorsSource.open(dir), { precision: 'fp32' }), {
      device: 'cpu',
    });
    const out = await s.run({ input_ids: { dims: [3, 77], data: refs.readInt64('input_ids_2'), dtype: 'int64' } });
    await s.release();
    expect(relErr(out.text_embeds?.data as Float32Array, refs.readFloat32('te2_text_embeds'))).toBeLessThan(1e-4);
  });
});

describe('clipTextOutputs', () => {
  it("maps Optimum's hidden_states.N onto hidden_states_m2", () => {
    const t = (v: number) => ({ dims: [1], data: Float32Array.from([v]) });
    const optimum = {
      'hidden_states.0': t(0),
      'hidden_states.4': t(4),
      'hidden_states.5': t(5),
      last_hidden_state: t(9),
      text_embeds: t(7),
    };
    const out = clipTextOutputs(optimum, 5);
    // the earlier layers' states pass through for clip skip
    expect(Object.keys(out).sort()).toEqual([
      'hidden_states.0',
      'hidden_states_m2',
      'last_hidden_state',
      'text_embeds',
    ]);
    expect(out.hidden_states_m2?.data[0]).toBe(4);
    expect(() => clipTextOutputs({ last_hidden_state: t(1) }, 5)).toThrow(/hidden_states\.4/);
  });
});

describe('clipSkipOutput', () => {
  it("names diffusers' hidden_states[-(clip_skip + 2)]", () => {
    expect(clipSkipOutput(0, 12)).toBe('hidden_states_m2');
    expect(clipSkipOutput(1, 12)).toBe('hidden_states.10');
    expect(clipSkipOutput(11, 12)).toBe('hidden_states.0');
    expect(() => clipSkipOutput(12, 12)).toThrow(/clip skip 12: the text encoder has 12 layers/);
  });
});
