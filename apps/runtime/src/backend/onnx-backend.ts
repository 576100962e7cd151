import type { DenoiseRequest, SdxlBackend, VaeDecodeRequest, VaeEncodeRequest } from '@sdflow/nodes/backend.ts';
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type {
  AttentionMode,
  Conditioning,
  Device,
  Images,
  Latent,
  ModelHandle,
  ModelInfo,
  OffloadPolicy,
  Precision,
  TaesdHandle,
  UnetHandle,
  VaeHandle,
} from '@sdflow/nodes/values.ts';
import { buildSchedulerStep } from '../onnx/builders/scheduler-step.ts';
import { cudaGraphsOn } from '../onnx/cuda-graphs-switch.ts';
import { deviceTensors } from '../onnx/device-tensors.ts';
import { envSwitch } from '../onnx/env-switch.ts';
import { memoryProbe } from '../onnx/memory-probe.ts';
import { createNativeSession, type NativeSession, shrinkSharedArena } from '../onnx/native-session.ts';
import type { Session } from '../onnx/session.ts';
import { hasSharedArena } from '../onnx/shared-arena.ts';
import { streamWeights } from '../onnx/stream-weights.ts';
import { torchRandn } from '../sdxl/torch-rng.ts';
import { throwIfAborted } from './abort.ts';
import type { ComponentRunner } from './component-runner.ts';
import { denoise } from './denoise.ts';
import { type DenoiseLoop, hostLoop, type LoopStart } from './denoise-loop.ts';
import { deviceLoop, unetRows } from './device-loop.ts';
import { EmbeddingCache, embeddingCacheKey } from './embedding-cache.ts';
import { DEFAULT_ENCODE, encodePrompt } from './encode-prompt.ts';
import { exactTiledDecode } from './exact-tiled-decode.ts';
import { batchSlice, decodedToImages, decodedToImagesInPlace, unscaleLatents } from './image-convert.ts';
import { InputImages } from './input-images.ts';
import { ModelResolver } from './model-resolver.ts';
import type { ComponentSource, ModelSource, TaesdSource } from './model-source.ts';
import { ModelStore, type ModelStoreStats } from './model-store.ts';
import { noiseAhead, noiseInline } from './noise-ahead.ts';
import { OutputFiles } from './output-files.ts';
import { withRelativePaths } from './relative-paths.ts';
import { planTiledDecoder, type TiledDecoderPlan } from './tiled-vae-graphs.ts';
import { type UnetGraphs, unetGraphs } from './unet-graphs.ts';
import { decodeLatents } from './vae-decode.ts';
import { EncoderOverflow, encodeImages } from './vae-encode.ts';

// SdxlBackend on ONNX Runtime: lazy sessions in a ModelStore, prompts cached on disk, files in the output folder.

export interface OnnxBackendOptions {
  /** diffusers SDXL folders (and TAESD folders), by folder name */
  readonly modelsDir: string;
  /** saved images and latents */
  readonly outputDir: string;
  /** embedding cache (survives restarts) */
  readonly cacheDir: string;
  /** where Load Image reads (absent: Load Image fails, naming the missing folder option) */
  readonly inputDir?: string;
  /** what device "auto" means (default cpu) */
  readonly device?: Device;
  /** ORT intra-op threads (ORT's default when absent) */
  readonly threads?: number;
  /** Where the denoising loop's state lives (backend/device-loop.ts): 'cuda' (default) keeps it on the device for
   *  CUDA runs, 'always' also on the CPU (the same C-API sessions and step graph, for tests), 'off' on the host
   *  (as SDFLOW_DEVICE_LOOP=0, which overrides this) */
  readonly deviceLoop?: DeviceLoopMode;
  /** An ancestral sampler draws its per-step noise on a thread of its own (noise-ahead.ts) from this many values a
   *  step (default 65536: a 1024x1024 image's latent); smaller draws stay on the backend's thread */
  readonly noiseThreadMin?: number;
}

export type DeviceLoopMode = 'cuda' | 'always' | 'off';

export interface OnnxBackend extends SdxlBackend {
  /** sessions, counters and offload; tests read store.stats() */
  readonly store: ModelStore;
  /** store.stats(), as a method the engine can call across the worker boundary (`sdflow bench` reads timings) */
  storeStats(): ModelStoreStats;
  /** releases every session */
  dispose(): Promise<void>;
}

const NO_OFFLOAD: OffloadPolicy = { mode: 'none', budgetMiB: 0 };

