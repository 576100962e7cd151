import type { SchedulerName } from '@sdflow/nodes/backend.ts';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Conditioning, Latent, OffloadPolicy } from '@sdflow/nodes/values.ts';
import type { OnnxBackend } from '../onnx-backend.ts';

// The text-to-image pipeline as a workflow runs it (load, encode, empty latent, denoise, VAE decode, tiny VAE
// decode, save), through the backend API only.

export interface PipelineRequest {
  model: string;
  width: number;
  height: number;
  steps: number;
  cfg: number;
  scheduler: SchedulerName;
  seed: number;
  /** emptyLatent's batchSize (default 1) */
  batchSize?: number;
  prompt?: string;
  negative?: string | null;
  offload?: OffloadPolicy;
  /** VAE decode options */
  tiling?: { tileSize: number; tileOverlap: number };
  save?: boolean;
}

export interface PipelineResult {
  conditioning: Conditioning;
  noise: Tensor;
  latent: Latent;
  image: Tensor;
  tinyImage: Tensor | null;
  steps: number[];
  saved: string | null;
}

export async function runPipeline(backend: OnnxBackend, req: PipelineRequest): Promise<PipelineResult> {
  const signal = new AbortController().signal;
  const { clip, unet, vae, taesd } = await backend.loadModel({
    model: req.model,
    precision: 'fp32',
    device: 'cpu',
    offload: req.offload ?? { mode: 'none', budgetMiB: 0 },
  });
  const conditioning = await backend.encodePrompt(
    clip,
    req.prompt ?? 'a lighthouse at dusk',
    req.negative === undefined ? 'blurry' : req.negative,
    signal,
  );
  // emptyLatent's kernel: randn([B, C, H/f, W/f], seed)
  const f = vae.model.vaeScaleFactor;
  if (req.width % f !== 0 || req.height % f !== 0)
    throw new Error(`size ${req.width}x${req.height} not a multiple of ${f}`);
  const noise = backend.randn([req.batchSize ?? 1, vae.model.latentChannels, req.height / f, req.width / f], req.seed);
  const steps: number[] = [];
  const latent = await backend.denoise({
    unet,
    conditioning,
    latent: { samples: noise, kind: 'noise' },
    steps: req.steps,
    cfg: req.cfg,
    scheduler: req.scheduler,
    seed: req.seed,
    denoise: 1,
    preview: { method: 'none', every: 1 },
    onStep: (s) => steps.push(s.step),
    onPreview: () => undefined,
    signal,
  });
  const decoded = await backend.vaeDecode({
    vae,
    latent,
    slicing: false,
    tiling: req.tiling !== undefined,
    tileSize: req.tiling?.tileSize ?? 512,
    tileOverlap: req.tiling?.tileOverlap ?? 64,
    autoTiling: false,
    onProgress: () => undefined,
    signal,
  });
  const tinyImage = taesd ? (await backend.tinyVaeDecode(taesd, latent, signal)).images : null;
  const saved = req.save === false ? null : await backend.saveImage(decoded, 0, 'family', '{"version":1}');
  return { conditioning, noise, latent, image: decoded.images, tinyImage, steps, saved };
}
