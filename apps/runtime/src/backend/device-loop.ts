import { STEP_OUTPUTS } from '../onnx/builders/scheduler-step.ts';
import type { DeviceTensors } from '../onnx/device-tensors.ts';
import type { DeviceTensor } from '../onnx/native-handles.ts';
import type { NativeSession } from '../onnx/native-session.ts';
import { modelInput, stepVector } from '../sdxl/schedulers/step-coefficients.ts';
import type { DenoiseLoop, LoopStart } from './denoise-loop.ts';
import { type UnetGraphLoop, type UnetIo, unetIo } from './unet-graphs.ts';

// The denoising loop with its state on the UNet's device: the UNet writes its output into a tensor there, the
// scheduler step graph (onnx/builders/scheduler-step.ts) reads it and writes the next sample and the next UNet
// input there. Per step only the timestep and ten coefficients cross from the host; latents come back only for
// previews and at the end.

export interface DeviceLoopParts {
  /** Calls `fn` with the UNet's session (under its offload policy), once per step. */
  withUnet(fn: (unet: NativeSession) => void): Promise<void>;
  /** the step graph's session on the same device, for this loop's guidance (guided or not) */
  readonly step: NativeSession;
  /** where the loop's tensors come from: buffers of its own on that device, freed at close (not the UNet
   *  session's: under a memory budget that session may be evicted and made again between steps) */
  readonly tensors: DeviceTensors;
  /** CUDA graphs (unet-graphs.ts): the UNet's inputs and output then stay where a graph captured them, and each
   *  run names its graph */
  readonly graphs?: UnetGraphLoop;
}

/** The UNet's input rows for a loop: the latents' batch, twice under classifier-free guidance. */
export function unetRows(start: LoopStart): number[] {
  const dims = start.x.dims;
  return [start.cond.cfg ? 2 * dims[0]! : dims[0]!, ...dims.slice(1)];
}

export function deviceLoop(start: LoopStart, parts: DeviceLoopParts): DenoiseLoop {
  const { tensors, graphs } = parts;
  const t = loopState(tensors, start, unetRows(start), graphs);
  const io = t.io;
  let steps = 0;
  const current = () => t.samples[steps % 2]!;
  const lastPred = () => t.preds[(steps + 1) % 2]!;
  return {
    async step(s) {
      if (s.blend) throw new Error('the device loop cannot blend latents (inpainting runs the host loop)');
      // the timestep as a device tensor too: a captured graph copies nothing from the host
      t.write(io.timestep, new Float32Array([s.timestep]));
      const { out_sample, ...feeds } = io;
      await parts.withUnet((unet) => unet.runInto(feeds, { out_sample }, graphs?.graphId()));
      if (s.noise) tensors.write(t.noise, s.noise);
      const [prev, pred, next] = STEP_OUTPUTS;
      const vector = stepVector(s.coefficients, s.guidance, s.nextDivisor);
      parts.step.runInto(
        {
          model_output: io.out_sample,
          sample: current(),
          last_pred: lastPred(),
          noise: t.noise,
          coefficients: { dims: [vector.length], data: vector },
        },
        { [prev]: t.samples[(steps + 1) % 2]!, [pred]: t.preds[steps % 2]!, [next]: io.sample },
      );
      steps++;
    },
    pred: async () => tensors.read(lastPred()),
    sample: async () => tensors.read(current()),
    close: async () => {
      graphs?.done();
      tensors.release();
    },
  };
}

interface LoopState {
  readonly io: UnetIo;
  readonly samples: readonly DeviceTensor[];
  readonly preds: readonly DeviceTensor[];
  readonly noise: DeviceTensor;
  /** writes into io, whoever holds it */
  write(t: DeviceTensor, data: Float32Array): void;
}

function loopState(
  tensors: DeviceTensors,
  start: LoopStart,
  rows: readonly number[],
  graphs: UnetGraphLoop | undefined,
): LoopState {
  const { cond, x } = start;
  const tensor = (d: readonly number[], data?: Float32Array) => {
    const t = tensors.alloc(d);
    if (data) tensors.write(t, data);
    return t;
  };
  try {
    const io = graphs?.io ?? unetIo(tensors, rows, cond);
    const write = graphs ? graphs.write : tensors.write;
    write(io.encoder_hidden_states, cond.encoderHiddenStates.data);
    write(io.text_embeds, cond.textEmbeds.data);
    write(io.time_ids, cond.timeIds.data);
    const input = new Float32Array(rows.reduce((a, b) => a * b, 1));
    modelInput(x.data, start.divisor, input);
    write(io.sample, input);
    const zeros = new Float32Array(x.data.length);
    return {
      io,
      // pairs that alternate, so a step never writes what it reads; the first "last x0" and the noise start at 0
      samples: [tensor(x.dims, x.data), tensor(x.dims)],
      preds: [tensor(x.dims), tensor(x.dims, zeros)],
      noise: tensor(x.dims, zeros),
      write,
    };
  } catch (e) {
    graphs?.done();
    tensors.release();
    throw e;
  }
}
