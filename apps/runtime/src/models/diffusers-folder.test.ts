import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClipText } from '../onnx/builders/clip-text.ts';
import { openSdxlFolder } from './diffusers-folder.ts';
import { tinyFixture } from './fixture-path.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sdflow-df-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** A private copy of the tiny fixture (without references) to break. */
function copy(): string {
  const d = join(tmp, `m${n++}`);
  cpSync(tinyFixture, d, { recursive: true, filter: (src) => !src.includes('references') });
  return d;
}

function editJson(path: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}

describe('openSdxlFolder', () => {
  it('reads the tiny fixture', () => {
    const f = openSdxlFolder(tinyFixture);
    expect(f.index._class_name).toBe('StableDiffusionXLPipeline');
    expect(f.textEncoder.clip.hidden_act).toBe('quick_gelu');
    expect(f.textEncoder2.clip.projection_dim).toBe(32);
    expect(f.unet.arch.crossAttentionDim).toBe(64);
    expect(f.vae.vaeConfig.latent_channels).toBe(4);
    expect(f.vaeTiny?.name).toBe('vae_tiny');
    expect(f.unet.onnx).toBeUndefined();
    expect(f.textEncoder2.weights().files).toEqual([join(tinyFixture, 'text_encoder_2', 'model.safetensors')]);
  });

  it('names the missing file', () => {
    const d = copy();
    rmSync(join(d, 'text_encoder', 'model.safetensors'));
    expect(() => openSdxlFolder(d)).toThrow(
      `${join(d, 'text_encoder')}: no weights (*.safetensors or model.onnx) in component 'text_encoder'`,
    );
    rmSync(join(d, 'unet', 'config.json'));
    cpSync(join(tinyFixture, 'text_encoder'), join(d, 'text_encoder'), { recursive: true });
    expect(() => openSdxlFolder(d)).toThrow(`${join(d, 'unet', 'config.json')}: cannot read unet/config.json (ENOENT)`);
    rmSync(join(d, 'model_index.json'));
    expect(() => openSdxlFolder(d)).toThrow(`${join(d, 'model_index.json')}: cannot read model_index.json (ENOENT)`);
  });

  it('names the config that is not SDXL-shaped', () => {
    const d = copy();
    const unetConfig = join(d, 'unet', 'config.json');
    editJson(unetConfig, (j) => {
      j.cross_attention_dim = 48;
    });
    expect(() => openSdxlFolder(d)).toThrow(new RegExp(`^${unetConfig}: cross_attention_dim 48 does not match`));
    editJson(unetConfig, (j) => {
      j.cross_attention_dim = 64;
      j.addition_embed_type = null;
    });
    expect(() => openSdxlFolder(d)).toThrow(unetConfig);
    cpSync(join(tinyFixture, 'unet', 'config.json'), unetConfig);
    const te = join(d, 'text_encoder_2', 'config.json');
    editJson(te, (j) => {
      j.hidden_act = 'relu';
    });
    expect(() => openSdxlFolder(d)).toThrow(`${te}: not a CLIP text encoder config usable for SDXL: hidden_act`);
    cpSync(join(tinyFixture, 'text_encoder_2', 'config.json'), te);
    editJson(join(d, 'model_index.json'), (j) => {
      j._class_name = 'StableDiffusionPipeline';
    });
    expect(() => openSdxlFolder(d)).toThrow(
      /model_index\.json: _class_name is "StableDiffusionPipeline", not an SDXL pipeline/,
    );
  });

  it('names the truncated safetensors file before any build', () => {
    const d = copy();
    const file = join(d, 'text_encoder_2', 'model.safetensors');
    truncateSync(file, statSync(file).size - 100);
    const f = openSdxlFolder(d);
    expect(() => f.textEncoder2.weights()).toThrow(
      new RegExp(`^${file}: truncated safetensors file: tensor '.+' ends at byte`),
    );
  });

  it('names file, tensor and both shapes when a tensor disagrees with config.json', () => {
    const d = copy();
    editJson(join(d, 'text_encoder', 'config.json'), (j) => {
      j.intermediate_size = 40;
    });
    const f = openSdxlFolder(d);
    expect(() => buildClipText(f.textEncoder.config, f.textEncoder.weights(), { precision: 'fp32' })).toThrow(
      `${join(d, 'text_encoder', 'model.safetensors')}: tensor 'encoder.layers.0.mlp.fc1.weight' has shape [37, 32] but config.json implies [40, 32]`,
    );
  });
});
