import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEDULER_NAMES } from '@sdflow/nodes/defs/sampling/scheduler-names.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendSpec } from './backend-spec.ts';
import { Engine } from './engine.ts';

// workflows/sampler-clip-skip.workflow.json (DPM++ 2M SDE Karras, clip skip 1, ComfyUI prompt weights) through
// the engine and the ONNX backend on the built-in default model, then every sampler value on it.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const example = JSON.parse(
  readFileSync(path.join(repoRoot, 'workflows/sampler-clip-skip.workflow.json'), 'utf8'),
) as Workflow;

describe('the sampler and clip skip example', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'sdflow-samplers-'));
  let engine: Engine;

  beforeAll(async () => {
    const dir = (name: string) => path.join(tmp, name);
    engine = await Engine.start({
      backend: backendSpec(
        { modelsDir: dir('models'), outputDir: dir('output'), cacheDir: dir('cache'), device: 'cpu' },
        {},
      ),
    });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs and writes its image', async () => {
    const result = await engine.waitFor(engine.queue(example));
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('finished');
    expect(result.files).toHaveLength(1);
  }, 120_000);

  it('runs with every scheduler value and both weighting rules', async () => {
    for (const scheduler of SCHEDULER_NAMES) {
      const wf = structuredClone(example);
      wf.nodes.denoise!.params.scheduler = scheduler;
      wf.nodes.denoise!.params.steps = 3;
      wf.nodes.prompt!.params.weighting = scheduler.length % 2 === 0 ? 'a1111' : 'comfy';
      const result = await engine.waitFor(engine.queue(wf));
      expect(result.error, scheduler).toBeUndefined();
      expect(result.status, scheduler).toBe('finished');
    }
  }, 180_000);
});
