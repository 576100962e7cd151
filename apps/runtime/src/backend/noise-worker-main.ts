import { parentPort } from 'node:worker_threads';
import { TorchGenerator } from '../sdxl/torch-rng.ts';
import type { FromNoiseWorker, ToNoiseWorker } from './noise-messages.ts';

// The noise thread: draws an ancestral sampler's per-step noise from a copy of the run's generator, ahead of the
// steps that take it, while the backend's thread waits on the UNet.

if (!parentPort) throw new Error('noise worker: must run inside a worker thread');
const port = parentPort;

let job:
  | { id: number; generator: TorchGenerator; n: number; count: number; drawn: number; allowed: number }
  | undefined;
let pumping = false;

const post = (msg: FromNoiseWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/** Draws while allowed, one chunk per turn of the event loop, so 'more' and 'stop' are read between chunks. */
function pump(): void {
  if (pumping) return;
  pumping = true;
  setImmediate(() => {
    pumping = false;
    const j = job;
    if (!j || j.drawn >= j.count || j.drawn >= j.allowed) return;
    try {
      const data = j.generator.randn([j.n]);
      post({ type: 'chunk', job: j.id, index: j.drawn++, data }, [data.buffer as ArrayBuffer]);
    } catch (e) {
      post({ type: 'failed', job: j.id, message: e instanceof Error ? e.message : String(e) });
      job = undefined;
      return;
    }
    pump();
  });
}

port.on('message', (msg: ToNoiseWorker) => {
  if (msg.type === 'start') {
    job = {
      id: msg.job,
      generator: TorchGenerator.fromState(msg.state),
      n: msg.n,
      count: msg.count,
      drawn: 0,
      allowed: msg.ahead,
    };
  } else if (job?.id === msg.job) {
    if (msg.type === 'stop') job = undefined;
    else job.allowed++;
  }
  pump();
});
