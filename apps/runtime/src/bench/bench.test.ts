import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bench } from './bench.ts';
import { BenchReport } from './bench-report.ts';

// The seed workflows on CPU with the built-in tiny model, shrunk by bench's overrides: proves the harness and
// that every seed row's workflow runs end to end.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const seedDir = path.join(repoRoot, 'workflows/seed');
const seedFiles = readdirSync(seedDir).map((f) => path.join(seedDir, f));
const tiny = ['--device', 'cpu', '--model', 'default', '--steps', '2', '--size', '32', '--batch', '1'];
const quiet = { write: () => {} };

describe('sdflow bench on CPU', () => {
  it('runs every seed workflow with the tiny model', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdflow-bench-test-'));
    const report = await bench([...seedFiles, ...tiny, '--runs', '1', '--warmup', '0', '--output', dir], quiet);
    expect(report.workflows.map((w) => w.name)).toHaveLength(9);
    for (const w of report.workflows) {
      expect(w.error, w.name).toBeUndefined();
      expect(w.median!.unetStepMs, w.name).toBeGreaterThan(0);
    }
  });

  it('excludes warm-ups, takes medians, writes JSON and prints a table', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdflow-bench-test-'));
    const json = path.join(dir, 'bench.json');
    const file = path.join(seedDir, '03-fp16-fused-attention.workflow.json');
    let printed = '';
    const io = {
      write: (t: string) => {
        printed += t;
      },
    };
    const report = await bench([file, ...tiny, '--runs', '3', '--warmup', '1', '--output', dir, '--json', json], io);
    const w = report.workflows[0]!;
    expect(w.warmups).toBe(1);
    expect(w.runs).toHaveLength(3);
    const walls = w.runs.map((r) => r.wallMs).sort((a, b) => a - b);
    expect(w.median!.wallMs).toBe(walls[1]);
    expect(w.median!.pipelineMs).toBeLessThanOrEqual(w.median!.wallMs);
    expect(w.median!.rssPeakBytes).toBeGreaterThan(0);
    expect(w.median!.unetStepMs).toBeCloseTo(w.median!.nodes.denoise! / 2, 6);
    // the output cache is cleared before each run: every node really runs
    for (const r of w.runs) for (const n of Object.values(r.nodes)) expect(n.cached).toBe(false);
    // per-node peaks (RSS on the CPU): each within the run's peak, the highest of them is the max over runs
    for (const r of w.runs)
      for (const n of Object.values(r.nodes)) {
        expect(n.peakBytes).toBeGreaterThan(0);
        expect(n.peakBytes).toBeLessThanOrEqual(r.rssPeakBytes);
      }
    expect(w.median!.nodePeakBytes!.denoise).toBe(Math.max(...w.runs.map((r) => r.nodes.denoise!.peakBytes!)));
    // per-component ONNX Runtime calls: one UNet call per step (no CFG batch split), inside the denoise node's time
    for (const r of w.runs) {
      expect(r.components?.unet).toMatchObject({ runs: 2, creates: 0 });
      expect(r.components!.unet!.runMs).toBeLessThanOrEqual(r.nodes.denoise!.ms);
      expect(r.components?.vae_decoder?.runs).toBe(1);
    }
    expect(w.median!.componentRunMs!.unet).toBeGreaterThan(0);
    expect(printed).toMatch(/unet\s+2\s+\d+\.\d/);
    expect(BenchReport.parse(JSON.parse(readFileSync(json, 'utf8'))).workflows).toHaveLength(1);
    expect(printed).toContain('03-fp16-fused-attention');
    expect(printed).toMatch(/denoise \(unetDenoise\)/);
  });

  it('reports a workflow that does not validate instead of stopping', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdflow-bench-test-'));
    const bad = path.join(dir, 'bad.workflow.json');
    writeFileSync(bad, '{"version": 1, "nodes": {"x": {"type": "nope"}}}');
    const report = await bench([bad, '--runs', '1', '--warmup', '0', '--output', dir], quiet);
    expect(report.workflows[0]?.error).toMatch(/nope/);
  });

  it('rejects bad options with the usage', async () => {
    await expect(bench(['--runs', '0', 'x.json'], quiet)).rejects.toThrow(/--runs.*usage: sdflow bench/s);
  });
});
