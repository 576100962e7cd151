import type { OffloadPolicy } from '@sdflow/nodes/values.ts';
import type { BuiltModel } from '../onnx/built-model.ts';
import type { DeviceWeights } from '../onnx/device-weights.ts';
import { type HostPin, pinHostMemory } from '../onnx/host-pinning.ts';
import { memoryProbe } from '../onnx/memory-probe.ts';
import { createNativeSession } from '../onnx/native-session.ts';
import { createSession, type Device, type OnnxPath, type Session } from '../onnx/session.ts';
import { bumpArenaEpoch } from '../onnx/shared-arena.ts';
import type { ComponentTiming } from './component-timing.ts';
import type { PinningReport } from './pinning-report.ts';

// Sessions per model component, created lazily and reused across runs, under the handle's offload policy:
//   none:       everything stays resident (LRU-evicted only past budgetMiB, when one is set), on CUDA allocating
//               from one shared arena
//   model:      one component resident at a time (others released before the next is created); a spec with
//               swapWeights keeps its session and frees only its weights, copied back to the device for its next use
//   sequential: as model, and the spec builds a graph whose weights stay in host memory (streamed to the GPU layer
//               by layer on every run, onnx/stream-weights.ts), so a resident session holds activations, not weights
// Built graphs are kept in host memory under model/sequential offload (the counterpart of weights parked in CPU RAM);
// on CUDA their streamed weights are page-locked while kept, so each run's copies go by DMA.

export interface SessionSpec {
  /** unique per model + component + precision + device */
  readonly key: string;
  /** counter name: 'text_encoder', 'unet', 'unet.down_blocks.0', 'vae_decoder', ... */
  readonly component: string;
  readonly device: Device;
  /** The session stays when another component takes its turn, and only its weights (the graph inputs build() gives
   *  as hostWeights) leave the device (model offload on CUDA: no re-created session, no repeated cuDNN search). */
  readonly swapWeights?: boolean;
  /** The session is made through the C API (native-session.ts) and its runs take device tensors; swapWeights
   *  sessions always are. */
  readonly native?: boolean;
  /** A native CUDA session whose runs can be captured as CUDA graphs (backend/unet-graphs.ts). */
  readonly cudaGraphs?: boolean;
  build(): BuiltModel | OnnxPath;
}

export interface ModelStoreStats {
  /** sessions created so far, per component */
  readonly created: Readonly<Record<string, number>>;
  /** components with a live session now (and their weights on the device, for swapWeights specs) */
  readonly resident: readonly string[];
  /** most sessions alive at once since the last resetPeak() */
  readonly peakResident: number;
  /** per component: session creations and runs, with their wall times (a profile of where a run's time goes) */
  readonly timing: Readonly<Record<string, ComponentTiming>>;
  /** per live session: bytes of weights it feeds from host memory on every run (streamed weights) */
  readonly hostWeightBytes: Readonly<Record<string, number>>;
  /** per component whose streamed weights were kept for CUDA: page-locked bytes, or why they could not be */
  readonly pinning: Readonly<Record<string, PinningReport>>;
}

interface Entry {
  readonly spec: SessionSpec;
  readonly session: Promise<Session>;
  /** swapWeights specs: the weights the session feeds from the device */
  weights?: DeviceWeights;
  readonly bytes: number;
  readonly hostWeightBytes: number;
  users: number;
  lastUse: number;
}

