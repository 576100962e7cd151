// UNet2DConditionModel config.json (diffusers) and its resolution into per-block shapes the builder walks.
// Only SDXL-family UNets are accepted: text_time added conditioning, (CrossAttn)Down/UpBlock2D, UNetMidBlock2DCrossAttn.
import { z } from 'zod';

const PosInt = z.number().int().positive();
const IntOrList = z.union([PosInt, z.array(PosInt).min(1)]);
/** Transformer depth of one block: one int for every layer, or one per layer (diffusers' asymmetric UNets). */
const Depth = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()).min(1)]);

export const UnetConfig = z.object({
  _class_name: z.string().optional(),
  in_channels: PosInt.default(4),
  out_channels: PosInt.default(4),
  center_input_sample: z.boolean().default(false),
  flip_sin_to_cos: z.boolean().default(true),
  freq_shift: z.number().default(0),
  down_block_types: z.array(z.string()).min(1),
  mid_block_type: z.string().nullable().default('UNetMidBlock2DCrossAttn'),
  up_block_types: z.array(z.string()).min(1),
  only_cross_attention: z.union([z.boolean(), z.array(z.boolean())]).default(false),
  block_out_channels: z.array(PosInt).min(1),
  layers_per_block: IntOrList.default(2),
  downsample_padding: z.number().int().nonnegative().default(1),
  mid_block_scale_factor: z.number().positive().default(1),
  act_fn: z.string().default('silu'),
  norm_num_groups: PosInt.nullable().default(32),
  norm_eps: z.number().positive().default(1e-5),
  cross_attention_dim: IntOrList.default(1280),
  transformer_layers_per_block: z.union([z.number().int().nonnegative(), z.array(Depth).min(1)]).default(1),
  reverse_transformer_layers_per_block: z.array(Depth).nullable().default(null),
  encoder_hid_dim: z.number().nullable().default(null),
  encoder_hid_dim_type: z.string().nullable().default(null),
  // diffusers' naming quirk: with num_attention_heads null, attention_head_dim is the number of heads
  attention_head_dim: z.union([PosInt, z.array(PosInt.nullable()).min(1)]).default(8),
  num_attention_heads: IntOrList.nullable().default(null),
  dual_cross_attention: z.boolean().default(false),
  use_linear_projection: z.boolean().default(false),
  class_embed_type: z.string().nullable().default(null),
  addition_embed_type: z.string().nullable().default(null),
  addition_time_embed_dim: PosInt.nullable().default(null),
  num_class_embeds: z.number().nullable().default(null),
  upcast_attention: z.boolean().nullable().default(false),
  resnet_time_scale_shift: z.string().default('default'),
  time_embedding_type: z.string().default('positional'),
  time_embedding_dim: PosInt.nullable().default(null),
  time_embedding_act_fn: z.string().nullable().default(null),
  timestep_post_act: z.string().nullable().default(null),
  time_cond_proj_dim: z.number().nullable().default(null),
  conv_in_kernel: PosInt.default(3),
  conv_out_kernel: PosInt.default(3),
  projection_class_embeddings_input_dim: PosInt.nullable().default(null),
  attention_type: z.string().default('default'),
  class_embeddings_concat: z.boolean().default(false),
  cross_attention_norm: z.string().nullable().default(null),
});
export type UnetConfig = z.infer<typeof UnetConfig>;

