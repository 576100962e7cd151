import { MemorySource } from '../../models/memory-source.ts';
import { STEP_VECTOR } from '../../sdxl/schedulers/step-coefficients.ts';
import type { BuiltModel } from '../built-model.ts';
import { GraphBuilder, type Target, type Value } from '../graph-builder.ts';

// One denoising step after the UNet, where its output already is: classifier-free guidance, the scheduler step as
// coefficients (sdxl/schedulers/step-coefficients.ts, whose applyStep rounds each operation as this graph does)
// and the next UNet input. Float32 throughout.
// Inputs: `model_output` [R, C, H, W] (R = 2B with guidance: [uncond, text] halves, else B), `sample`, `last_pred`
// and `noise` [B, C, H, W], `coefficients` [10] in STEP_VECTOR's order.
// Outputs: `prev_sample` and `pred_original_sample` [B, C, H, W], `next_model_input` [R, C, H, W].

export const STEP_OUTPUTS = ['prev_sample', 'pred_original_sample', 'next_model_input'] as const;

export function buildSchedulerStep(opts: { guided: boolean; target?: Target }): BuiltModel {
  const g = new GraphBuilder({
    name: opts.guided ? 'scheduler_step_cfg' : 'scheduler_step',
    precision: 'fp32',
    weights: new MemorySource({}, 'scheduler step'),
    target: opts.target,
  });
  const rows = opts.guided ? '2*batch' : 'batch';
  const latent = ['batch', 'channels', 'height', 'width'];
  const out = g.input('model_output', 'float32', [rows, 'channels', 'height', 'width']);
  const x = g.input('sample', 'float32', latent);
  const last = g.input('last_pred', 'float32', latent);
  const noise = g.input('noise', 'float32', latent);
  const vector = g.input('coefficients', 'float32', [STEP_VECTOR.length]);
  const k = (name: (typeof STEP_VECTOR)[number]): Value =>
    g.op1('Gather', [vector, g.constInt64(STEP_VECTOR.indexOf(name), [])], { axis: 0 });
  const mul = (name: (typeof STEP_VECTOR)[number], v: Value) => g.op1('Mul', [k(name), v]);
  const add = (a: Value, b: Value) => g.op1('Add', [a, b]);

  let m = out;
  if (opts.guided) {
    // uncond + g * (text - uncond), as diffusers writes it
    const [uncond, text] = g.op('Split', [out], { axis: 0 }, { outputs: 2 }) as [Value, Value];
    m = add(uncond, mul('guidance', g.op1('Sub', [text, uncond])));
  }
  const pred = g.op1('Div', [add(mul('predX', x), mul('predM', m)), k('predDiv')]);
  let prev = add(add(mul('prevX', x), mul('prevPred', pred)), mul('prevM', m));
  prev = add(add(prev, mul('prevLast', last)), mul('prevNoise', noise));
  const next = g.op1('Div', [prev, k('nextDiv')]);
  g.output(prev, STEP_OUTPUTS[0], 'float32', latent);
  g.output(pred, STEP_OUTPUTS[1], 'float32', latent);
  const input = opts.guided ? g.op1('Concat', [next, next], { axis: 0 }) : next;
  g.output(input, STEP_OUTPUTS[2], 'float32', [rows, 'channels', 'height', 'width']);
  return g.build();
}
