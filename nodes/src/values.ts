import type { Tensor } from './tensor.ts';

// The plain-data values that travel along each port type.

export type Precision = 'fp32' | 'fp16';
export type Device = 'cpu' | 'cuda' | 'webgpu';
export type OffloadMode = 'none' | 'model' | 'sequential';
/** fused = com.microsoft MultiHeadAttention; plain = MatMul + Softmax (diffusers' default attention processor). */
export type AttentionMode = 'fused' | 'plain';

export interface OffloadPolicy {
  readonly mode: OffloadMode;
  /** Optional GPU memory budget in MiB; 0 = no budget. */
  readonly budgetMiB: number;
}

/** Facts about a loaded model that nodes need without touching weights. */
export interface ModelInfo {
  readonly id: string; // models-directory name, or "default"
  readonly label: string;
  readonly isTestModel: boolean; // random weights: images are noise
  readonly vaeScaleFactor: number; // 2 ** (len(vae.block_out_channels) - 1)
  readonly latentChannels: number;
  readonly vaeScalingFactor: number; // vae.config.scaling_factor
  readonly hasTinyVae: boolean;
}

/** Lazy handle to one component of a model; sessions are created by the runtime's model store on use. */
export interface ModelHandle<K extends 'clip' | 'unet' | 'vae' | 'taesd'> {
  readonly kind: K;
  readonly model: ModelInfo;
  readonly precision: Precision;
  readonly device: Device;
  readonly offload: OffloadPolicy;
  /** Attention graphs this component is built with; absent = 'fused'. Sessions are keyed by it. */
  readonly attention?: AttentionMode;
  /** Stable identity of the weights behind this handle (used in cache keys). */
  readonly weightsKey: string;
}
export type ClipHandle = ModelHandle<'clip'>;
export type UnetHandle = ModelHandle<'unet'>;
export type VaeHandle = ModelHandle<'vae'>;
export type TaesdHandle = ModelHandle<'taesd'>;

/** SDXL conditioning for classifier-free guidance, batch 1 per prompt (diffusers' encode_prompt outputs). */
export interface Conditioning {
  readonly promptEmbeds: Tensor; // [1, 77, D1 + D2]
  readonly pooledPromptEmbeds: Tensor; // [1, P]
  readonly negativePromptEmbeds: Tensor; // zeros when the negative prompt is absent
  readonly negativePooledPromptEmbeds: Tensor;
}

/** Latents in UNet space [B, C, h, w]; `noise` marks pure initial noise from Empty Latent. */
export interface Latent {
  readonly samples: Tensor;
  readonly kind: 'noise' | 'image';
  /**
   * Normals already drawn from torch.Generator(seed) to make these latents (VAE Encode's `sample`): UNet Denoise
   * with the same seed draws its noise after them, as diffusers' img2img pipeline uses one generator for both.
   */
  readonly drawn?: { readonly seed: number; readonly count: number };
  /**
   * Inpainting with an ordinary model (Set Latent Mask): 1 where to repaint, 0 where the image stays, [B, 1, h, w]
   * at the latent's size, binary. UNet Denoise blends the noised image latents (these samples) back in after each step.
   */
  readonly mask?: Tensor;
}

/** Masks [B, H, W] in [0, 1] at image size: 1 = repaint (diffusers' mask_image white). */
export interface Mask {
  readonly mask: Tensor;
}

/** Images NHWC float in [0, 1]. */
export interface Images {
  readonly images: Tensor; // [B, H, W, 3]
}

export interface PortValues {
  UNET: UnetHandle;
  CLIP: ClipHandle;
  VAE: VaeHandle;
  TAESD: TaesdHandle;
  OFFLOAD: OffloadPolicy;
  CONDITIONING: Conditioning;
  LATENT: Latent;
  IMAGE: Images;
  MASK: Mask;
}
