import { Writable } from 'node:stream';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import { describe, expect, it } from 'vitest';
import { ProgressView } from './progress-view.ts';

function capture(tty: boolean, now?: () => number) {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  const view = new ProgressView(out, tty, (id) => (id === 'denoise' ? 'unetDenoise' : 'loadModel'), now);
  return { view, text: () => text };
}

const runId = 'r1';
const events: RunEvent[] = [
  { type: 'runStarted', runId, nodes: ['model', 'denoise'] },
  { type: 'nodeCached', runId, nodeId: 'model' },
  { type: 'nodeStarted', runId, nodeId: 'denoise' },
  ...Array.from(
    { length: 21 },
    (_, i): RunEvent => ({ type: 'nodeProgress', runId, nodeId: 'denoise', value: i, max: 20 }),
  ),
  { type: 'nodeFinished', runId, nodeId: 'denoise', wallMs: 1500, peakBytes: 3 * 1024 ** 2, files: [] },
  { type: 'runFinished', runId, wallMs: 1600, files: [] },
];

describe('ProgressView', () => {
  it('writes plain lines off a terminal, progress at most every 10%', () => {
    const { view, text } = capture(false);
    for (const e of events) view.handle(e);
    const lines = text().trim().split('\n');
    expect(lines[0]).toBe('run r1: 2 nodes');
    expect(lines).toContain('model (loadModel) cached');
    expect(lines).toContain('denoise (unetDenoise) 2/20');
    expect(lines.filter((l) => l.startsWith('denoise (unetDenoise) ') && l.includes('/20'))).toHaveLength(10);
    expect(lines).toContain('denoise (unetDenoise) finished in 1.5 s, peak 3.00 MiB');
    expect(lines.at(-1)).toBe('run finished in 1.6 s');
  });

  it('redraws one line per node in place on a terminal', () => {
    const { view, text } = capture(true);
    for (const e of events.slice(0, 4)) view.handle(e);
    expect(text()).toContain('▸ denoise (unetDenoise)');
    for (const e of events.slice(4)) view.handle(e);
    // Two node lines and the run's line.
    const last = text().split('\x1b[3A').at(-1)!;
    expect(last).toContain('= model (loadModel)      cached');
    expect(last).toContain('✓ denoise (unetDenoise)  1.5 s, peak 3.00 MiB');
  });

  it('draws one bar for the whole run on a terminal, with it/s and ETA counted from the first step', () => {
    let t = 0;
    const { view, text } = capture(true, () => t);
    for (const e of events.slice(0, 3)) view.handle(e);
    // Step 0 arrives after a 5 s warm-up, then 4 steps a second.
    t = 5000;
    view.handle({ type: 'nodeProgress', runId, nodeId: 'denoise', value: 0, max: 20 });
    t = 7500;
    view.handle({ type: 'nodeProgress', runId, nodeId: 'denoise', value: 10, max: 20 });
    const last = text().split('\x1b[3A').at(-1)!.trim().split('\n').at(-1)!;
    // 1 of 2 nodes done (cached) plus half of the other: 75%.
    expect(last.startsWith('\x1b[2K')).toBe(true);
    expect(last.slice('\x1b[2K'.length)).toMatch(/^run [█░]{24} 75% · 4\.00 it\/s · ETA 2\.5 s$/);
    for (const e of events.slice(-2)) view.handle(e);
    expect(text().trim().split('\n').at(-1)).toMatch(/run █{24} 100%$/);
  });
});
