import { createOnnxBackend } from './apps/runtime/src/backend/index.ts';
const b = createOnnxBackend({ modelsDir: '/work/shared/fixtures', outputDir: '/tmp/sdflow-fp16/out', cacheDir: '/tmp/sdflow-fp16/cache' });
const signal = new AbortController().signal;
for (const precision of ['fp32', 'fp16'] as const) {
  const { clip, unet, vae } = await b.loadModel({ model: 'sdxl-tiny', precision, device: 'cpu', offload: { mode: 'none', budgetMiB: 0 } });
  const conditioning = await b.encodePrompt(clip, 'a photo of a cat', '', signal);
  const t = performance.now();
  const latent = await b.denoise({ unet, conditioning, latent: { samples: b.randn([1, 4, 16, 16], 400), kind: 'noise' }, steps: 4, cfg: 5, scheduler: 'euler', seed: 0, denoise: 1, preview: { method: 'none', every: 1 }, onStep: () => {}, onPreview: () => {}, signal });
  const img = await b.vaeDecode({ vae, latent, slicing: false, tiling: true, tileSize: 16, tileOverlap: 0, autoTiling: true, onProgress: () => {}, signal });
  console.log(precision, latent.samples.data.slice(0, 4), img.images.data.slice(0, 3), (performance.now() - t).toFixed(0), 'ms');
}
console.log(b.store.stats());
await b.dispose();
