// The UNet split into stages for sequential offload (issue 4): one graph per part, loaded, run and released one at a
// time. Every stage edge is float32 (whatever the precision), so the runner just moves host tensors.
//
// Stage contract (B = batch; hidden/skip spatial sizes shrink by 2 per down block):
//   embed          in:  sample, timestep, text_embeds, time_ids      out: emb [B, time_embed_dim], hidden.embed, skip_0
//   down_blocks.i  in:  hidden.<previous stage>, emb (+ encoder_hidden_states if CrossAttn)
//                  out: hidden.down_blocks.i, skip_k for each skip it makes (k in diffusers' down_block_res_samples order)
//   mid_block      in:  hidden.down_blocks.<last>, emb, encoder_hidden_states      out: hidden.mid_block
//   up_blocks.i    in:  hidden.<previous stage>, emb (+ encoder_hidden_states if CrossAttn), the skip_k it concatenates,
//                       and (all but the last) the next block's first skip, whose height/width the upsampler targets
//                  out: hidden.up_blocks.i; the last up block (with conv_norm_out/conv_out) outputs out_sample
// `sample`, `timestep`, `encoder_hidden_states`, `text_embeds`, `time_ids` and `out_sample` are exactly buildUnet's
// inputs and output. Each stage lists its inputs/outputs; runUnetStages feeds each stage exactly those.
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { WeightSource } from '../../models/weight-source.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder, type Value } from '../graph-builder.ts';
import { numTimeIds, textEmbedsDim, UNET_OUTPUT, type UnetBuildOptions, unetArch } from './unet.ts';
import type { UnetArch } from './unet-config.ts';
import { resolveFusions } from './unet-fusions.ts';
import { type EmbedInputs, planUnet, UnetEmitter, type UnetPart, type UnetState } from './unet-parts.ts';

export interface UnetStage {
  /** 'embed', 'down_blocks.0', ..., 'mid_block', 'up_blocks.0', ... */
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Builds this stage's graph now (reads only this stage's weights), so stages can be built as they are loaded. */
  build(): BuiltModel;
}

/** The stages in execution order; nothing is read or built until a stage's build() is called. */
export function buildUnetStages(config: unknown, weights: WeightSource, opts: UnetBuildOptions): UnetStage[] {
  const a = unetArch(config, weights, opts);
  const parts = planUnet(a);
  return parts.map((part, i) => {
    const io = stageIo(part, parts[i - 1]);
    const build = () => buildStage(a, part, parts[i - 1], weights, opts);
    return { name: part.name, inputs: io.inputs, outputs: io.outputs, build };
  });
}

const skipName = (k: number) => `skip_${k}`;
/** The hidden state a stage hands to the next one (distinct names: a graph input and output cannot share one). */
const hiddenName = (part: UnetPart) => `hidden.${part.name}`;

function stageIo(part: UnetPart, prev: UnetPart | undefined): { inputs: string[]; outputs: string[] } {
  if (part.kind === 'embed') {
    return {
      inputs: ['sample', 'timestep', 'text_embeds', 'time_ids'],
      outputs: ['emb', hiddenName(part), skipName(0)],
    };
  }
  const inputs = [hiddenName(prev as UnetPart), 'emb'];
  if (part.kind === 'mid' || part.cross) inputs.push('encoder_hidden_states');
  if (part.kind === 'down') return { inputs, outputs: [hiddenName(part), ...part.skipsOut.map(skipName)] };
  if (part.kind === 'mid') return { inputs, outputs: [hiddenName(part)] };
  inputs.push(...part.skipsIn.map(skipName));
  if (part.sizeSkip !== undefined) inputs.push(skipName(part.sizeSkip));
  return { inputs, outputs: [part.last ? UNET_OUTPUT : hiddenName(part)] };
}

