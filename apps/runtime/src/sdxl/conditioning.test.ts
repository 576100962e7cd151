import { tensor } from '@sdflow/nodes/tensor.ts';
import { describe, expect, it } from 'vitest';
import { addTimeIds, applyGuidance, concatHiddenStates, makeConditioning, unetConditioning } from './conditioning.ts';
import { latentToRgb } from './latent2rgb.ts';

describe('SDXL conditioning', () => {
  it('concatenates encoder states on the last axis', () => {
    const a = tensor([1, 2, 2], new Float32Array([1, 2, 3, 4]));
    const b = tensor([1, 2, 1], new Float32Array([9, 8]));
    expect([...concatHiddenStates(a, b).data]).toEqual([1, 2, 9, 3, 4, 8]);
  });

  it('zeroes an absent negative and orders the CFG batch [negative, positive]', () => {
    const pos = { embeds: tensor([1, 1, 2], new Float32Array([1, 2])), pooled: tensor([1, 1], new Float32Array([5])) };
    const c = makeConditioning(pos, null);
    expect([...c.negativePromptEmbeds.data]).toEqual([0, 0]);
    const batch = unetConditioning(c, 2, { height: 32, width: 32 }, 5);
    expect(batch.encoderHiddenStates.dims).toEqual([4, 1, 2]);
    expect([...batch.encoderHiddenStates.data]).toEqual([0, 0, 0, 0, 1, 2, 1, 2]);
    expect([...batch.textEmbeds.data]).toEqual([0, 0, 5, 5]);
    expect([...batch.timeIds.data.subarray(0, 6)]).toEqual(addTimeIds(32, 32));
    expect(unetConditioning(c, 1, { height: 32, width: 32 }, 1).cfg).toBe(false);
  });

  it('guides as uncond + g * (text - uncond)', () => {
    expect([...applyGuidance(new Float32Array([1, 2, 3, 5]), 5)]).toEqual([11, 17]);
  });

  it('previews latents as RGB in [0, 1]', () => {
    const img = latentToRgb(tensor([1, 4, 2, 2], new Float32Array(16).fill(3)));
    expect(img.dims).toEqual([1, 2, 2, 3]);
    expect(img.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});
