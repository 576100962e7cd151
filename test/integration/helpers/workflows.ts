import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { type Txt2ImgOptions, txt2imgWorkflow } from '@sdflow/runtime/executor/test/txt2img-workflow.ts';

// Small text-to-image workflows on the tiny fixture (VAE factor 2: 32x32 images, 16x16 latents).

export function txt2img(o: Txt2ImgOptions = {}): Workflow {
  const wf = txt2imgWorkflow({
    model: 'tiny',
    precision: 'fp32',
    prompt: 'a red fox in the snow',
    steps: 3,
    size: 32,
    seed: 7,
    prefix: 'it',
    name: 'integration txt2img',
    ...o,
  });
  return { ...wf, ui: { nodes: { model: { x: 0, y: 0 }, prompt: { x: 300, y: 0 } }, groups: [], notes: [] } };
}
