import path from 'node:path';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import { describe, expect, it } from 'vitest';
import { SyntheticSource } from '../../models/synthetic-weights.ts';
import { SafetensorsSource } from '../../models/weight-source.ts';
import { buildUnet } from './unet.ts';
import { buildUnetStages, runUnetStages, type UnetStage } from './unet-stages.ts';
import {
  otherUnetConfig,
  pseudoRandom,
  RecordingSource,
  readJson,
  unetRef as ref,
  relativeError,
  runOnce,
  unetDir,
} from './unet-test-support.ts';

const config = readJson(path.join(unetDir, 'config.json'));

/** A runner as a sequential-offload backend would use it: build, load, run, release, one stage at a time. */
function recordingRunner(log: string[]) {
  return async (stage: UnetStage, feeds: Record<string, Tensor>) => {
    expect(Object.keys(feeds).sort()).toEqual([...stage.inputs].sort());
    log.push(stage.name);
    const out = await runOnce(stage.build(), feeds);
    expect(Object.keys(out).sort()).toEqual([...stage.outputs].sort());
    return out;
  };
}

describe('buildUnetStages', () => {
  it('splits sdxl-tiny into embed, each block and the mid block, reproducing diffusers', async () => {
    const weights = new RecordingSource(SafetensorsSource.open(unetDir));
    const stages = buildUnetStages(config, weights, { precision: 'fp32', target: 'cpu' });
    expect(weights.reads.size).toBe(0); // nothing is read before a stage is built
    expect(stages.map((s) => s.name)).toEqual([
      'embed',
      'down_blocks.0',
      'down_blocks.1',
      'mid_block',
      'up_blocks.0',
      'up_blocks.1',
    ]);
    expect(stages[4]?.inputs).toEqual([
      'hidden.mid_block',
      'emb',
      'encoder_hidden_states',
      'skip_5',
      'skip_4',
      'skip_3',
      'skip_2',
    ]);
    const log: string[] = [];
    const out = await runUnetStages(
      stages,
      {
        sample: ref('sample'),
        timestep: ref('timestep_999'),
        encoder_hidden_states: ref('encoder_hidden_states'),
        text_embeds: ref('text_embeds'),
        time_ids: ref('time_ids'),
      },
      recordingRunner(log),
    );
    expect(log).toEqual(stages.map((s) => s.name));
    expect(out.dims).toEqual([2, 4, 16, 16]);
    expect(relativeError(out.data, ref('out_t999').data)).toBeLessThan(1e-4);
    // across all stages every key is read exactly once
    expect([...weights.reads.keys()].sort()).toEqual(SafetensorsSource.open(unetDir).names().sort());
    expect([...weights.reads.values()].every((n) => n === 1)).toBe(true);
  });

  it('chained stages equal the whole graph on another config and an odd latent size', async () => {
    const opts = { precision: 'fp32', target: 'cpu' } as const;
    const feeds = {
      sample: pseudoRandom([1, 4, 10, 14], 11),
      timestep: { dims: [1], data: Float32Array.from([700]) },
      encoder_hidden_states: pseudoRandom([1, 77, 40], 12),
      text_embeds: pseudoRandom([1, 20], 13),
      time_ids: { dims: [1, 6], data: Float32Array.from([40, 56, 0, 0, 40, 56]) },
    };
    const whole = (await runOnce(buildUnet(otherUnetConfig, new SyntheticSource({ seed: 3 }), opts), feeds)).out_sample;
    const stages = buildUnetStages(otherUnetConfig, new SyntheticSource({ seed: 3 }), opts);
    expect(stages).toHaveLength(1 + 3 + 1 + 3);
    const staged = await runUnetStages(stages, feeds, recordingRunner([]));
    expect(staged.dims).toEqual([1, 4, 10, 14]);
    expect(relativeError(staged.data, whole?.data ?? [])).toBeLessThan(1e-6);
  });

  it('names a stage input that no earlier stage produced', async () => {
    const stages = buildUnetStages(config, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cpu' });
    const feeds = {
      sample: ref('sample'),
      timestep: ref('timestep_999'),
      encoder_hidden_states: ref('encoder_hidden_states'),
      text_embeds: ref('text_embeds'),
      time_ids: ref('time_ids'),
    };
    const skipEmbed = stages.slice(1);
    await expect(runUnetStages(skipEmbed, feeds, recordingRunner([]))).rejects.toThrow(
      /down_blocks\.0: input 'hidden\.embed'/,
    );
  });
});
