import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsSource } from '../models/weight-source.ts';
import { buildSchedulerStep } from '../onnx/builders/scheduler-step.ts';
import { buildUnet } from '../onnx/builders/unet.ts';
import { readJson, unetDir, unetRef } from '../onnx/builders/unet-test-support.ts';
import { deviceTensors } from '../onnx/device-tensors.ts';
import { createNativeSession } from '../onnx/native-session.ts';
import { arenaEpoch, bumpArenaEpoch } from '../onnx/shared-arena.ts';
import { streamWeights } from '../onnx/stream-weights.ts';
import { createScheduler } from '../sdxl/schedulers/create-scheduler.ts';
import { parseSchedulerConfig } from '../sdxl/schedulers/scheduler-config.ts';
import type { DenoiseLoop, LoopStart } from './denoise-loop.ts';
import { deviceLoop } from './device-loop.ts';
import { unetGraphs } from './unet-graphs.ts';

// CUDA graphs can't be captured here; what is tested is the bookkeeping their safety rests on (which runs may be
// captured or replayed, tensors that keep their addresses) and that a loop over those kept tensors gives the same
// bits as one over its own.

const cond = {
  encoderHiddenStates: unetRef('encoder_hidden_states'),
  textEmbeds: unetRef('text_embeds'),
  timeIds: unetRef('time_ids'),
  cfg: true,
};
const rows = unetRef('sample').dims;

describe('unetGraphs', () => {
  it('runs a shape plain first, then one graph per arena epoch, and stops where the graph went stale', () => {
    const graphs = unetGraphs(deviceTensors({ device: 'cpu', label: 'unet' }));
    try {
      const first = graphs.loop('m', rows, cond);
      expect(first.graphId()).toBe(-1); // a shape's first loop: a capture would cost two runs more
      first.done();
      const second = graphs.loop('m', rows, cond);
      const id = second.graphId();
      expect(id).toBeGreaterThan(0);
      expect(second.graphId()).toBe(id);
      // the same tensors every loop: a replay reads and writes where the capture did
      expect(second.io).toBe(first.io);
      expect(() => graphs.loop('m', rows, cond)).toThrow(/already running/);
      // a session made on the arena mid-loop: that graph's regions may be taken, so a new capture
      bumpArenaEpoch('cuda');
      const next = second.graphId();
      expect(next).not.toBe(id);
      expect(next).toBeGreaterThan(0);
      second.done();
      // another model, or other shapes: other tensors, and again plain first
      const other = graphs.loop('m', [2, ...rows.slice(1, 3), rows[3]! * 2], cond);
      expect(other.io).not.toBe(first.io);
      expect(other.graphId()).toBe(-1);
      other.done();
      // the arena changed between two loops (row 10 shrinks it before each TAESD decode): no more captures
      const epoch = arenaEpoch('cuda');
      bumpArenaEpoch('cuda');
      expect(arenaEpoch('cuda')).toBe(epoch + 1);
      const third = graphs.loop('m', rows, cond);
      expect(third.graphId()).toBe(-1);
      third.done();
      const fourth = graphs.loop('m', rows, cond);
      expect(fourth.graphId()).toBe(-1);
      fourth.done();
    } finally {
      graphs.release();
    }
  });

  it('a loop over the kept tensors gives the bits of a loop over its own, run after run, with its own conditioning', async () => {
    const config = readJson(path.join(unetDir, 'config.json'));
    const built = streamWeights(
      buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cpu' }),
      'cpu',
    );
    const unet = await createNativeSession(built, { device: 'cpu', threads: 1, label: 'unet' });
    const step = await createNativeSession(buildSchedulerStep({ guided: true }), { device: 'cpu', label: 'step' });
    const keptTensors = deviceTensors({ device: 'cpu', label: 'unet' });
    const graphs = unetGraphs(keptTensors);
    try {
      unet.weights.load();
      expect(unet.graphs).toBe(false);
      const sample = unetRef('sample');
      const x = { dims: [1, ...sample.dims.slice(1)], data: sample.data.slice(0, sample.data.length / 2) };
      const start: LoopStart = { x, divisor: 1.5, cond };
      const parts = () => ({
        step,
        tensors: deviceTensors({ device: 'cpu' as const, label: 'unet' }),
        withUnet: async (fn: (s: typeof unet) => void) => fn(unet),
      });
      const own = await drive(deviceLoop(start, parts()));
      // twice: the second loop starts from the tensors the first left behind
      for (let run = 0; run < 2; run++) {
        const kept = await drive(deviceLoop(start, { ...parts(), graphs: graphs.loop('m', rows, cond) }));
        expect(kept).toEqual(own);
      }
      expect(own.some((v) => v !== 0)).toBe(true);
      // each loop writes its own conditioning into the kept tensors: another prompt's embeddings, the same shapes
      const scaled = { ...cond, textEmbeds: { ...cond.textEmbeds, data: cond.textEmbeds.data.map((v) => v * 2) } };
      const other: LoopStart = { ...start, cond: scaled };
      const graphLoop = graphs.loop('m', rows, scaled);
      const loop = deviceLoop(other, { ...parts(), graphs: graphLoop });
      expect(keptTensors.read(graphLoop.io.text_embeds)).toEqual(scaled.textEmbeds.data);
      const kept = await drive(loop);
      expect(kept).toEqual(await drive(deviceLoop(other, parts())));
      expect(kept).not.toEqual(own);
    } finally {
      await unet.release();
      await step.release();
      graphs.release();
    }
  });
});

async function drive(loop: DenoiseLoop): Promise<Float32Array> {
  const s = createScheduler('dpmpp_2m_karras', parseSchedulerConfig({}, 'scheduler_config.json'), 3);
  try {
    for (let i = 0; i < s.timesteps.length; i++)
      await loop.step({
        timestep: s.timesteps[i]!,
        coefficients: s.coefficients(i, i),
        guidance: 5,
        nextDivisor: i + 1 < s.timesteps.length ? s.inputDivisor(i + 1) : 1,
      });
    return Float32Array.from(await loop.sample());
  } finally {
    await loop.close();
  }
}
