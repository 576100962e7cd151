import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog } from '@sdflow/nodes/catalog.ts';
import { validateWorkflow } from '@sdflow/nodes/graph/validate.ts';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from './run-command.ts';

// The real `sdflow` command, spawned as a process.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = path.join(repoRoot, 'apps/runtime/bin/sdflow.mjs');
const fixtures = path.join(repoRoot, 'nodes/src/graph/fixtures');
const textToImage = path.join(repoRoot, 'workflows/text-to-image.workflow.json');
const onnxBackend = path.join(repoRoot, 'apps/runtime/src/backend/index.ts');
const tmp = mkdtempSync(path.join(tmpdir(), 'sdflow-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sdflow(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: tmp,
      env: { ...process.env, ...env, SDFLOW_BACKEND: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sdflow validate', () => {
  it('prints "ok" and exits 0 for a good workflow', async () => {
    const r = await sdflow(['validate', textToImage]);
    expect(r).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  it('exits 2 listing every problem, each naming its node and port or param', async () => {
    const file = path.join(fixtures, 'many-problems.workflow.json');
    const expected = validateWorkflow(readFileSync(file, 'utf8'), catalog, { requireOutputs: true });
    if (expected.ok) throw new Error('fixture should be invalid');
    const r = await sdflow(['validate', file]);
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n').slice(1);
    expect(lines).toHaveLength(expected.problems.length);
    for (const p of expected.problems) {
      const line = lines.find((l) => l.includes(p.message));
      expect(line, p.message).toBeDefined();
      if (p.nodeId) expect(line).toContain(`"${p.nodeId}"`);
      for (const where of [p.port, p.param]) if (where) expect(line).toContain(where);
    }
  });

  it('exits 2 with line and column for malformed JSON, and for a missing file or bad usage', async () => {
    const [bad, missing, noFile, unknown] = await Promise.all([
      sdflow(['validate', path.join(fixtures, 'malformed.workflow.json')]),
      sdflow(['validate', 'nope.json']),
      sdflow(['validate']),
      sdflow(['frobnicate']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/line \d+, column \d+/);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('nope.json');
    expect(noFile.code).toBe(2);
    expect(unknown.code).toBe(2);
  });
});

describe('sdflow run', () => {
  it('exits 2 on an invalid workflow or arguments, listing all problems and running nothing', async () => {
    const out = path.join(tmp, 'invalid');
    const file = path.join(tmp, 'two-problems.workflow.json');
    const wf = JSON.parse(readFileSync(textToImage, 'utf8'));
    wf.nodes.denoise.params.steps = 0;
    delete wf.nodes.decode.inputs.latent;
    writeFileSync(file, JSON.stringify(wf));
    const [r, device, flag] = await Promise.all([
      sdflow(['run', file, '--out', out, '--set', 'ghost.seed=1', '--set', 'latent.width="wide"']),
      sdflow(['run', textToImage, '--device', 'tpu']),
      sdflow(['run', textToImage, '--bogus']),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('4 problem(s)');
    expect(r.stderr).toMatch(/node "denoise".*steps/);
    expect(r.stderr).toMatch(/node "decode".*latent/);
    expect(r.stderr).toMatch(/no node "ghost"/);
    expect(r.stderr).toMatch(/node "latent".*width/);
    expect(existsSync(out)).toBe(false);
    expect(device.code).toBe(2);
    expect(device.stderr).toContain('--device');
    expect(flag.code).toBe(2);
  });

  // Needs the real ONNX backend (H5) and its built-in default model.
  it.skipIf(!existsSync(onnxBackend))(
    'runs a good workflow on the default model, exits 0, writes the image and the report; a failing node exits 1',
    async () => {
      const out = path.join(tmp, 'run');
      const r = await sdflow(['run', textToImage, '--out', out, '--device', 'cpu', '--set', 'denoise.steps=2']);
      expect(r.stderr).not.toMatch(/FAILED/);
      expect(r.code).toBe(0);
      const reportPath = /report: (.*)/.exec(r.stdout)?.[1];
      expect(reportPath).toBeDefined();
      const report = JSON.parse(readFileSync(reportPath!, 'utf8')) as RunReport;
      expect(report.status).toBe('finished');
      expect(report.nodes.map((n) => n.id)).toEqual(['model', 'prompt', 'latent', 'denoise', 'decode', 'save']);
      for (const n of report.nodes) {
        expect(n).toMatchObject({ status: 'finished', cached: false });
        expect(n.wallMs).toBeGreaterThanOrEqual(0);
        expect(n.peakBytes).toBeGreaterThan(0);
      }
      expect(report.files.length).toBe(1);
      expect(readdirSync(out)).toContain(report.files[0]);

      // A size the model's VAE cannot make is a validation problem now (exit 2, nothing run); a run that fails
      // in a node (exit 1, with its report) is in cli-hardening.test.ts.
      const refused = await sdflow(['run', textToImage, '--out', out, '--set', 'latent.width=100']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/node "latent" \(emptyLatent\): param "width" is 100, not a multiple of 8/);
    },
    120_000,
  );
});
