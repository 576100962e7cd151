import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsSource } from '../models/weight-source.ts';
import { buildSchedulerStep } from '../onnx/builders/scheduler-step.ts';
import { buildUnet } from '../onnx/builders/unet.ts';
import { readJson, unetDir, unetRef } from '../onnx/builders/unet-test-support.ts';
import { deviceTensors } from '../onnx/device-tensors.ts';
import { createNativeSession } from '../onnx/native-session.ts';
import { streamWeights } from '../onnx/stream-weights.ts';
import { createScheduler } from '../sdxl/schedulers/create-scheduler.ts';
import { parseSchedulerConfig } from '../sdxl/schedulers/scheduler-config.ts';
import { fixtureDir } from '../sdxl/testing/references.ts';
import { TorchGenerator } from '../sdxl/torch-rng.ts';
import type { DenoiseLoop, LoopStart } from './denoise-loop.ts';
import { hostLoop } from './denoise-loop.ts';
import { deviceLoop } from './device-loop.ts';
import { runPipeline } from './testing/run-pipeline.ts';
import { testBackends } from './testing/test-backends.ts';

// The loop whose state stays with the UNet's session (CUDA's path, here on the CPU through the same C-API sessions)
// against the loop on host arrays, with the sdxl-tiny UNet: the same bits at every step.

const config = readJson(path.join(unetDir, 'config.json'));
const ehs = unetRef('encoder_hidden_states');
const cond = { encoderHiddenStates: ehs, textEmbeds: unetRef('text_embeds'), timeIds: unetRef('time_ids'), cfg: true };

async function drive(loop: DenoiseLoop, name: 'euler_ancestral' | 'dpmpp_2m_karras', n: number) {
  const s = createScheduler(name, parseSchedulerConfig({}, 'scheduler_config.json'), 4);
  const generator = new TorchGenerator(7);
  const seen: Float32Array[] = [];
  try {
    for (let i = 0; i < s.timesteps.length; i++) {
      const coefficients = s.coefficients(i, i);
      await loop.step({
        timestep: s.timesteps[i]!,
        coefficients,
        guidance: 5,
        nextDivisor: i + 1 < s.timesteps.length ? s.inputDivisor(i + 1) : 1,
        noise: coefficients.prevNoise !== 0 ? generator.randn([n]) : undefined,
      });
      seen.push(Float32Array.from(await loop.pred()), Float32Array.from(await loop.sample()));
    }
  } finally {
    await loop.close();
  }
  return seen;
}

describe('deviceLoop', () => {
  for (const name of ['euler_ancestral', 'dpmpp_2m_karras'] as const)
    it(`${name}: the same samples and x0 estimates as the host loop, step by step`, async () => {
      const built = streamWeights(
        buildUnet(config, SafetensorsSource.open(unetDir), { precision: 'fp32', target: 'cpu' }),
        'cpu',
      );
      const unet = await createNativeSession(built, { device: 'cpu', threads: 1, label: 'unet' });
      const step = await createNativeSession(buildSchedulerStep({ guided: true }), { device: 'cpu', label: 'step' });
      try {
        unet.weights.load();
        const sample = unetRef('sample');
        const x = { dims: [1, ...sample.dims.slice(1)], data: sample.data.slice(0, sample.data.length / 2) };
        const start: LoopStart = { x, divisor: 1.5, cond };
        const onHost = await drive(
          hostLoop(start, async (inputs) => (await unet.run({ ...inputs })).out_sample!),
          name,
          x.data.length,
        );
        const onDevice = await drive(
          deviceLoop(start, {
            step,
            tensors: deviceTensors({ device: 'cpu', label: 'unet' }),
            withUnet: async (fn) => fn(unet),
          }),
          name,
          x.data.length,
        );
        expect(onDevice.length).toBe(8);
        onDevice.forEach((t, i) => {
          expect(t, `${i}`).toEqual(onHost[i]);
        });
        expect(onDevice.at(-1)?.some((v) => v !== 0)).toBe(true);
        expect(onDevice.at(-1)).not.toEqual(x.data);
      } finally {
        await unet.release();
        await step.release();
      }
    });
});

// The backend's own wiring (C-API UNet session, step sessions, the loop's tensors), which on CUDA runs by default:
// the same pipeline with the loop on the host and, through deviceLoop 'always', on the CPU's C-API sessions.
describe('the backend with the loop on the device', () => {
  const backends = testBackends(mkdtempSync(path.join(tmpdir(), 'sdflow-device-loop-')), path.dirname(fixtureDir));
  afterAll(() => backends.disposeAll());
  const model = path.basename(fixtureDir);

  for (const scheduler of ['euler_ancestral', 'dpmpp_2m_karras'] as const)
    it(`${scheduler}: the same latents and images as the host loop`, async () => {
      const req = { model, width: 32, height: 32, steps: 4, cfg: 5, scheduler, seed: 3, batchSize: 2, save: false };
      const host = backends.create({ deviceLoop: 'off' });
      const device = backends.create({ deviceLoop: 'always' });
      const onHost = await runPipeline(host, req);
      const onDevice = await runPipeline(device, req);
      // the UNet's session is the C-API one (its weights count as loaded once) only with the loop on the device
      expect(device.storeStats().timing.unet?.loads).toBe(1);
      expect(host.storeStats().timing.unet?.loads).toBe(0);
      expect(onDevice.steps).toEqual([1, 2, 3, 4]);
      expect(onDevice.latent.samples.dims).toEqual(onHost.latent.samples.dims);
      expect(onDevice.latent.samples.dims[0]).toBe(2);
      expect([...onDevice.latent.samples.data]).toEqual([...onHost.latent.samples.data]);
      expect([...onDevice.image.data]).toEqual([...onHost.image.data]);
      expect(onDevice.latent.samples.data.some((v, i) => v !== onDevice.noise.data[i])).toBe(true);
    });
});