export class ModelStore {
  private readonly live = new Map<string, Entry>();
  private readonly built = new Map<string, BuiltModel | OnnxPath>();
  private readonly timing = new Map<string, ComponentTiming>();
  private readonly pins = new Map<string, HostPin>();
  private readonly pinning = new Map<string, PinningReport>();
  private peak = 0;
  private clock = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: { threads?: number } = {}) {}

  /** Runs `fn` with the spec's session, creating it if needed and applying the policy before and after. */
  async use<T>(spec: SessionSpec, policy: OffloadPolicy, fn: (s: Session) => Promise<T>): Promise<T> {
    const entry = await this.serial(() => this.acquire(spec, policy));
    entry.users++;
    entry.lastUse = ++this.clock;
    const t = this.timingOf(spec.component);
    const start = performance.now();
    try {
      return await fn(await entry.session);
    } finally {
      t.runs++;
      t.runMs += performance.now() - start;
      entry.users--;
    }
  }

  stats(): ModelStoreStats {
    return {
      created: Object.fromEntries([...this.timing].flatMap(([k, t]) => (t.creates > 0 ? [[k, t.creates]] : []))),
      resident: this.residentEntries().map((e) => e.spec.component),
      peakResident: this.peak,
      timing: Object.fromEntries([...this.timing].map(([k, v]) => [k, { ...v }])),
      hostWeightBytes: Object.fromEntries([...this.live.values()].map((e) => [e.spec.component, e.hostWeightBytes])),
      pinning: Object.fromEntries(this.pinning),
    };
  }

  private timingOf(component: string): ComponentTiming {
    let t = this.timing.get(component);
    if (!t) {
      t = { creates: 0, createMs: 0, loads: 0, loadMs: 0, runs: 0, runMs: 0 };
      this.timing.set(component, t);
    }
    return t;
  }

  resetPeak(): void {
    this.peak = this.residentEntries().length;
  }

  private residentEntries(): Entry[] {
    return [...this.live.values()].filter((e) => !e.weights || e.weights.loaded);
  }

  /** Releases every session and forgets built graphs (their host memory unlocked first). */
  async releaseAll(): Promise<void> {
    await this.serial(async () => {
      for (const key of [...this.live.keys()]) await this.release(key);
      for (const pin of this.pins.values()) pin.release();
      this.pins.clear();
      this.built.clear();
    });
  }

  // Acquire/release run one at a time so policies see a consistent resident set.
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async acquire(spec: SessionSpec, policy: OffloadPolicy): Promise<Entry> {
    const existing = this.live.get(spec.key);
    if (existing && (!existing.weights || existing.weights.loaded)) return existing;
    if (policy.mode !== 'none') {
      for (const [key, e] of this.live) if (key !== spec.key && e.users === 0) await this.offload(key);
    }
    memoryProbe(`${spec.component}: others offloaded`);
    if (existing) {
      const e = this.loadWeights(existing);
      memoryProbe(`${spec.component}: weights loaded`);
      return e;
    }
    const keepBuilt = policy.mode !== 'none';
    let built = this.built.get(spec.key);
    if (!built) {
      built = spec.build();
      if (keepBuilt) {
        this.built.set(spec.key, built);
        this.pin(spec, built);
      }
    }
    const bytes =
      'model' in built ? built.model.byteLength + built.externalData.reduce((a, f) => a + f.data.byteLength, 0) : 0;
    const hostWeightBytes = 'model' in built ? (built.hostWeights ?? []).reduce((a, w) => a + w.data.byteLength, 0) : 0;
    if (policy.budgetMiB > 0) await this.evictForBudget(bytes, policy.budgetMiB * 1024 * 1024);
    const start = performance.now();
    // with everything resident, one arena: a component's freed activations serve the next one's run; swapped
    // weights come from it too, so a component's freed weights serve the next one's activations
    const sharedArena = policy.mode === 'none' || spec.swapWeights === true;
    const opts = { threads: this.opts.threads, label: spec.component, sharedArena };
    // a bounded cuDNN workspace for model offload, a memory setting (row 5's peak did not move with it either way:
    // BENCHMARKS.md, sittings T and U)
    const cudaOptions = spec.swapWeights ? { cudnn_conv_use_max_workspace: '0' } : undefined;
    const session: Promise<Session> =
      (spec.swapWeights && 'model' in built) || spec.native
        ? createNativeSession(built, { ...opts, device: nativeDevice(spec), cudaOptions, cudaGraphs: spec.cudaGraphs })
        : createSession(built, { ...opts, device: spec.device });
    const entry: Entry = { spec, session, bytes, hostWeightBytes, users: 0, lastUse: ++this.clock };
    this.live.set(spec.key, entry);
    try {
      const s = await session;
      if ('weights' in s) entry.weights = s.weights as DeviceWeights;
    } catch (e) {
      this.live.delete(spec.key);
      throw e;
    }
    // its weights and kernels' buffers may sit in regions a captured CUDA graph reuses
    if (sharedArena && spec.device === 'cuda') bumpArenaEpoch('cuda');
    const t = this.timingOf(spec.component);
    t.creates++;
    t.createMs += performance.now() - start;
    return this.loadWeights(entry);
  }

  private loadWeights(entry: Entry): Entry {
    if (entry.weights && !entry.weights.loaded) {
      const start = performance.now();
      entry.weights.load();
      const t = this.timingOf(entry.spec.component);
      t.loads++;
      t.loadMs += performance.now() - start;
    }
    this.peak = Math.max(this.peak, this.residentEntries().length);
    return entry;
  }

  /** Frees a session's weights where they can come back without a new session, else the session. */
  private async offload(key: string): Promise<void> {
    const e = this.live.get(key);
    if (e?.weights) e.weights.unload();
    else await this.release(key);
  }

  /** Page-locks a kept graph's streamed weights for CUDA; without it they still stream, at pageable-copy speed. */
  private pin(spec: SessionSpec, built: BuiltModel | OnnxPath): void {
    const weights = 'model' in built ? (built.hostWeights ?? []) : [];
    if (spec.device !== 'cuda' || weights.length === 0) return;
    const r = pinHostMemory(weights.map((w) => w.data));
    if (r.ok) this.pins.set(spec.key, r.pin);
    this.pinning.set(spec.component, r.ok ? { bytes: r.pin.bytes, ms: r.pin.ms } : { failed: r.reason });
  }

  /** Least-recently-used idle sessions go until the new one fits the budget (weights bytes as the estimate). */
  private async evictForBudget(incoming: number, budget: number): Promise<void> {
    let total = incoming + [...this.live.values()].reduce((a, e) => a + e.bytes, 0);
    const idle = [...this.live.entries()].filter(([, e]) => e.users === 0).sort((a, b) => a[1].lastUse - b[1].lastUse);
    for (const [key, e] of idle) {
      if (total <= budget) break;
      total -= e.bytes;
      await this.release(key);
    }
  }

  private async release(key: string): Promise<void> {
    const e = this.live.get(key);
    if (!e || e.users > 0) return;
    this.live.delete(key);
    await (await e.session).release();
  }
}

function nativeDevice(spec: SessionSpec): 'cpu' | 'cuda' {
  if (spec.device === 'webgpu') throw new Error(`${spec.component}: a C-API session needs the CPU or CUDA`);
  return spec.device;
}