function buildStage(
  a: UnetArch,
  part: UnetPart,
  prev: UnetPart | undefined,
  weights: WeightSource,
  opts: UnetBuildOptions,
): BuiltModel {
  const g = new GraphBuilder({
    name: `unet.${part.name}`,
    precision: opts.precision,
    weights,
    target: opts.target,
    attention: opts.attention,
  });
  const n = numTimeIds(opts);
  // stage edges are NCHW tensors (the runner moves them between graphs), so stages keep the NCHW layout
  const emitter = new UnetEmitter(g, a, n, resolveFusions(opts.target, { ...opts.fusions, layout: 'nchw' }));
  const state: UnetState = { skips: new Map() };
  const { inputs, outputs } = stageIo(part, prev);
  const spatial = (name: string, channels: number) =>
    g.inputFloat(name, ['batch', channels, `${name}.height`, `${name}.width`]);
  let embedInputs: EmbedInputs | undefined;
  if (part.kind === 'embed') {
    embedInputs = {
      sample: g.inputFloat('sample', ['batch', a.inChannels, 'height', 'width']),
      timestep: g.input('timestep', 'float32', ['timestep_batch']),
      textEmbeds: g.inputFloat('text_embeds', ['batch', textEmbedsDim(a, opts)]),
      timeIds: g.input('time_ids', 'float32', ['batch', n]),
    };
  } else {
    state.hidden = spatial(hiddenName(prev as UnetPart), hiddenChannels(a, prev as UnetPart));
    state.emb = g.inputFloat('emb', ['batch', a.timeEmbedDim]);
    if (inputs.includes('encoder_hidden_states')) {
      state.ehs = g.inputFloat('encoder_hidden_states', ['batch', 'sequence', a.crossAttentionDim]);
    }
    for (const name of inputs.filter((i) => i.startsWith('skip_'))) {
      const k = Number(name.slice('skip_'.length));
      state.skips.set(k, spatial(name, a.skipChannels[k] as number));
    }
  }
  emitter.emit(state, part, embedInputs);
  for (const name of outputs) {
    if (name === 'emb') g.outputFloat(state.emb as Value, name, ['batch', a.timeEmbedDim]);
    else if (name === UNET_OUTPUT)
      g.outputFloat(state.hidden as Value, name, ['batch', a.outChannels, 'height', 'width']);
    else if (name.startsWith('skip_')) {
      const k = Number(name.slice('skip_'.length));
      g.outputFloat(state.skips.get(k) as Value, name, [
        'batch',
        a.skipChannels[k] as number,
        `${name}.height`,
        `${name}.width`,
      ]);
    } else
      g.outputFloat(state.hidden as Value, name, ['batch', hiddenChannels(a, part), `${name}.height`, `${name}.width`]);
  }
  return g.build();
}

/** Channels of the hidden state a part hands on. */
function hiddenChannels(a: UnetArch, part: UnetPart): number {
  if (part.kind === 'embed') return a.timeProjDim;
  if (part.kind === 'down') return a.down[part.block]?.layers.at(-1)?.resnet.outC as number;
  if (part.kind === 'mid') return a.mid.resnets.at(-1)?.outC as number;
  return a.up[part.block]?.layers.at(-1)?.resnet.outC as number;
}

/** Loads a stage, runs it on the given feeds, releases it (the backend's policy: sessions, devices, caching). */
export type UnetStageRunner = (stage: UnetStage, feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>;

export interface UnetFeeds {
  sample: Tensor;
  timestep: Tensor;
  encoder_hidden_states: Tensor;
  text_embeds: Tensor;
  time_ids: Tensor;
}

/**
 * Runs the stages in order, passing each exactly the tensors it lists and dropping every intermediate after its
 * last use (so at most the live skips are held). Returns out_sample.
 */
export async function runUnetStages(
  stages: readonly UnetStage[],
  feeds: UnetFeeds,
  run: UnetStageRunner,
): Promise<Tensor> {
  const live = new Map<string, Tensor>(Object.entries(feeds));
  const lastUse = new Map<string, number>();
  stages.forEach((s, i) => {
    for (const name of s.inputs) lastUse.set(name, i);
  });
  for (const [i, stage] of stages.entries()) {
    const stageFeeds: Record<string, Tensor> = {};
    for (const name of stage.inputs) {
      const t = live.get(name);
      if (!t) throw new Error(`UNet stage ${stage.name}: input '${name}' was not produced by an earlier stage`);
      stageFeeds[name] = t;
    }
    const out = await run(stage, stageFeeds);
    for (const name of stage.inputs) if (lastUse.get(name) === i) live.delete(name);
    for (const name of stage.outputs) {
      const t = out[name];
      if (!t) throw new Error(`UNet stage ${stage.name}: output '${name}' missing from its results`);
      live.set(name, t);
    }
  }
  const result = live.get(UNET_OUTPUT);
  if (!result) throw new Error(`UNet stages: no stage produced '${UNET_OUTPUT}'`);
  return result;
}
