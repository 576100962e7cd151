import { seededRandom } from './seeded-random.ts';

// A compact description of an SDXL-family pipeline (shapes only) and the diffusers config.json files it implies.

export interface TextEncoderSpec {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  act: 'quick_gelu' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh';
  /** 2 = transformers' legacy argmax pooling (SDXL base's text_encoder); 49407 = pool at the first EOS */
  eosTokenId: 2 | 49407;
}

export interface SdxlFamilySpec {
  te1: TextEncoderSpec;
  te2: TextEncoderSpec & { projection: number };
  unet: {
    channels: number[];
    /** per level: CrossAttn(Down|Up)Block2D, else (Down|Up)Block2D */
    crossAttn: boolean[];
    /** heads per level (diffusers spells it attention_head_dim); one number for every level */
    heads: number | number[];
    layersPerBlock: number | number[];
    /** per level: one depth, or one per layer (diffusers' asymmetric UNets, with reverseTransformerDepth) */
    transformerDepth: number | (number | number[])[];
    /** up blocks' depths (top level first), one per layer of each up block; null = transformerDepth reversed */
    reverseTransformerDepth?: (number | number[])[] | null;
    groups: number;
    addTimeEmbedDim: number;
    linearProjection: boolean;
  };
  vae: {
    channels: number[];
    layersPerBlock: number;
    groups: number;
    latentChannels: number;
    scalingFactor: number;
    midAttention: boolean;
    /** quant_conv and post_quant_conv (default true) */
    quantConv?: boolean;
  };
  /** AutoencoderTiny in vae_tiny/ (its decoder must have as many levels as the VAE) */
  taesd: {
    channels: number;
    decoderBlocks: number[];
    encoderBlocks: number[];
    act: 'relu' | 'silu';
    upsample?: 'nearest' | 'bilinear';
  } | null;
  scheduler: { predictionType: 'epsilon' | 'v_prediction'; timestepSpacing: 'leading' | 'trailing' | 'linspace' };
  /** tokens per prompt: both tokenizers' model_max_length and both encoders' max_position_embeddings (default 77) */
  seqLength?: number;
}

type Json = Record<string, unknown>;

/** The config files of a diffusers folder, by component (vae_tiny absent without a TAESD). */
export interface FolderConfigs {
  model_index: Json;
  text_encoder: Json;
  text_encoder_2: Json;
  tokenizer: Json;
  tokenizer_2: Json;
  unet: Json;
  vae: Json;
  vae_tiny?: Json;
  scheduler: Json;
}

const VOCAB_SIZE = 49408;

function textEncoder(t: TextEncoderSpec, seq: number, arch: string, projection?: number): Json {
  return {
    architectures: [arch],
    bos_token_id: 0,
    eos_token_id: t.eosTokenId,
    hidden_act: t.act,
    hidden_size: t.hidden,
    intermediate_size: t.intermediate,
    layer_norm_eps: 1e-5,
    max_position_embeddings: seq,
    model_type: 'clip_text_model',
    num_attention_heads: t.heads,
    num_hidden_layers: t.layers,
    pad_token_id: 1,
    projection_dim: projection ?? t.hidden,
    vocab_size: VOCAB_SIZE,
  };
}

const tokenizerConfig = (pad: string, seq: number): Json => ({
  bos_token: '<|startoftext|>',
  eos_token: '<|endoftext|>',
  model_max_length: seq,
  pad_token: pad,
  tokenizer_class: 'CLIPTokenizer',
  unk_token: '<|endoftext|>',
});

