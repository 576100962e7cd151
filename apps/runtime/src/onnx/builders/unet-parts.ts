// The UNet as an ordered list of parts (embed + conv_in, each down block, mid block, each up block + conv_out):
// buildUnet emits them in order into one graph. Skip tensors are numbered in
// diffusers' down_block_res_samples order (0 = conv_in output).
import type { GraphBuilder, Value } from '../graph-builder.ts';
import {
  activation,
  channelAxis,
  conv,
  downsample,
  normAct,
  resnetBlock,
  transformer2d,
  type UnetBlockContext,
  upsample,
} from './unet-blocks.ts';
import type { UnetArch } from './unet-config.ts';
import { conditioningEmbedding } from './unet-embeddings.ts';
import { NO_FUSIONS, type UnetFusions } from './unet-fusions.ts';

export type UnetPart =
  | { kind: 'embed'; name: 'embed'; skipsOut: number[] }
  | { kind: 'down'; name: string; block: number; cross: boolean; skipsOut: number[] }
  | { kind: 'mid'; name: 'mid_block' }
  | {
      kind: 'up';
      name: string;
      block: number;
      cross: boolean;
      /** Skips consumed, in the order the resnets take them. */
      skipsIn: number[];
      /** The skip whose height/width the upsampler resizes to (the next up block's first skip). */
      sizeSkip?: number;
      last: boolean;
    };

/** The parts in execution order, with the skip bookkeeping diffusers does at run time. */
export function planUnet(a: UnetArch): UnetPart[] {
  const parts: UnetPart[] = [{ kind: 'embed', name: 'embed', skipsOut: [0] }];
  let next = 1;
  for (const d of a.down) {
    const count = d.layers.length + (d.downsample ? 1 : 0);
    const skipsOut = Array.from({ length: count }, (_, i) => next + i);
    next += count;
    parts.push({
      kind: 'down',
      name: `down_blocks.${d.index}`,
      block: d.index,
      cross: d.type === 'CrossAttnDownBlock2D',
      skipsOut,
    });
  }
  parts.push({ kind: 'mid', name: 'mid_block' });
  let top = next; // stack height
  a.up.forEach((u, i) => {
    const skipsIn = u.layers.map(() => --top);
    const last = i === a.up.length - 1;
    const part: UnetPart = {
      kind: 'up',
      name: `up_blocks.${u.index}`,
      block: u.index,
      cross: u.type === 'CrossAttnUpBlock2D',
      skipsIn,
      last,
    };
    if (u.upsample) part.sizeSkip = top - 1;
    parts.push(part);
  });
  return parts;
}

/** Values a part reads and writes; skips by index. */
export interface UnetState {
  hidden?: Value;
  /** emb [B, time_embed_dim] (before the resnets' activation). */
  emb?: Value;
  ehs?: Value;
  skips: Map<number, Value>;
}

/** Graph inputs of the embed part (float32 edges cast to floatType where needed). */
export interface EmbedInputs {
  sample: Value;
  timestep: Value;
  textEmbeds: Value;
  timeIds: Value;
}

export class UnetEmitter {
  readonly ctx: UnetBlockContext;
  private tembAct?: Value;

  constructor(
    readonly g: GraphBuilder,
    readonly a: UnetArch,
    readonly numTimeIds: number,
    fuse: UnetFusions = NO_FUSIONS,
  ) {
    this.ctx = { g, groups: a.groups, eps: a.eps, act: a.act, useLinearProjection: a.useLinearProjection, fuse };
  }

  private get nhwc(): boolean {
    return this.ctx.fuse.layout === 'nhwc';
  }

  embed(s: UnetState, inputs: EmbedInputs): void {
    const { g, a } = this;
    s.emb = conditioningEmbedding(
      g,
      a,
      { timestep: inputs.timestep, textEmbeds: inputs.textEmbeds, timeIds: inputs.timeIds, batchLike: inputs.sample },
      this.numTimeIds,
    );
    let x = inputs.sample;
    if (a.centerInputSample) x = g.op1('Sub', [g.op1('Mul', [x, g.constFloat(2)]), g.constFloat(1)]);
    // the graph's sample is NCHW whatever the layout inside
    if (this.nhwc) x = g.op1('Transpose', [x], { perm: [0, 2, 3, 1] });
    const k = a.convInKernel;
    const p = (k - 1) / 2;
    s.hidden = conv(this.ctx, x, 'conv_in', a.inChannels, a.timeProjDim, k, 1, [p, p, p, p]);
    s.skips.set(0, s.hidden);
  }