export type Activation = 'silu' | 'gelu' | 'relu' | 'mish';
export interface ResnetArch {
  prefix: string;
  inC: number;
  outC: number;
  /** diffusers divides the residual sum by this (mid block: mid_block_scale_factor; others 1). */
  outputScale: number;
}
export interface TransformerArch {
  prefix: string;
  channels: number;
  heads: number;
  headDim: number;
  depth: number;
  crossDim: number;
}
export interface DownBlockArch {
  index: number;
  type: 'DownBlock2D' | 'CrossAttnDownBlock2D';
  layers: { resnet: ResnetArch; attn?: TransformerArch }[];
  downsample?: { prefix: string; channels: number; padding: number };
}
export interface MidBlockArch {
  resnets: ResnetArch[];
  attns: TransformerArch[];
}
export interface UpBlockArch {
  index: number;
  type: 'UpBlock2D' | 'CrossAttnUpBlock2D';
  /** skipC: channels of the skip tensor concatenated before the resnet. */
  layers: { resnet: ResnetArch; skipC: number; attn?: TransformerArch }[];
  upsample?: { prefix: string; channels: number };
}
/** Everything the graph builder needs, resolved from config.json (diffusers' own defaults and quirks applied). */
export interface UnetArch {
  file: string;
  inChannels: number;
  outChannels: number;
  centerInputSample: boolean;
  flipSinToCos: boolean;
  freqShift: number;
  convInKernel: number;
  convOutKernel: number;
  /** Sinusoidal timestep width (block_out_channels[0]) and the time embedding width. */
  timeProjDim: number;
  timeEmbedDim: number;
  act: Activation;
  timeEmbeddingAct?: Activation;
  timestepPostAct?: Activation;
  addTimeEmbedDim: number;
  addInputDim: number;
  groups: number;
  eps: number;
  useLinearProjection: boolean;
  /** Width D of encoder_hidden_states. */
  crossAttentionDim: number;
  /** Channels of each skip tensor in diffusers' down_block_res_samples order. */
  skipChannels: number[];
  down: DownBlockArch[];
  mid: MidBlockArch;
  up: UpBlockArch[];
}

const ACTIVATIONS: Record<string, Activation> = {
  silu: 'silu',
  swish: 'silu',
  gelu: 'gelu',
  relu: 'relu',
  mish: 'mish',
};

/** Parse + resolve a UNet config.json; every error names `file` and the offending field. */
export function parseUnetConfig(json: unknown, file: string): UnetArch {
  const parsed = UnetConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join('.') : '?';
    throw new Error(`${file}: invalid UNet config field "${field}": ${issue?.message ?? 'invalid'}`);
  }
  return resolveUnetConfig(parsed.data, file);
}

