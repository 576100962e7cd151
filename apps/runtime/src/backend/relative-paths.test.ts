import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnnxBackend } from './onnx-backend.ts';

// What a failing Load Model tells every client: the model and its files by name, never where the server keeps them.

const root = mkdtempSync(path.join(tmpdir(), 'sdflow-paths-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('backend errors name folders relative to the server', () => {
  const dirs = {
    models: path.join(root, 'models'),
    output: path.join(root, 'output'),
    cache: path.join(root, 'cache'),
  };
  mkdirSync(path.join(dirs.models, 'broken'), { recursive: true });
  writeFileSync(path.join(dirs.models, 'broken', 'model_index.json'), '{"_class_name": "NotSdxl"}');
  const backend = createOnnxBackend({ modelsDir: dirs.models, outputDir: dirs.output, cacheDir: dirs.cache });
  const load = (model: string) =>
    backend.loadModel({ model, precision: 'auto', device: 'cpu', offload: { mode: 'none', budgetMiB: 0 } }).then(
      () => new Error('loaded'),
      (err: Error) => err,
    );

  it('a missing model: named, and the models folder not spelled out', async () => {
    const err = await load('nonexistent');
    expect(err.message).toBe('model "nonexistent": no folder "nonexistent" in the models folder');
  });

  it('a broken model folder: the file relative to the models folder', async () => {
    const err = await load('broken');
    expect(err.message).toContain('models/broken/model_index.json');
    expect(err.message).not.toContain(root);
  });
});
