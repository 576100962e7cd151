import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClipText } from '../onnx/builders/clip-text.ts';
import { buildUnet } from '../onnx/builders/unet.ts';
import type { BuiltModel } from '../onnx/built-model.ts';
import { createSession, type Feed, type OnnxPath } from '../onnx/session.ts';
import { openSdxlFolder } from './diffusers-folder.ts';
import { exportModel } from './export.ts';
import { tinyFixture } from './fixture-path.ts';
import { SafetensorsFile } from './safetensors.ts';

const out = mkdtempSync(join(tmpdir(), 'sdflow-export-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function run(model: BuiltModel | OnnxPath, feeds: Record<string, Feed>) {
  const s = await createSession(model, { device: 'cpu' });
  const r = await s.run(feeds);
  await s.release();
  return r;
}

describe('sdflow export', () => {
  it('writes every part and loads back with the same outputs', async () => {
    const parts = exportModel(tinyFixture, out, { precision: 'fp32', target: 'cpu' });
    expect(parts.map((p) => p.slice(out.length + 1))).toEqual([
      'text_encoder',
      'text_encoder_2',
      'unet',
      'vae_decoder',
      'vae_encoder',
      'vae_tiny_decoder',
      'vae_tiny_encoder',
    ]);
    for (const p of parts) expect(existsSync(join(p, 'model.onnx_data'))).toBe(true);

    const src = openSdxlFolder(tinyFixture);
    const back = openSdxlFolder(out);
    expect(back.textEncoder2.onnx?.meta?.outputs).toEqual(['hidden_states_m2', 'last_hidden_state', 'text_embeds']);
    expect(back.vaeDecoderOnnx?.meta?.inputs).toEqual(['latent_sample']);

    const ids = SafetensorsFile.open(join(tinyFixture, 'references/text_encoders.safetensors')).readInt64(
      'input_ids_2',
    );
    const te2Feeds: Record<string, Feed> = { input_ids: { dims: [3, 77], data: ids, dtype: 'int64' } };
    const fromFile = await run(back.textEncoder2.onnx as OnnxPath, te2Feeds);
    const built = await run(
      buildClipText(src.textEncoder2.config, src.textEncoder2.weights(), { precision: 'fp32' }),
      te2Feeds,
    );
    expect(fromFile.text_embeds?.data).toEqual(built.text_embeds?.data);
    expect(fromFile.hidden_states_m2?.data).toEqual(built.hidden_states_m2?.data);

    const u = SafetensorsFile.open(join(tinyFixture, 'references/unet.safetensors'));
    const unetFeeds: Record<string, Feed> = {
      sample: { dims: [2, 4, 16, 16], data: u.readFloat32('sample') },
      timestep: { dims: [1], data: u.readFloat32('timestep_999') },
      encoder_hidden_states: { dims: [2, 77, 64], data: u.readFloat32('encoder_hidden_states') },
      text_embeds: { dims: [2, 32], data: u.readFloat32('text_embeds') },
      time_ids: { dims: [2, 6], data: u.readFloat32('time_ids') },
    };
    const unetFile = await run(back.unet.onnx as OnnxPath, unetFeeds);
    const unetBuilt = await run(buildUnet(src.unet.config, src.unet.weights(), { precision: 'fp32' }), unetFeeds);
    expect(unetFile.out_sample?.data).toEqual(unetBuilt.out_sample?.data);
  });
});
