import type { DeviceTensors } from '../onnx/device-tensors.ts';
import type { DeviceTensor } from '../onnx/native-handles.ts';
import { arenaEpoch } from '../onnx/shared-arena.ts';
import type { UnetConditioningBatch } from '../sdxl/conditioning.ts';

/** The UNet's inputs and output on its device, by the names of its graph. */
export interface UnetIo {
  readonly sample: DeviceTensor;
  readonly out_sample: DeviceTensor;
  readonly timestep: DeviceTensor;
  readonly encoder_hidden_states: DeviceTensor;
  readonly text_embeds: DeviceTensor;
  readonly time_ids: DeviceTensor;
}

// CUDA graphs for the resident UNet (opt-in: SDFLOW_CUDA_GRAPHS=1): ONNX Runtime captures a run once and then only
// replays it, without launching its ~1800 kernels one by one. A replay reads and writes the addresses it saw at
// capture, so:
// - the UNet's inputs and output are tensors kept per shape for the backend's life (not per loop);
// - its activations sit in the shared arena's free regions, which stay free between its runs only while no session
//   is made on that arena and it is not shrunk (arenaEpoch): a graph is keyed by that count, and a change means a
//   fresh capture;
// - a capture costs two plain runs more (ONNX Runtime's warm-up), so a shape's first loop runs without one, and a
//   shape whose graph went stale between two loops (row 10 shrinks the arena before every TAESD decode) stops
//   capturing: it would pay for a capture on every run.
// What this cannot see is a kernel of another session keeping a new buffer from the arena during a run (a cache
// made for new shapes): a replay would then write over it. Hence opt-in.

export interface UnetGraphLoop {
  /** the UNet's inputs and output, at the addresses a captured graph keeps (the loop writes its inputs) */
  readonly io: UnetIo;
  /** Writes into io (tensors of the backend's, not the loop's). */
  write(t: DeviceTensor, data: Float32Array): void;
  /** The graph id for the next UNet run (-1: no graph); read at each step, after the session was acquired. */
  graphId(): number;
  /** Ends the loop (its tensors stay for the next loop of this shape); once, however often it is called. */
  done(): void;
}

export interface UnetGraphs {
  /** A loop's fixed tensors and graph ids, for one UNet (key) at these shapes. */
  loop(key: string, rows: readonly number[], cond: UnetConditioningBatch): UnetGraphLoop;
  /** Frees every tensor (after the sessions whose graphs use them are released). */
  release(): void;
}

interface Shape {
  readonly io: UnetIo;
  loops: number;
  /** the arena epoch of the last capture, while its graph may still be replayed */
  captured?: number;
  stale: boolean;
  busy: boolean;
}

export function unetGraphs(tensors: DeviceTensors): UnetGraphs {
  const shapes = new Map<string, Shape>();
  const ids = new Map<string, number>();
  const idOf = (key: string) => {
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(key, id);
    }
    return id;
  };
  return {
    loop(key, rows, cond) {
      const dims = [rows, cond.encoderHiddenStates.dims, cond.textEmbeds.dims, cond.timeIds.dims];
      const sig = `${key}|${JSON.stringify(dims)}`;
      let s = shapes.get(sig);
      if (!s) {
        s = { io: unetIo(tensors, rows, cond), loops: 0, stale: false, busy: false };
        shapes.set(sig, s);
      }
      // two loops of one shape at once would write each other's inputs
      if (s.busy) throw new Error('unet: a denoising loop of these shapes is already running');
      const shape = s;
      shape.busy = true;
      let ended = false;
      if (shape.captured !== undefined && shape.captured !== arenaEpoch('cuda')) {
        shape.stale = true;
        shape.captured = undefined;
      }
      return {
        io: shape.io,
        write: (t, data) => tensors.write(t, data),
        graphId() {
          if (shape.loops === 0 || shape.stale) return -1;
          const epoch = arenaEpoch('cuda');
          shape.captured = epoch;
          return idOf(`${sig}|${epoch}`);
        },
        done() {
          if (ended) return;
          ended = true;
          shape.loops++;
          shape.busy = false;
        },
      };
    },
    release() {
      shapes.clear();
      tensors.release();
    },
  };
}

/** The UNet's inputs and output as device tensors: [rows] samples, the conditioning as given, timestep [1]. */
export function unetIo(tensors: DeviceTensors, rows: readonly number[], cond: UnetConditioningBatch): UnetIo {
  const made: UnetIo[keyof UnetIo][] = [];
  const alloc = (dims: readonly number[]) => {
    const t = tensors.alloc(dims);
    made.push(t);
    return t;
  };
  try {
    return {
      sample: alloc(rows),
      out_sample: alloc(rows),
      timestep: alloc([1]),
      encoder_hidden_states: alloc(cond.encoderHiddenStates.dims),
      text_embeds: alloc(cond.textEmbeds.dims),
      time_ids: alloc(cond.timeIds.dims),
    };
  } catch (e) {
    for (const t of made) tensors.free(t);
    throw e;
  }
}