export function createOnnxBackend(opts: OnnxBackendOptions): OnnxBackend {
  const resolver = new ModelResolver(opts.modelsDir);
  const store = new ModelStore({ threads: opts.threads });
  const cache = new EmbeddingCache(opts.cacheDir);
  const files = new OutputFiles(opts.outputDir);
  const inputs = new InputImages(opts.inputDir);
  const tilePlans = new Map<string, TiledDecoderPlan | null>();

  const loopMode: DeviceLoopMode = deviceLoopOn() ? (opts.deviceLoop ?? 'cuda') : 'off';
  const device = (d: Device | 'auto'): Device => (d === 'auto' ? (opts.device ?? 'cpu') : d);
  const precision = (p: Precision | 'auto', d: Device): Precision =>
    p === 'auto' ? (d === 'cpu' ? 'fp32' : 'fp16') : p;

  /** Runs `fn` with a component's session under the handle's device, precision, attention and offload policy. */
  function useSession<T>(
    scope: string,
    h: ModelHandle<'clip' | 'unet' | 'vae' | 'taesd'>,
    c: ComponentSource,
    fn: (s: Session) => Promise<T>,
  ): Promise<T> {
    // sequential offload: the weights stay in host memory and stream to the device on every run
    const streamed = h.offload.mode === 'sequential';
    const swapped = swapsWeights(h);
    // the resident UNet on CUDA (on the CPU too under deviceLoop 'always'): a session through the C API, which
    // takes device tensors (the denoising loop's state stays on the device)
    const native = c.name === 'unet' && residentNative(h, loopMode);
    const cudaGraphs = c.name === 'unet' && graphedUnet(h);
    const kind = streamed ? '|streamed' : swapped ? '|swapped' : native ? '|native' : '';
    return store.use(
      {
        key: `${scope}|${c.name}|${h.precision}|${h.device}${attentionKey(h)}${kind}`,
        component: c.name,
        device: h.device,
        swapWeights: swapped,
        native,
        cudaGraphs,
        build: () => {
          const built = c.build({ precision: h.precision, target: h.device, attention: graphAttention(h) });
          if (swapped) return streamWeights(built, h.device, { copies: false });
          return streamed ? streamWeights(built, h.device) : built;
        },
      },
      h.offload,
      fn,
    );
  }

  /** Whether the handle's UNet runs as CUDA graphs: its session is made for them and its loop keeps their tensors. */
  function graphedUnet(h: ModelHandle<'clip' | 'unet' | 'vae' | 'taesd'>): boolean {
    return h.device === 'cuda' && residentNative(h, loopMode) && cudaGraphsOn();
  }

  function runner(scope: string, h: ModelHandle<'clip' | 'unet' | 'vae' | 'taesd'>): ComponentRunner {
    return (c, feeds) => useSession(scope, h, c, (s) => s.run(feeds));
  }

  /** The loop on the UNet's device where its session takes device tensors (device-loop.ts), else on the host. */
  async function startLoop(model: ModelSource, h: UnetHandle, start: LoopStart): Promise<DenoiseLoop> {
    const use = <T>(fn: (s: Session) => Promise<T>) => useSession(model.info.id, h, model.unet, fn);
    if (!nativeSessions(h, loopMode) || loopMode === 'off' || start.blends) {
      return hostLoop(start, async (inputs) =>
        need(await use((s) => s.run(inputs as unknown as Record<string, Tensor>)), 'out_sample', 'unet'),
      );
    }
    const graphed = graphedUnet(h);
    if (graphed) graphs ??= unetGraphs(deviceTensors({ device: 'cuda', label: 'unet' }));
    const key = `${model.info.id}|${h.precision}${attentionKey(h)}`;
    const graphLoop = graphed ? graphs?.loop(key, unetRows(start), start.cond) : undefined;
    try {
      return deviceLoop(start, {
        step: await stepSession(h.device, start.cond.cfg),
        tensors: deviceTensors({ device: h.device === 'cuda' ? 'cuda' : 'cpu', label: 'unet' }),
        graphs: graphLoop,
        withUnet: (fn) =>
          use(async (s) => {
            if (!isNative(s)) throw new Error('unet: its session does not take device tensors');
            fn(s);
          }),
      });
    } catch (e) {
      graphLoop?.done();
      throw e;
    }
  }

  /** The VAE's decode of `z` (decoder space) under the handle's precision, with slicing and tiling as asked. */
  function vaeDecodeWith(model: ModelSource, h: VaeHandle, z: Tensor, req: VaeDecodeRequest): Promise<Tensor> {
    const run = runner(model.info.id, h);
    const plan = tilePlan(model, h.device);
    const opts = { ...req, scaleFactor: model.info.vaeScaleFactor };
    return decodeLatents(
      z,
      async (part) => need(await run(model.vaeDecoder, { latent_sample: part }), 'sample', 'vae_decoder'),
      opts,
      plan
        ? (chunk) =>
            exactTiledDecode(
              chunk,
              plan,
              (name, build, feeds) =>
                store.use(
                  {
                    key: `${model.info.id}|vae_decoder.tiled.${name}|${h.device}`,
                    component: `vae_decoder.tiled.${name}`,
                    device: h.device,
                    build,
                  },
                  h.offload,
                  async (s) => need(await s.run(feeds), 'y', `vae_decoder.tiled.${name}`),
                ),
              opts,
            )
        : undefined,
    );
  }

  /** the resident CUDA UNet's graph tensors, made with the first such loop */
  let graphs: UnetGraphs | undefined;

  const stepSessions = new Map<string, Promise<NativeSession>>();
  function stepSession(d: 'cpu' | 'cuda' | 'webgpu', guided: boolean): Promise<NativeSession> {
    if (d === 'webgpu') throw new Error('the scheduler step graph runs on the CPU or CUDA');
    const key = `${d}|${guided}`;
    let s = stepSessions.get(key);
    if (!s) {
      const built = buildSchedulerStep({ guided, target: d });
      // an arena of its own: its small temporaries stay out of the regions the UNet's activations reuse
      s = createNativeSession(built, { device: d, label: 'scheduler_step' });
      stepSessions.set(key, s);
      s.catch(() => stepSessions.delete(key));
    }
    return s;
  }

  function handle<K extends 'clip' | 'unet' | 'vae' | 'taesd'>(
    kind: K,
    model: ModelInfo,
    p: Precision,
    d: Device,
    offload: OffloadPolicy,
    weightsKey: string,
  ): ModelHandle<K> {
    return { kind, model, precision: p, device: d, offload, weightsKey };
  }

  function taesdInfo(t: TaesdSource): ModelInfo {
    return {
      id: t.id,
      label: `${t.id} (tiny VAE)`,
      isTestModel: t.id === 'default',
      vaeScaleFactor: t.scaleFactor,
      latentChannels: t.latentChannels,
      vaeScalingFactor: t.scalingFactor,
      hasTinyVae: true,
    };
  }

  async function taesdDecode(h: TaesdHandle, latents: Tensor, signal: AbortSignal): Promise<Images> {
    const t = resolver.taesd(h.model.id);
    throwIfAborted(signal);
    // one image per call: the same pixels (nothing mixes across the batch) with a batch-th of the activations, whose
    // 64-channel full-size tensors would otherwise set the run's memory peak (BENCHMARKS.md, row 10)
    const z = unscaleLatents(latents, t.scalingFactor, 0);
    const batch = z.dims[0] ?? 1;
    const run = runner(`taesd:${t.id}`, h);
    const parts: Tensor[] = [];
    for (let i = 0; i < batch; i++) {
      throwIfAborted(signal);
      const out = await run(t.decoder, {
        latent_sample: batch === 1 ? z : batchSlice(z, i, i + 1),
      });
      parts.push(need(out, 'sample', 'taesd_decoder'));
    }
    return { images: decodedToImages(parts) };
  }

  function tilePlan(model: ModelSource, d: Device): TiledDecoderPlan | null {
    const key = `${model.info.id}|${d}`;
    if (!tilePlans.has(key)) {
      const t = model.vaeTiling;
      tilePlans.set(key, t ? planTiledDecoder(t.config, t.weights(), d, t.file) : null);
    }
    return tilePlans.get(key) ?? null;
  }

  const folders = [
    { dir: opts.modelsDir, label: 'models' },
    { dir: opts.outputDir, label: 'output' },
    { dir: opts.cacheDir, label: 'cache' },
    ...(opts.inputDir ? [{ dir: opts.inputDir, label: 'input' }] : []),
  ];
  return withRelativePaths<OnnxBackend>(folders, {
    store,
    storeStats: () => store.stats(),

    async loadModel(req) {
      const model = resolver.model(req.model);
      const d = device(req.device);
      const p = precision(req.precision, d);
      const offload = req.offload ?? NO_OFFLOAD;
      const info = model.info;
      // only the UNet's attention switches, as diffusers' pipe.unet.set_default_attn_processor() (the seed's row 2)
      const unet = handle('unet', info, p, d, offload, model.unet.weightsKey);
      return {
        clip: handle('clip', info, p, d, offload, model.clipWeightsKey),
        unet: req.attention === 'plain' ? { ...unet, attention: 'plain' } : unet,
        vae: handle('vae', info, p, d, offload, model.vaeDecoder.weightsKey),
        taesd: model.taesd
          ? handle('taesd', { ...taesdInfo(model.taesd), id: req.model }, p, d, offload, model.taesd.decoder.weightsKey)
          : null,
      };
    },

    async loadTinyVae(req) {
      const t = resolver.taesd(req.model);
      const d = device(req.device);
      return handle('taesd', taesdInfo(t), precision(req.precision, d), d, NO_OFFLOAD, t.decoder.weightsKey);
    },

    async encodePrompt(clip, prompt, negative, signal, options = DEFAULT_ENCODE) {
      const model = resolver.model(clip.model.id);
      return encodePrompt(model, runner(model.info.id, clip), prompt, negative, signal, options);
    },

    async cachedEncodePrompt(clip, prompt, negative, signal, options = DEFAULT_ENCODE) {
      const model = resolver.model(clip.model.id);
      const key = embeddingCacheKey(prompt, negative, model.clipWeightsKey, options);
      const hit = await cache.get(key);
      if (hit) return { conditioning: hit, hit: true };
      const conditioning: Conditioning = await encodePrompt(
        model,
        runner(model.info.id, clip),
        prompt,
        negative,
        signal,
        options,
      );
      await cache.put(key, conditioning);
      return { conditioning, hit: false };
    },

    randn(dims: readonly number[], seed: number): Tensor {
      return { dims: [...dims], data: torchRandn(dims, seed) };
    },

    async denoise(req: DenoiseRequest): Promise<Latent> {
      const model = resolver.model(req.unet.model.id);
      const taesd = req.preview.method === 'taesd' ? req.preview.taesd : undefined;
      memoryProbe('before denoise');
      return denoise(req, {
        schedulerConfig: model.schedulerConfig,
        vaeScaleFactor: model.info.vaeScaleFactor,
        startLoop: (start) => startLoop(model, req.unet, start),
        // under model offload the tiny preview decoder stays beside the UNet instead of evicting it every preview
        taesdPreview: taesd ? (x0) => taesdDecode(previewHandle(taesd), firstImage(x0), req.signal) : undefined,
        noise: (generator, n, count) =>
          n >= (opts.noiseThreadMin ?? 65536) ? noiseAhead(generator, n, count) : noiseInline(generator, n),
      });
    },

    async vaeDecode(req: VaeDecodeRequest): Promise<Images> {
      const model = resolver.model(req.vae.model.id);
      const z = unscaleLatents(req.latent.samples, model.info.vaeScalingFactor, model.vaeShiftFactor);
      memoryProbe('before vae decode');
      // the decoder's output buffer is this call's alone
      const decoded = await vaeDecodeWith(model, req.vae, z, req);
      memoryProbe('after vae decode');
      const images = decodedToImagesInPlace(decoded);
      if (images) return { images };
      // an fp16 decoder overflowed (its VAE's config does not ask for fp32, as SDXL's force_upcast does): the whole
      // batch again in fp32
      const again =
        req.vae.precision === 'fp16'
          ? await vaeDecodeWith(model, { ...req.vae, precision: 'fp32' }, z, req)
          : undefined;
      const upcast = again && decodedToImagesInPlace(again);
      if (upcast) return { images: upcast };
      throw new Error(
        `vae_decoder: the decoded images hold NaN or infinite values${again ? ' in fp16 and in fp32' : ''} (latents out of range?)`,
      );
    },

    tinyVaeDecode: (taesd, latent, signal) => {
      // the UNet's freed activations leave the shared arena first: the tiny decoder's full-size tensors then get
      // regions of their own instead of growing it around them (row 10: 8.73 against 9.09 GiB). Not before the
      // VAE: its fp32 decode grew a fresh arena further (row 3: 22.49 against 22.10 GiB). SDFLOW_SHRINK_BEFORE_TAESD=0
      // keeps them, for comparisons
      const shrink = envSwitch('SDFLOW_SHRINK_BEFORE_TAESD', ['0', '1']) !== '0';
      if (shrink && taesd.device === 'cuda' && hasSharedArena('cuda')) shrinkSharedArena('cuda');
      return taesdDecode(taesd, latent.samples, signal);
    },

    async vaeEncode(req: VaeEncodeRequest): Promise<Latent> {
      const model = resolver.model(req.vae.model.id);
      const encodeWith = (h: VaeHandle) => {
        const run = runner(model.info.id, h);
        const encode = async (sample: Tensor) => {
          const out = await run(model.vaeEncoder, { sample });
          return { mean: need(out, 'mean', 'vae_encoder'), logvar: need(out, 'logvar', 'vae_encoder') };
        };
        const scaling = { scalingFactor: model.info.vaeScalingFactor, shiftFactor: model.vaeShiftFactor };
        return encodeImages(req.image.images, encode, { ...req, ...scaling });
      };
      try {
        return await encodeWith(req.vae);
      } catch (e) {
        // an fp16 encoder that overflowed (its config does not ask for fp32): the batch again in fp32, as decode does
        if (!(e instanceof EncoderOverflow) || req.vae.precision !== 'fp16') throw e;
        return encodeWith({ ...req.vae, precision: 'fp32' });
      }
    },
    loadImage: (req) => inputs.load(req),
    loadMask: (req) => inputs.loadMask(req),

    saveImage: (image, index, prefix, workflowJson) => files.saveImage(image, index, prefix, workflowJson),
    saveLatent: (latent, prefix) => files.saveLatent(latent, prefix),
    loadLatent: (name) => files.loadLatent(name),

    async dispose() {
      for (const s of stepSessions.values()) await (await s).release();
      stepSessions.clear();
      await store.releaseAll();
      graphs?.release();
      graphs = undefined;
    },
  });
}

