import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unetFlops } from '../../../bench/unet-flops.ts';
import { parseClipTextConfig } from '../../../onnx/builders/clip-text-config.ts';
import { parseTaesdConfig } from '../../../onnx/builders/taesd-config.ts';
import { parseUnetConfig } from '../../../onnx/builders/unet-config.ts';
import { parseVaeConfig } from '../../../onnx/builders/vae-config.ts';
import { createSession } from '../../../onnx/session.ts';
import { buildCacheDir, SDXL_BASE_DIR, sdxlBaseRandomModel } from './sdxl-base-random.ts';

const read = (part: string) => {
  const file = path.join(SDXL_BASE_DIR, part, 'config.json');
  return { file, json: JSON.parse(readFileSync(file, 'utf8')) as unknown };
};

describe('sdxl-base-random', () => {
  it('has the SDXL base configs: consistent, and 54.09 TFLOP per CFG step of 4 images at 1024x1024', () => {
    const u = read('unet');
    const arch = parseUnetConfig(u.json, u.file);
    const te1 = parseClipTextConfig(read('text_encoder').json, 'text_encoder');
    const te2 = parseClipTextConfig(read('text_encoder_2').json, 'text_encoder_2');
    expect(arch.crossAttentionDim).toBe(te1.hidden_size + te2.hidden_size);
    expect(arch.addInputDim).toBe((te2.projection_dim ?? 0) + 6 * arch.addTimeEmbedDim);
    expect(arch.down.map((b) => b.layers[0]?.attn?.depth ?? 0)).toEqual([0, 2, 10]);
    expect(parseVaeConfig(read('vae').json, 'vae').block_out_channels).toEqual([128, 256, 512, 512]);
    expect(parseTaesdConfig(read('vae_tiny').json, 'vae_tiny').num_decoder_blocks).toEqual([3, 3, 3, 1]);
    // seed-table.md: diffusers' UNet forward at batch 8 on 128x128 latents is 54.09 TFLOP
    const tflop = unetFlops(arch, { batch: 8, height: 128, width: 128, contextTokens: 77 }) / 1e12;
    expect(tflop).toBeCloseTo(54.09, 2);
  });

  it('is a model source with SDXL facts and tokenizers', () => {
    const m = sdxlBaseRandomModel();
    expect(m.info).toMatchObject({
      id: 'sdxl-base-random',
      vaeScaleFactor: 8,
      latentChannels: 4,
      vaeScalingFactor: 0.13025,
    });
    const { tokenizer, tokenizer2 } = m.tokenizers();
    expect(tokenizer.encode('a photo of a cat').inputIds.slice(0, 7)).toEqual([
      49406, 320, 1125, 539, 320, 2368, 49407,
    ]);
    expect(tokenizer2.encode('a').inputIds.at(-1)).toBe(0); // tokenizer_2 pads with "!"
  });

  it('builds and runs its full-size tiny autoencoder on CPU', async () => {
    const built = sdxlBaseRandomModel().taesd!.decoder.build({ precision: 'fp32', target: 'cpu' });
    const s = await createSession(built, { device: 'cpu' });
    const out = await s.run({ latent_sample: { dims: [1, 4, 8, 8], data: new Float32Array(256).fill(0.1) } });
    expect(out.sample?.dims).toEqual([1, 3, 64, 64]);
    expect(out.sample!.data.every(Number.isFinite)).toBe(true);
    await s.release();
  });

  it('keeps graphs apart in the build cache by attention and the default CUDA fusions', () => {
    const dirs = [
      buildCacheDir('/c', 'unet', { precision: 'fp16', target: 'cuda' }),
      buildCacheDir('/c', 'unet', { precision: 'fp16', target: 'cuda', attention: 'mha' }),
      buildCacheDir('/c', 'unet', { precision: 'fp16', target: 'cuda', attention: 'matmul' }),
      buildCacheDir('/c', 'unet', { precision: 'fp32', target: 'cuda' }),
      buildCacheDir('/c', 'unet', { precision: 'fp16', target: 'cpu' }),
    ];
    expect(dirs[0]).toBe(dirs[1]); // mha is the builders' default: the same graph, the same folder
    expect(new Set(dirs).size).toBe(4);
    // a cache written under other default fusions is not this graph
    expect(path.basename(dirs[0]!)).toMatch(/^sdxl-base-random-unet-fp16-cuda-f[0-9a-f]{8}$/);
  });
});
