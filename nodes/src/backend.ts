import type { Tensor } from './tensor.ts';
import type {
  AttentionMode,
  ClipHandle,
  Conditioning,
  Device,
  Images,
  Latent,
  OffloadPolicy,
  Precision,
  TaesdHandle,
  UnetHandle,
  VaeHandle,
} from './values.ts';

// What kernels may ask of the runtime. Implemented in apps/runtime (ONNX); kernels never see onnxruntime.

export type SchedulerName = 'euler' | 'euler_ancestral' | 'dpmpp_2m_karras' | 'ddim';
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
  encodePrompt(clip: ClipHandle, prompt: string, negative: string | null, signal: AbortSignal): Promise<Conditioning>;
  /** Embedding cache on disk, keyed by prompt + text-encoder weights; a hit never loads the text encoders. */
  cachedEncodePrompt(
    clip: ClipHandle,
    prompt: string,
    negative: string | null,
    signal: AbortSignal,
  ): Promise<{ conditioning: Conditioning; hit: boolean }>;
  /** Initial noise identical to torch.randn(shape, generator=torch.Generator('cpu').manual_seed(seed)). */
  randn(dims: readonly number[], seed: number): Tensor;
  denoise(req: DenoiseRequest): Promise<Latent>;
  vaeDecode(req: VaeDecodeRequest): Promise<Images>;
  tinyVaeDecode(taesd: TaesdHandle, latent: Latent, signal: AbortSignal): Promise<Images>;
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
