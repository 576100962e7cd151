import type { SchedulerName } from './defs/sampling/scheduler-names.ts';
import type { Tensor } from './tensor.ts';
import type {
  AttentionMode,
  ClipHandle,
  Conditioning,
  Device,
  Images,
  Latent,
  Mask,
  OffloadPolicy,
  Precision,
  TaesdHandle,
  UnetHandle,
  VaeHandle,
} from './values.ts';

// What kernels may ask of the runtime. Implemented in apps/runtime (ONNX); kernels never see onnxruntime.

export type { SchedulerName };

/** How `(word:1.2)`-style weights are read and applied (apps/runtime/src/sdxl/prompt-weights.ts states the rules). */
export type PromptWeighting = 'none' | 'comfy' | 'a1111';
export interface EncodeOptions {
  /** diffusers' clip_skip: 0 = the penultimate layer (SDXL's default), k = k layers before it (positive prompt). */
  readonly clipSkip: number;
  readonly weighting: PromptWeighting;
}
export type PreviewMethod = 'none' | 'latent2rgb' | 'taesd';

export interface StepInfo {
  readonly step: number; // 1-based
  readonly total: number;
}

export interface DenoiseRequest {
  readonly unet: UnetHandle;
  readonly conditioning: Conditioning;
  readonly latent: Latent;
  readonly steps: number;
  readonly cfg: number;
  readonly scheduler: SchedulerName;
  readonly seed: number;
  readonly denoise: number; // 1 = text-to-image
  readonly preview: { readonly method: PreviewMethod; readonly every: number; readonly taesd?: TaesdHandle };
  readonly onStep: (info: StepInfo) => void;
  /** RGB preview of the current x0 estimate, NHWC in [0, 1], batch image 0. */
  readonly onPreview: (image: Images) => void;
  readonly signal: AbortSignal;
}

export interface VaeDecodeRequest {
  readonly vae: VaeHandle;
  readonly latent: Latent;
  readonly slicing: boolean;
  readonly tiling: boolean;
  readonly tileSize: number; // in pixels
  readonly tileOverlap: number; // in pixels
  readonly autoTiling: boolean; // fall back to tiling when memory runs out
  readonly onProgress: (done: number, total: number) => void;
  readonly signal: AbortSignal;
}

/** How Load Image fits a picture to width x height: none keeps its size; resize stretches; crop-center scales to
 *  cover and crops the middle; pad scales to fit inside and pads with black. */
export type ImageFit = 'none' | 'resize' | 'crop-center' | 'pad';

export interface LoadImageRequest {
  /** Path relative to the input folder (subfolders allowed, never outside it). */
  readonly file: string;
  readonly fit: ImageFit;
  readonly width: number;
  readonly height: number;
  /** An alpha channel is refused (an error naming the file) unless this is set; then it is dropped. */
  readonly allowAlpha: boolean;
  readonly signal: AbortSignal;
}

export interface LoadMaskRequest extends Omit<LoadImageRequest, 'allowAlpha'> {
  readonly channel: 'luminance' | 'alpha';
}

export interface VaeEncodeRequest {
  readonly vae: VaeHandle;
  readonly image: Images;
  /** diffusers' retrieve_latents: `sample` = latent_dist.sample(generator) (img2img's default), `mode` = its mean. */
  readonly sampling: 'sample' | 'mode';
  /** torch.Generator('cpu').manual_seed(seed) for `sample`. */
  readonly seed: number;
  /** One image per encoder call. */
  readonly slicing: boolean;
  readonly onProgress: (done: number, total: number) => void;
  readonly signal: AbortSignal;
}

export interface SdxlBackend {
  loadModel(req: {
    model: string;
    precision: Precision | 'auto';
    device: Device | 'auto';
    offload: OffloadPolicy;
    /** UNet attention; 'fused' when absent. */
    attention?: AttentionMode;
  }): Promise<{ clip: ClipHandle; unet: UnetHandle; vae: VaeHandle; taesd: TaesdHandle | null }>;
  loadTinyVae(req: { model: string; precision: Precision | 'auto'; device: Device | 'auto' }): Promise<TaesdHandle>;
  /** negative === null means "no negative prompt": zeroed embeddings (force_zeros_for_empty_prompt). */
  encodePrompt(
    clip: ClipHandle,
    prompt: string,
    negative: string | null,
    signal: AbortSignal,
    options?: EncodeOptions,
  ): Promise<Conditioning>;
  /** Embedding cache on disk, keyed by prompt + options + text-encoder weights; a hit never loads the text encoders. */
  cachedEncodePrompt(
    clip: ClipHandle,
    prompt: string,
    negative: string | null,
    signal: AbortSignal,
    options?: EncodeOptions,
  ): Promise<{ conditioning: Conditioning; hit: boolean }>;
  /** Initial noise identical to torch.randn(shape, generator=torch.Generator('cpu').manual_seed(seed)). */
  randn(dims: readonly number[], seed: number): Tensor;
  denoise(req: DenoiseRequest): Promise<Latent>;
  vaeDecode(req: VaeDecodeRequest): Promise<Images>;
  tinyVaeDecode(taesd: TaesdHandle, latent: Latent, signal: AbortSignal): Promise<Images>;
  /** Images to UNet-space latents (scaling_factor applied), as StableDiffusionXLImg2ImgPipeline's prepare_latents. */
  vaeEncode(req: VaeEncodeRequest): Promise<Latent>;
  /** A PNG, JPEG or WebP from the input folder as RGB in [0, 1] (batch 1). */
  loadImage(req: LoadImageRequest): Promise<Images>;
  /** A mask from the input folder, [1, H, W] in [0, 1]: the picture's luminance (diffusers' mask_image, white =
   *  repaint), or 1 - alpha (transparent = repaint, as ComfyUI's Load Image). */
  loadMask(req: LoadMaskRequest): Promise<Mask>;
  /** Writes a PNG (workflow embedded in its text metadata) to the output folder; returns its file name. */
  saveImage(image: Images, index: number, prefix: string, workflowJson: string): Promise<string>;
  saveLatent(latent: Latent, prefix: string): Promise<string>;
  loadLatent(name: string): Promise<Latent>;
}

/** Everything a kernel sees while it runs. */
export interface RunContext {
  readonly runId: string;
  readonly nodeId: string;
  readonly backend: SdxlBackend;
  readonly signal: AbortSignal;
  /** The workflow being run, as JSON, for embedding in outputs. */
  readonly workflowJson: string;
  progress(value: number, max: number): void;
  preview(image: Images): void;
  /** Files this node produced (names in the output folder), reported in nodeFinished and the gallery. */
  emitFiles(files: readonly string[]): void;
}
