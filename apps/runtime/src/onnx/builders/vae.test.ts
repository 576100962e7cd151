import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { createSession } from '../session.ts';
import { lowerCudaOps } from './unet-cuda-lowering.ts';
import { buildVaeDecoder, vaePrecision } from './vae-decoder.ts';
import { buildVaeEncoder } from './vae-encoder.ts';
import { fixtureComponent, relativeError, vaeReferences } from './vae-test-support.ts';

const refs = vaeReferences();
const ref = (k: string) => {
  const t = refs[k];
  if (!t) throw new Error(`references/vae.safetensors lacks ${k}`);
  return t;
};

describe('AutoencoderKL builders on sdxl-tiny (CPU, fp32)', () => {
  const { config, weights } = fixtureComponent('vae');

  it('decoder matches vae.decode', async () => {
    const s = await createSession(buildVaeDecoder(config, weights, { precision: 'fp32' }), { device: 'cpu' });
    const input = ref('vae_decode_input');
    const out = await s.run({ latent_sample: input });
    const want = ref('vae_decode_output');
    expect(out.sample?.dims).toEqual(want.dims);
    expect(relativeError(out.sample!.data, want.data)).toBeLessThan(1e-4);
    await s.release();
  });

  it('the CUDA decoder (NHWC: NhwcConv, GroupNorm with SiLU fused) matches vae.decode once its ops are lowered', async () => {
    const opsOf = (layout?: 'nchw') => {
      const built = buildVaeDecoder(config, weights, { precision: 'fp32', target: 'cuda', layout });
      const ops = onnxProto.onnx.ModelProto.decode(built.model).graph?.node?.map((n) => n.opType) ?? [];
      return { built, count: (op: string) => ops.filter((o) => o === op).length };
    };
    const cuda = opsOf();
    // every conv (post_quant_conv, conv_in, 2 in each of 6 resnets, 1 shortcut, 1 upsampler, conv_out) and every
    // norm (2 per resnet, the attention's, conv_norm_out)
    expect([cuda.count('NhwcConv'), cuda.count('GroupNorm'), cuda.count('Conv')]).toEqual([17, 14, 0]);
    expect(opsOf('nchw').count('NhwcConv')).toBe(0);
    const s = await createSession(lowerCudaOps(cuda.built), { device: 'cpu' });
    const out = await s.run({ latent_sample: ref('vae_decode_input') });
    const want = ref('vae_decode_output');
    expect(out.sample?.dims).toEqual(want.dims);
    expect(relativeError(out.sample!.data, want.data)).toBeLessThan(1e-4);
    await s.release();
  });

  it('encoder matches latent_dist mean and clamped logvar', async () => {
    const s = await createSession(buildVaeEncoder(config, weights, { precision: 'fp32' }), { device: 'cpu' });
    const out = await s.run({ sample: ref('encode_input') });
    for (const [name, key] of [
      ['mean', 'vae_encode_mean'],
      ['logvar', 'vae_encode_logvar'],
    ] as const) {
      const want = ref(key);
      expect(out[name]?.dims).toEqual(want.dims);
      expect(relativeError(out[name]!.data, want.data)).toBeLessThan(1e-4);
    }
    await s.release();
  });

  it('keeps the decoder in fp32 under an fp16 model when force_upcast is set, unless told otherwise', () => {
    const c = { force_upcast: true };
    expect(vaePrecision(c, { precision: 'fp16' })).toBe('fp32');
    expect(vaePrecision(c, { precision: 'fp16', upcast: false })).toBe('fp16');
    expect(vaePrecision({ force_upcast: false }, { precision: 'fp16' })).toBe('fp16');
    expect(vaePrecision(c, { precision: 'fp32', upcast: false })).toBe('fp32');
  });

  it('an fp16 build (upcast off) runs and stays close to fp32', async () => {
    const s = await createSession(buildVaeDecoder(config, weights, { precision: 'fp16', upcast: false }), {
      device: 'cpu',
    });
    const out = await s.run({ latent_sample: ref('vae_decode_input') });
    expect(relativeError(out.sample!.data, ref('vae_decode_output').data)).toBeLessThan(1e-2);
    await s.release();
  });

  it('rejects a config whose channels do not divide into norm groups, naming the file', () => {
    const bad = { ...(config as object), norm_num_groups: 5 };
    expect(() => buildVaeDecoder(bad, weights, { precision: 'fp32' })).toThrow(/config\.json.*norm_num_groups 5/);
  });

  it('names the tensor whose shape disagrees with config.json', () => {
    const bad = { ...(config as object), latent_channels: 8 };
    expect(() => buildVaeDecoder(bad, weights, { precision: 'fp32' })).toThrow(/post_quant_conv\.weight/);
  });
});
