import { Worker } from 'node:worker_threads';
import type { TorchGenerator } from '../sdxl/torch-rng.ts';
import type { FromNoiseWorker, ToNoiseWorker } from './noise-messages.ts';

// An ancestral sampler's per-step noise (torch's CPU generator, reproduced in JavaScript: 20-55 ms for a 4-image
// 1024x1024 latent) drawn on a thread of its own, ahead of the steps, while this thread waits on the UNet. The
// chunks are what generator.randn([n]) would give, call after call, bit for bit.

export interface NoiseSource {
  /** The next n normals of the generator's stream. */
  next(): Promise<Float32Array>;
  /** No more chunks are wanted. */
  close(): void;
}

/** Draws on this thread when asked (small latents: the hand-over costs more than the draw). */
export function noiseInline(generator: TorchGenerator, n: number): NoiseSource {
  return { next: async () => generator.randn([n]), close: () => undefined };
}

const WORKER_URL = new URL('./noise-worker.mjs', import.meta.url);

let worker: Worker | undefined;
let jobs = 0;
const listeners = new Map<number, (msg: FromNoiseWorker) => void>();

/** The process's noise thread, started with the first job and kept (it does not hold the process open); after a
 *  failure the next job starts another. */
function noiseWorker(): Worker {
  if (!worker) {
    const w = new Worker(WORKER_URL);
    w.unref();
    w.on('message', (msg: FromNoiseWorker) => listeners.get(msg.job)?.(msg));
    const fail = (e: Error) => {
      if (worker === w) worker = undefined;
      const message = `unetDenoise: the noise thread failed: ${e.message}`;
      for (const l of listeners.values()) l({ type: 'failed', job: -1, message });
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
    worker = w;
  }
  return worker;
}

/** Draws `count` chunks of n normals on the noise thread from the generator's state now, `ahead` at most before they
 *  are taken. The generator itself does not move. */
export function noiseAhead(generator: TorchGenerator, n: number, count: number, ahead = 2): NoiseSource {
  const w = noiseWorker();
  const job = ++jobs;
  const ready = new Map<number, Float32Array>();
  const waiting = new Map<number, { resolve(d: Float32Array): void; reject(e: Error): void }>();
  let failed: Error | undefined;
  let taken = 0;
  listeners.set(job, (msg) => {
    if (msg.type === 'failed') {
      failed = new Error(msg.message);
      for (const p of waiting.values()) p.reject(failed);
      waiting.clear();
      return;
    }
    const p = waiting.get(msg.index);
    if (p) {
      waiting.delete(msg.index);
      p.resolve(msg.data);
    } else ready.set(msg.index, msg.data);
  });
  const send = (msg: ToNoiseWorker) => w.postMessage(msg);
  send({ type: 'start', job, state: generator.state(), n, count, ahead });
  return {
    next() {
      const index = taken++;
      if (index >= count) return Promise.reject(new Error(`unetDenoise: noise chunk ${index} of ${count} asked for`));
      if (failed) return Promise.reject(failed);
      if (index + ahead < count) send({ type: 'more', job });
      const data = ready.get(index);
      if (data) {
        ready.delete(index);
        return Promise.resolve(data);
      }
      return new Promise((resolve, reject) => waiting.set(index, { resolve, reject }));
    },
    close() {
      listeners.delete(job);
      ready.clear();
      send({ type: 'stop', job });
    },
  };
}