export function sdxlFamilyConfigs(s: SdxlFamilySpec): FolderConfigs {
  const u = s.unet;
  const n = u.channels.length;
  const down = u.crossAttn.map((x) => (x ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const up = [...u.crossAttn].reverse().map((x) => (x ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
  if (down.length !== n) throw new Error(`spec: crossAttn has ${down.length} levels, channels ${n}`);
  const vaeLevels = s.vae.channels.length;
  const seq = s.seqLength ?? 77;
  const configs: FolderConfigs = {
    model_index: {
      _class_name: 'StableDiffusionXLPipeline',
      force_zeros_for_empty_prompt: true,
      scheduler: ['diffusers', 'EulerDiscreteScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
    },
    text_encoder: textEncoder(s.te1, seq, 'CLIPTextModel'),
    text_encoder_2: textEncoder(s.te2, seq, 'CLIPTextModelWithProjection', s.te2.projection),
    tokenizer: tokenizerConfig('<|endoftext|>', seq),
    tokenizer_2: tokenizerConfig('!', seq),
    unet: {
      _class_name: 'UNet2DConditionModel',
      act_fn: 'silu',
      addition_embed_type: 'text_time',
      addition_time_embed_dim: u.addTimeEmbedDim,
      attention_head_dim: u.heads,
      block_out_channels: u.channels,
      center_input_sample: false,
      cross_attention_dim: s.te1.hidden + s.te2.hidden,
      down_block_types: down,
      downsample_padding: 1,
      flip_sin_to_cos: true,
      freq_shift: 0,
      in_channels: s.vae.latentChannels,
      layers_per_block: u.layersPerBlock,
      mid_block_type: 'UNetMidBlock2DCrossAttn',
      norm_eps: 1e-5,
      norm_num_groups: u.groups,
      num_attention_heads: null,
      out_channels: s.vae.latentChannels,
      projection_class_embeddings_input_dim: s.te2.projection + 6 * u.addTimeEmbedDim,
      sample_size: 16,
      transformer_layers_per_block: u.transformerDepth,
      reverse_transformer_layers_per_block: u.reverseTransformerDepth ?? null,
      up_block_types: up,
      use_linear_projection: u.linearProjection,
    },
    vae: {
      _class_name: 'AutoencoderKL',
      act_fn: 'silu',
      block_out_channels: s.vae.channels,
      down_block_types: s.vae.channels.map(() => 'DownEncoderBlock2D'),
      force_upcast: true,
      in_channels: 3,
      latent_channels: s.vae.latentChannels,
      layers_per_block: s.vae.layersPerBlock,
      mid_block_add_attention: s.vae.midAttention,
      norm_num_groups: s.vae.groups,
      out_channels: 3,
      sample_size: 64,
      scaling_factor: s.vae.scalingFactor,
      up_block_types: s.vae.channels.map(() => 'UpDecoderBlock2D'),
      use_post_quant_conv: s.vae.quantConv ?? true,
      use_quant_conv: s.vae.quantConv ?? true,
    },
    scheduler: {
      _class_name: 'EulerDiscreteScheduler',
      beta_end: 0.012,
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      interpolation_type: 'linear',
      num_train_timesteps: 1000,
      prediction_type: s.scheduler.predictionType,
      steps_offset: 1,
      timestep_spacing: s.scheduler.timestepSpacing,
      use_karras_sigmas: false,
    },
  };
  if (s.taesd) {
    const t = s.taesd;
    if (t.decoderBlocks.length !== vaeLevels)
      throw new Error(`spec: TAESD decoder has ${t.decoderBlocks.length} levels, the VAE ${vaeLevels}`);
    configs.vae_tiny = {
      _class_name: 'AutoencoderTiny',
      act_fn: t.act,
      decoder_block_out_channels: t.decoderBlocks.map(() => t.channels),
      encoder_block_out_channels: t.encoderBlocks.map(() => t.channels),
      in_channels: 3,
      latent_channels: s.vae.latentChannels,
      latent_magnitude: 3,
      latent_shift: 0.5,
      num_decoder_blocks: t.decoderBlocks,
      num_encoder_blocks: t.encoderBlocks,
      out_channels: 3,
      scaling_factor: 1.0,
      upsample_fn: t.upsample ?? 'nearest',
      upsampling_scaling_factor: 2,
    };
  }
  return configs;
}

/** A random, valid SDXL-family spec; the same seed always gives the same spec. */
export function randomSdxlFamilySpec(seed: number): SdxlFamilySpec {
  const r = seededRandom(seed);
  const te = (): TextEncoderSpec => {
    const heads = r.int(1, 4);
    const hidden = heads * r.pick([4, 8, 12]);
    return {
      hidden,
      heads,
      layers: r.int(2, 3),
      intermediate: hidden * r.int(1, 4),
      act: r.pick(['quick_gelu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh'] as const),
      eosTokenId: r.pick([2, 49407] as const),
    };
  };
  const levels = r.int(2, 4);
  const groups = r.pick([2, 4, 8]);
  const channels = Array.from({ length: levels }, () => groups * r.int(2, 6));
  const perLevel = <T>(one: () => T): T | T[] => (r.bool() ? one() : Array.from({ length: levels }, one));
  const crossAttn = channels.map((_, i) => (i === 0 ? r.bool(0.3) : r.bool(0.85)));
  // heads need not divide the channels: diffusers then attends over heads * (channels // heads)
  const heads = perLevel(() => r.pick([1, 2, 3, 4]));
  const layersPerBlock = perLevel(() => r.pick([1, 1, 2, 2, 3]));
  const layersAt = (i: number) => (Array.isArray(layersPerBlock) ? (layersPerBlock[i] as number) : layersPerBlock);
  const asymmetric = r.bool(0.25);
  const depthList = (count: number) => Array.from({ length: count }, () => r.int(1, 3));
  const vaeLevels = r.int(2, 4);
  const vaeGroups = r.pick([2, 4, 8]);
  const latentChannels = r.pick([4, 4, 4, 3, 6]);
  const withTaesd = r.bool(0.7);
  return {
    te1: te(),
    te2: { ...te(), projection: r.int(4, 40) },
    unet: {
      channels,
      crossAttn,
      heads,
      layersPerBlock,
      transformerDepth: asymmetric ? channels.map((_, i) => depthList(layersAt(i))) : perLevel(() => r.int(1, 3)),
      reverseTransformerDepth: asymmetric ? channels.map((_, i) => depthList(layersAt(levels - 1 - i) + 1)) : null,
      groups,
      addTimeEmbedDim: r.pick([4, 6, 8, 16]),
      linearProjection: r.bool(),
    },
    vae: {
      channels: Array.from({ length: vaeLevels }, () => vaeGroups * r.int(1, 4)),
      layersPerBlock: r.pick([1, 1, 2, 3]),
      groups: vaeGroups,
      latentChannels,
      scalingFactor: Math.round((0.1 + r.next()) * 1e4) / 1e4,
      midAttention: r.bool(0.8),
      quantConv: r.bool(0.8),
    },
    taesd: withTaesd
      ? {
          channels: r.pick([4, 8, 12]),
          decoderBlocks: Array.from({ length: vaeLevels }, () => r.int(0, 2)),
          encoderBlocks: Array.from({ length: vaeLevels }, () => r.int(0, 2)),
          act: r.pick(['relu', 'silu'] as const),
          upsample: r.pick(['nearest', 'nearest', 'bilinear'] as const),
        }
      : null,
    scheduler: {
      predictionType: r.pick(['epsilon', 'v_prediction'] as const),
      timestepSpacing: r.pick(['leading', 'trailing', 'linspace'] as const),
    },
    seqLength: r.pick([77, 77, 77, 32]),
  };
}
