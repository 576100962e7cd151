import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { createSession } from '../session.ts';
import { buildTaesdDecoder } from './taesd-decoder.ts';
import { buildTaesdEncoder } from './taesd-encoder.ts';
import { lowerCudaOps } from './unet-cuda-lowering.ts';
import { fixtureComponent, relativeError, vaeReferences } from './vae-test-support.ts';

const refs = vaeReferences();
const ref = (k: string) => {
  const t = refs[k];
  if (!t) throw new Error(`references/vae.safetensors lacks ${k}`);
  return t;
};

describe('AutoencoderTiny builders on sdxl-tiny (CPU, fp32)', () => {
  const { config, weights } = fixtureComponent('vae_tiny');

  it('decoder matches vae_tiny.decode', async () => {
    const s = await createSession(buildTaesdDecoder(config, weights, { precision: 'fp32' }), { device: 'cpu' });
    const out = await s.run({ latent_sample: ref('taesd_decode_input') });
    const want = ref('taesd_decode_output');
    expect(out.sample?.dims).toEqual(want.dims);
    expect(relativeError(out.sample!.data, want.data)).toBeLessThan(1e-4);
    await s.release();
  });

  it('the CUDA decoder (NHWC, NhwcConv) matches vae_tiny.decode once its ops are lowered', async () => {
    const built = buildTaesdDecoder(config, weights, { precision: 'fp32', target: 'cuda', layout: 'nhwc' });
    const ops = onnxProto.onnx.ModelProto.decode(built.model).graph?.node?.map((n) => n.opType) ?? [];
    expect(ops.filter((o) => o === 'Conv')).toEqual([]);
    expect(ops.filter((o) => o === 'NhwcConv').length).toBeGreaterThan(0);
    const s = await createSession(lowerCudaOps(built), { device: 'cpu' });
    const out = await s.run({ latent_sample: ref('taesd_decode_input') });
    const want = ref('taesd_decode_output');
    expect(out.sample?.dims).toEqual(want.dims);
    expect(relativeError(out.sample!.data, want.data)).toBeLessThan(1e-4);
    await s.release();
  });

  it('encoder matches vae_tiny.encode', async () => {
    const s = await createSession(buildTaesdEncoder(config, weights, { precision: 'fp32' }), { device: 'cpu' });
    const out = await s.run({ sample: ref('encode_input') });
    const want = ref('taesd_encode_output');
    expect(out.latent_sample?.dims).toEqual(want.dims);
    expect(relativeError(out.latent_sample!.data, want.data)).toBeLessThan(1e-4);
    await s.release();
  });

  it('rejects mismatched block lists, naming the file', () => {
    const bad = { ...(config as object), num_decoder_blocks: [1] };
    expect(() => buildTaesdDecoder(bad, weights, { precision: 'fp32' })).toThrow(/config\.json.*num_decoder_blocks/);
  });
});
