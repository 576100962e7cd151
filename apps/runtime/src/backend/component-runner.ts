import type { Tensor } from '@sdflow/nodes/tensor.ts';
import type { Feed } from '../onnx/session.ts';
import type { ComponentSource } from './model-source.ts';

/** Runs one component of the current model through the model store (policy, device and precision bound). */
export type ComponentRunner = (
  component: ComponentSource,
  feeds: Record<string, Feed>,
) => Promise<Record<string, Tensor>>;