function need(out: Record<string, Tensor>, name: string, component: string): Tensor {
  const t = out[name];
  if (!t) throw new Error(`${component}: session has no output '${name}'`);
  return t;
}

/** Builder attention for a handle: plain = MatMul + Softmax; fused (or absent) = the builders' default (MHA). */
function graphAttention(h: { readonly attention?: AttentionMode }): 'matmul' | undefined {
  return h.attention === 'plain' ? 'matmul' : undefined;
}

/** Session-key suffix: empty for fused, so existing keys (and their sessions) stay as they were. */
function attentionKey(h: { readonly attention?: AttentionMode }): string {
  return h.attention === 'plain' ? '|plain' : '';
}

function previewHandle(h: TaesdHandle): TaesdHandle {
  return h.offload.mode === 'model' ? { ...h, offload: { ...h.offload, mode: 'none' } } : h;
}

function firstImage(t: Tensor): Tensor {
  const per = t.data.length / t.dims[0]!;
  return { dims: [1, ...t.dims.slice(1)], data: t.data.subarray(0, per) };
}

/** Model offload on CUDA: sessions stay, their weights move (as inputs) between host and device. */
function swapsWeights(h: ModelHandle<'clip' | 'unet' | 'vae' | 'taesd'>): boolean {
  return h.offload.mode === 'model' && h.device === 'cuda' && modelOffloadSwaps();
}

