import type { ModelInfo } from '@sdflow/nodes/values.ts';
import type { WeightSource } from '../models/weight-source.ts';
import type { BuiltModel } from '../onnx/built-model.ts';
import type { Precision, Target } from '../onnx/graph-builder.ts';
import type { OnnxPath } from '../onnx/session.ts';
import type { SchedulerConfig } from '../sdxl/schedulers/scheduler-config.ts';
import type { ClipTokenizer } from '../sdxl/tokenizer.ts';

// What the backend needs of a model, whether a diffusers folder or the built-in default model.

export type ComponentName =
  | 'text_encoder'
  | 'text_encoder_2'
  | 'unet'
  | 'vae_decoder'
  | 'vae_encoder'
  | 'taesd_decoder';

export interface BuildRequest {
  readonly precision: Precision;
  readonly target: Target;
  /** Attention graphs (builders default to 'mha'); only the UNet's request sets it. Exports on disk ignore it. */
  readonly attention?: 'mha' | 'matmul';
}

/** One buildable component: a graph from weights, or an ONNX export already on disk. */
export interface ComponentSource {
  readonly name: ComponentName;
  /** Stable identity of the weights (cache keys). */
  readonly weightsKey: string;
  build(req: BuildRequest): BuiltModel | OnnxPath;
}

export interface TaesdSource {
  readonly id: string;
  readonly decoder: ComponentSource;
  readonly scalingFactor: number;
  readonly shiftFactor: number;
  readonly scaleFactor: number;
  readonly latentChannels: number;
}

export interface ModelSource {
  readonly info: ModelInfo;
  readonly forceZerosForEmptyPrompt: boolean;
  readonly schedulerConfig: SchedulerConfig;
  /** VAE shift_factor (null for SDXL). */
  readonly vaeShiftFactor: number;
  tokenizers(): { tokenizer: ClipTokenizer; tokenizer2: ClipTokenizer };
  /** Identity of both text encoders + tokenizers (the embedding cache key). */
  readonly clipWeightsKey: string;
  readonly textEncoder: ComponentSource;
  readonly textEncoder2: ComponentSource;
  readonly unet: ComponentSource;
  readonly vaeDecoder: ComponentSource;
  /** The VAE's encoder (VAE Encode): latent_dist's mean and clamped logvar. */
  readonly vaeEncoder: ComponentSource;
  readonly taesd: TaesdSource | null;
  /** The VAE's config + weights for exact tiled decoding (null when the VAE is only an ONNX export). */
  readonly vaeTiling: { readonly config: unknown; readonly file: string; weights(): WeightSource } | null;
}
