import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readPngText } from '../server/png-text.ts';
import { OutputFiles, safePrefix } from './output-files.ts';
import { asciiJson, crc32, insertPngText } from './png-workflow.ts';

const work = mkdtempSync(path.join(tmpdir(), 'sdflow-out-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const files = new OutputFiles(work);

describe('PNG workflow text', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('escapes non-ASCII so the JSON stays equal', () => {
    const doc = { prompt: 'café 🐱 "quoted"\n', n: 1 };
    const ascii = asciiJson(JSON.stringify(doc));
    expect(/^[\x20-\x7e]*$/.test(ascii)).toBe(true);
    expect(JSON.parse(ascii)).toEqual(doc);
  });

  it('saves a PNG that decodes and carries the workflow', async () => {
    const workflow = { version: 1, nodes: { a: { type: 'saveImage', params: { filenamePrefix: 'ünï 🐱' } } } };
    const data = new Float32Array(2 * 4 * 5 * 3).map((_, i) => (i % 7) / 6);
    const name = await files.saveImage(
      { images: { dims: [2, 4, 5, 3], data } },
      1,
      'my/../pic',
      JSON.stringify(workflow),
    );
    expect(name).toBe('my_pic_00001_.png');
    const png = readFileSync(path.join(work, name));
    const { info, data: pixels } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([5, 4, 3]);
    expect(pixels[0]).toBe(Math.round(data[60]! * 255));
    expect(JSON.parse(readPngText(png).workflow!)).toEqual(workflow);
    expect(await files.saveImage({ images: { dims: [2, 4, 5, 3], data } }, 0, 'my/../pic', '{}')).toBe(
      'my_pic_00002_.png',
    );
  });

  it('refuses a non-PNG', () => {
    expect(() => insertPngText(new Uint8Array(16), 'workflow', '{}')).toThrow(/not a PNG/);
  });
});

describe('latent files', () => {
  it('round-trips a latent through the output folder', async () => {
    const samples = { dims: [1, 4, 2, 3], data: Float32Array.from({ length: 24 }, (_, i) => i - 3.5) };
    const name = await files.saveLatent({ samples, kind: 'image' }, 'lat');
    expect(name).toMatch(/^lat_00001\.latent\.safetensors$/);
    const back = await files.loadLatent(name);
    expect(back.kind).toBe('image');
    expect(back.samples.dims).toEqual([1, 4, 2, 3]);
    expect([...back.samples.data]).toEqual([...samples.data]);
  });

  it('refuses names outside the output folder and malformed files', async () => {
    for (const bad of [
      '../secret.safetensors',
      '/etc/passwd',
      'a/b.safetensors',
      '..\\x.safetensors',
      '.hidden.safetensors',
      'x.png',
    ]) {
      await expect(files.loadLatent(bad)).rejects.toThrow(/not a latent file name/);
    }
    await expect(files.loadLatent('missing.safetensors')).rejects.toThrow(/no file/);
    writeFileSync(path.join(work, 'junk.safetensors'), 'not safetensors at all');
    await expect(files.loadLatent('junk.safetensors')).rejects.toThrow(/junk.safetensors/);
  });

  it('refuses a link in the output folder that leads outside it, naming only the file', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'sdflow-elsewhere-'));
    try {
      const samples = { dims: [1, 4, 1, 1], data: new Float32Array(4) };
      const name = await new OutputFiles(outside).saveLatent({ samples, kind: 'image' }, 'secret');
      symlinkSync(path.join(outside, name), path.join(work, 'planted.latent.safetensors'));
      const err = await files.loadLatent('planted.latent.safetensors').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('loadLatent: "planted.latent.safetensors" leads outside the output folder');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('keeps prefixes to safe characters', () => {
    expect(safePrefix('../../etc/x')).toBe('_etc_x');
    expect(safePrefix('')).toBe('sdflow');
  });
});