export function resolveUnetConfig(c: UnetConfig, file: string): UnetArch {
  const fail = (field: string, msg: string): never => {
    throw new Error(
      `${file}: UNet config field "${field}" ${msg} (only SDXL-family UNet2DConditionModel is supported)`,
    );
  };
  if (c._class_name !== undefined && c._class_name !== 'UNet2DConditionModel') {
    fail('_class_name', `is "${c._class_name}", expected "UNet2DConditionModel"`);
  }
  if (c.addition_embed_type !== 'text_time') {
    fail('addition_embed_type', `is ${JSON.stringify(c.addition_embed_type)}, expected "text_time" (SDXL)`);
  }
  const unsupported: [keyof UnetConfig, unknown, unknown][] = [
    ['class_embed_type', c.class_embed_type, null],
    ['num_class_embeds', c.num_class_embeds, null],
    ['encoder_hid_dim', c.encoder_hid_dim, null],
    ['encoder_hid_dim_type', c.encoder_hid_dim_type, null],
    ['time_cond_proj_dim', c.time_cond_proj_dim, null],
    ['time_embedding_type', c.time_embedding_type, 'positional'],
    ['dual_cross_attention', c.dual_cross_attention, false],
    ['resnet_time_scale_shift', c.resnet_time_scale_shift, 'default'],
    ['attention_type', c.attention_type, 'default'],
    ['cross_attention_norm', c.cross_attention_norm, null],
    ['mid_block_type', c.mid_block_type, 'UNetMidBlock2DCrossAttn'],
  ];
  for (const [field, value, want] of unsupported) {
    if (value !== want) fail(field, `is ${JSON.stringify(value)}; only ${JSON.stringify(want)} is supported`);
  }
  const onlyCross = Array.isArray(c.only_cross_attention) ? c.only_cross_attention : [c.only_cross_attention];
  if (onlyCross.some(Boolean)) fail('only_cross_attention', 'must be false');
  if (c.norm_num_groups === null) fail('norm_num_groups', 'must be set');
  if (c.addition_time_embed_dim === null) fail('addition_time_embed_dim', 'must be set for text_time');
  if (c.projection_class_embeddings_input_dim === null) {
    fail('projection_class_embeddings_input_dim', 'must be set for text_time');
  }
  const activation = (field: string, name: string): Activation =>
    ACTIVATIONS[name] ?? fail(field, `is "${name}"; supported: ${Object.keys(ACTIVATIONS).join(', ')}`);
  for (const [field, k] of [
    ['conv_in_kernel', c.conv_in_kernel],
    ['conv_out_kernel', c.conv_out_kernel],
  ] as const) {
    if (k % 2 !== 1) fail(field, `is ${k}; must be odd`);
  }

  const n = c.down_block_types.length;
  const boc = c.block_out_channels;
  const groups = c.norm_num_groups as number;
  if (c.up_block_types.length !== n) fail('up_block_types', `has ${c.up_block_types.length} entries, expected ${n}`);
  if (boc.length !== n) fail('block_out_channels', `has ${boc.length} entries, expected ${n} (down_block_types)`);
  const perBlock = <T>(field: string, v: T | T[]): T[] => {
    if (!Array.isArray(v)) return Array.from({ length: n }, () => v);
    if (v.length !== n) fail(field, `has ${v.length} entries, expected ${n} (down_block_types)`);
    return v;
  };
  const layers = perBlock('layers_per_block', c.layers_per_block);
  const heads =
    c.num_attention_heads !== null
      ? perBlock('num_attention_heads', c.num_attention_heads)
      : perBlock('attention_head_dim', c.attention_head_dim);
  const headsField = c.num_attention_heads !== null ? 'num_attention_heads' : 'attention_head_dim';
  const cross = perBlock('cross_attention_dim', c.cross_attention_dim);
  // one encoder_hidden_states tensor feeds every block, so all cross-attention widths must agree
  const crossDim = cross[0] as number;
  if (cross.some((d) => d !== crossDim)) fail('cross_attention_dim', `entries differ (${cross.join(', ')})`);
  const tlpb = perBlock('transformer_layers_per_block', c.transformer_layers_per_block);
  if (c.reverse_transformer_layers_per_block === null && tlpb.some(Array.isArray)) {
    fail('reverse_transformer_layers_per_block', 'must be set when transformer_layers_per_block has per-layer lists');
  }
  const rtlpb = c.reverse_transformer_layers_per_block ?? [...tlpb].reverse();
  if (rtlpb.length !== n) fail('reverse_transformer_layers_per_block', `has ${rtlpb.length} entries, expected ${n}`);
  for (const [i, ch] of boc.entries()) {
    if (ch % groups !== 0) fail('block_out_channels', `[${i}] = ${ch} is not divisible by norm_num_groups ${groups}`);
  }

  const depths = (field: string, d: number | number[], count: number): number[] => {
    if (!Array.isArray(d)) return Array.from({ length: count }, () => d);
    if (d.length < count) fail(field, `lists ${d.length} depths for a block of ${count} layers`);
    return d.slice(0, count);
  };
  const transformer = (
    prefix: string,
    channels: number,
    h: number | null | undefined,
    depth: number,
    field: string,
  ) => {
    if (!h) return fail(field, `has no head count for cross-attention block ${prefix}`);
    if (channels < h) fail(field, `gives ${h} heads for ${channels} channels in ${prefix}`);
    const t: TransformerArch = { prefix, channels, heads: h, headDim: Math.floor(channels / h), depth, crossDim };
    return t;
  };
  const resnet = (prefix: string, inC: number, outC: number, outputScale = 1): ResnetArch => {
    if (inC % groups !== 0) fail('norm_num_groups', `${groups} does not divide the ${inC} input channels of ${prefix}`);
    return { prefix, inC, outC, outputScale };
  };

  const skipChannels = [boc[0] as number];
  const down: DownBlockArch[] = c.down_block_types.map((type, i) => {
    if (type !== 'DownBlock2D' && type !== 'CrossAttnDownBlock2D') {
      return fail(`down_block_types[${i}]`, `is "${type}"; supported: DownBlock2D, CrossAttnDownBlock2D`);
    }
    const outC = boc[i] as number;
    const inC = i === 0 ? outC : (boc[i - 1] as number);
    const nl = layers[i] as number;
    const ds = depths(`transformer_layers_per_block[${i}]`, tlpb[i] as number | number[], nl);
    const p = `down_blocks.${i}`;
    const block: DownBlockArch = {
      index: i,
      type,
      layers: Array.from({ length: nl }, (_, j) => {
        skipChannels.push(outC);
        const r = resnet(`${p}.resnets.${j}`, j === 0 ? inC : outC, outC);
        if (type === 'DownBlock2D') return { resnet: r };
        return { resnet: r, attn: transformer(`${p}.attentions.${j}`, outC, heads[i], ds[j] as number, headsField) };
      }),
    };
    if (i < n - 1) {
      block.downsample = { prefix: `${p}.downsamplers.0.conv`, channels: outC, padding: c.downsample_padding };
      skipChannels.push(outC);
    }
    return block;
  });

  const midC = boc[n - 1] as number;
  const midDepth = depths('transformer_layers_per_block', tlpb[n - 1] as number | number[], 1)[0] as number;
  const mid: MidBlockArch = {
    resnets: [0, 1].map((j) => resnet(`mid_block.resnets.${j}`, midC, midC, c.mid_block_scale_factor)),
    attns: [transformer('mid_block.attentions.0', midC, heads[n - 1], midDepth, headsField)],
  };

  const rboc = [...boc].reverse();
  const rheads = [...heads].reverse();
  const rlayers = [...layers].reverse();
  const stack = [...skipChannels];
  const up: UpBlockArch[] = c.up_block_types.map((type, i) => {
    if (type !== 'UpBlock2D' && type !== 'CrossAttnUpBlock2D') {
      return fail(`up_block_types[${i}]`, `is "${type}"; supported: UpBlock2D, CrossAttnUpBlock2D`);
    }
    const outC = rboc[i] as number;
    const prevC = i === 0 ? outC : (rboc[i - 1] as number);
    const inC = rboc[Math.min(i + 1, n - 1)] as number;
    const nl = (rlayers[i] as number) + 1;
    const ds = depths(`reverse_transformer_layers_per_block[${i}]`, rtlpb[i] as number | number[], nl);
    const p = `up_blocks.${i}`;
    const block: UpBlockArch = {
      index: i,
      type,
      layers: Array.from({ length: nl }, (_, j) => {
        // diffusers sizes resnets by formula; assert the actual skip tensor agrees (it does for any per-block layers)
        const declared = j === nl - 1 ? inC : outC;
        const skipC = stack.pop();
        if (skipC !== declared)
          fail('layers_per_block', `gives ${p} a ${skipC}-channel skip where ${declared} is built`);
        const r = resnet(`${p}.resnets.${j}`, (j === 0 ? prevC : outC) + declared, outC);
        if (type === 'UpBlock2D') return { resnet: r, skipC: declared };
        const attn = transformer(`${p}.attentions.${j}`, outC, rheads[i], ds[j] as number, headsField);
        return { resnet: r, skipC: declared, attn };
      }),
    };
    if (i < n - 1) block.upsample = { prefix: `${p}.upsamplers.0.conv`, channels: outC };
    return block;
  });

  return {
    file,
    inChannels: c.in_channels,
    outChannels: c.out_channels,
    centerInputSample: c.center_input_sample,
    flipSinToCos: c.flip_sin_to_cos,
    freqShift: c.freq_shift,
    convInKernel: c.conv_in_kernel,
    convOutKernel: c.conv_out_kernel,
    timeProjDim: boc[0] as number,
    timeEmbedDim: c.time_embedding_dim ?? (boc[0] as number) * 4,
    act: activation('act_fn', c.act_fn),
    timeEmbeddingAct: c.time_embedding_act_fn
      ? activation('time_embedding_act_fn', c.time_embedding_act_fn)
      : undefined,
    timestepPostAct: c.timestep_post_act ? activation('timestep_post_act', c.timestep_post_act) : undefined,
    addTimeEmbedDim: c.addition_time_embed_dim as number,
    addInputDim: c.projection_class_embeddings_input_dim as number,
    groups,
    eps: c.norm_eps,
    useLinearProjection: c.use_linear_projection,
    crossAttentionDim: crossDim,
    skipChannels,
    down,
    mid,
    up,
  };
}
