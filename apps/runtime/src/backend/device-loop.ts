import { STEP_OUTPUTS } from '../onnx/builders/scheduler-step.ts';
import type { DeviceTensors } from '../onnx/device-tensors.ts';
import type { DeviceTensor } from '../onnx/native-handles.ts';
import type { NativeSession } from '../onnx/native-session.ts';
import { modelInput, stepVector } from '../sdxl/schedulers/step-coefficients.ts';
import type { DenoiseLoop, LoopStart } from './denoise-loop.ts';

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
}

export function deviceLoop(start: LoopStart, parts: DeviceLoopParts): DenoiseLoop {
  const { tensors } = parts;
  const dims = start.x.dims;
  const rows = [start.cond.cfg ? 2 * dims[0]! : dims[0]!, ...dims.slice(1)];
  const t = loopState(tensors, start, rows);
  let steps = 0;
  const current = () => t.samples[steps % 2]!;
  const lastPred = () => t.preds[(steps + 1) % 2]!;
  return {
    async step(s) {
      await parts.withUnet((unet) =>
        unet.runInto(
          {
            sample: t.input,
            timestep: { dims: [1], data: new Float32Array([s.timestep]) },
            encoder_hidden_states: t.ehs,
            text_embeds: t.textEmbeds,
            time_ids: t.timeIds,
          },
          { out_sample: t.output },
        ),
      );
      if (s.noise) tensors.write(t.noise, s.noise);
      const [prev, pred, next] = STEP_OUTPUTS;
      const vector = stepVector(s.coefficients, s.guidance, s.nextDivisor);
      parts.step.runInto(
        {
          model_output: t.output,
          sample: current(),
          last_pred: lastPred(),
          noise: t.noise,
          coefficients: { dims: [vector.length], data: vector },
        },
        { [prev]: t.samples[(steps + 1) % 2]!, [pred]: t.preds[steps % 2]!, [next]: t.input },
      );
      steps++;
    },
    pred: async () => tensors.read(lastPred()),
    sample: async () => tensors.read(current()),
    close: async () => tensors.release(),
  };
}

interface LoopState {
  readonly input: DeviceTensor;
  readonly output: DeviceTensor;
  readonly samples: readonly DeviceTensor[];
  readonly preds: readonly DeviceTensor[];
  readonly noise: DeviceTensor;
  readonly ehs: DeviceTensor;
  readonly textEmbeds: DeviceTensor;
  readonly timeIds: DeviceTensor;
}

function loopState(tensors: DeviceTensors, start: LoopStart, rows: readonly number[]): LoopState {
  const { cond, x } = start;
  const tensor = (d: readonly number[], data?: Float32Array) => {
    const t = tensors.alloc(d);
    if (data) tensors.write(t, data);
    return t;
  };
  try {
    const input = new Float32Array(rows.reduce((a, b) => a * b, 1));
    modelInput(x.data, start.divisor, input);
    const zeros = new Float32Array(x.data.length);
    return {
      input: tensor(rows, input),
      output: tensor(rows),
      // pairs that alternate, so a step never writes what it reads; the first "last x0" and the noise start at 0
      samples: [tensor(x.dims, x.data), tensor(x.dims)],
      preds: [tensor(x.dims), tensor(x.dims, zeros)],
      noise: tensor(x.dims, zeros),
      ehs: tensor(cond.encoderHiddenStates.dims, cond.encoderHiddenStates.data),
      textEmbeds: tensor(cond.textEmbeds.dims, cond.textEmbeds.data),
      timeIds: tensor(cond.timeIds.dims, cond.timeIds.data),
    };
  } catch (e) {
    tensors.release();
    throw e;
  }
}