  down(s: UnetState, part: Extract<UnetPart, { kind: 'down' }>): void {
    const d = this.a.down[part.block];
    if (!d) throw new Error(`no down block ${part.block}`);
    let h = need(s.hidden, 'hidden');
    let k = 0;
    for (const layer of d.layers) {
      h = resnetBlock(this.ctx, h, this.temb(s), layer.resnet, this.a.timeEmbedDim);
      if (layer.attn) h = transformer2d(this.ctx, h, need(s.ehs, 'encoder_hidden_states'), layer.attn);
      s.skips.set(part.skipsOut[k++] as number, h);
    }
    if (d.downsample) {
      h = downsample(this.ctx, h, d.downsample.prefix, d.downsample.channels, d.downsample.padding);
      s.skips.set(part.skipsOut[k++] as number, h);
    }
    s.hidden = h;
  }

  mid(s: UnetState): void {
    const { mid } = this.a;
    const ehs = need(s.ehs, 'encoder_hidden_states');
    let h = resnetBlock(
      this.ctx,
      need(s.hidden, 'hidden'),
      this.temb(s),
      need(mid.resnets[0], 'mid_block.resnets.0'),
      this.a.timeEmbedDim,
    );
    mid.attns.forEach((attn, i) => {
      h = transformer2d(this.ctx, h, ehs, attn);
      h = resnetBlock(
        this.ctx,
        h,
        this.temb(s),
        need(mid.resnets[i + 1], `mid_block.resnets.${i + 1}`),
        this.a.timeEmbedDim,
      );
    });
    s.hidden = h;
  }

  up(s: UnetState, part: Extract<UnetPart, { kind: 'up' }>): void {
    const { g, a } = this;
    const u = a.up[part.block];
    if (!u) throw new Error(`no up block ${part.block}`);
    let h = need(s.hidden, 'hidden');
    u.layers.forEach((layer, j) => {
      const skip = need(s.skips.get(part.skipsIn[j] as number), `skip_${part.skipsIn[j]}`);
      h = g.op1('Concat', [h, skip], { axis: channelAxis(this.ctx) });
      h = resnetBlock(this.ctx, h, this.temb(s), layer.resnet, a.timeEmbedDim);
      if (layer.attn) h = transformer2d(this.ctx, h, need(s.ehs, 'encoder_hidden_states'), layer.attn);
    });
    if (u.upsample) {
      const sizeLike = need(s.skips.get(part.sizeSkip as number), `skip_${part.sizeSkip}`);
      h = upsample(this.ctx, h, sizeLike, u.upsample.prefix, u.upsample.channels);
    }
    if (part.last) {
      h = normAct(this.ctx, h, 'conv_norm_out', a.timeProjDim, a.eps, true);
      const k = a.convOutKernel;
      const p = (k - 1) / 2;
      h = conv(this.ctx, h, 'conv_out', a.timeProjDim, a.outChannels, k, 1, [p, p, p, p]);
      if (this.nhwc) h = g.op1('Transpose', [h], { perm: [0, 3, 1, 2] });
    }
    s.hidden = h;
  }

  emit(s: UnetState, part: UnetPart, inputs?: EmbedInputs): void {
    if (part.kind === 'embed') this.embed(s, need(inputs, 'sample/timestep/text_embeds/time_ids'));
    else if (part.kind === 'down') this.down(s, part);
    else if (part.kind === 'mid') this.mid(s);
    else this.up(s, part);
  }

  /** act(emb), computed once per graph and shared by every resnet's time_emb_proj. */
  private temb(s: UnetState): Value {
    this.tembAct ??= activation(this.g, need(s.emb, 'emb'), this.a.act);
    return this.tembAct;
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`UNet builder: ${what} is not available to this part`);
  return v;
}