/** Everything resident: the UNet's session through the C API on CUDA (on the CPU too under 'always'). */
function residentNative(h: ModelHandle<'clip' | 'unet' | 'vae' | 'taesd'>, mode: DeviceLoopMode): boolean {
  if (h.offload.mode !== 'none' || mode === 'off') return false;
  return h.device === 'cuda' || (mode === 'always' && h.device === 'cpu');
}

/** Whether the handle's UNet session is made through the C API (native-session.ts) and takes device tensors. */
function nativeSessions(h: ModelHandle<'clip' | 'unet' | 'vae' | 'taesd'>, mode: DeviceLoopMode): boolean {
  return swapsWeights(h) || residentNative(h, mode);
}

function isNative(s: Session): s is NativeSession {
  return 'runInto' in s;
}

/** SDFLOW_DEVICE_LOOP=0 keeps the denoising loop's state on the host everywhere (for comparisons). */
function deviceLoopOn(): boolean {
  return envSwitch('SDFLOW_DEVICE_LOOP', ['1', '0']) !== '0';
}

/** SDFLOW_MODEL_OFFLOAD=recreate (GPU comparisons): model offload re-creates each session instead of moving weights. */
function modelOffloadSwaps(): boolean {
  return envSwitch('SDFLOW_MODEL_OFFLOAD', ['swap', 'recreate']) !== 'recreate';
}
