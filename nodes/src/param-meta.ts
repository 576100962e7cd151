import { z } from 'zod';

// Hints for the editor's param widgets, attached with zod's `.meta()` and carried into the JSON Schema.

export const ParamWidget = z.enum([
  'number',
  'slider',
  'text',
  'textarea',
  'select',
  'toggle',
  'seed',
  'model',
  'file',
]);
export type ParamWidget = z.infer<typeof ParamWidget>;

export const ParamMeta = z.object({
  widget: ParamWidget.optional(),
  description: z.string().optional(),
  /** Increment for number and slider widgets. */
  step: z.number().positive().optional(),
  /** What the model picker lists: diffusers pipelines, TAESD folders, latent files in the output folder, or images
   *  in the input folder. */
  source: z.enum(['models', 'tinyVaes', 'latents', 'inputs']).optional(),
});
export type ParamMeta = z.infer<typeof ParamMeta>;

declare module 'zod/v4/core' {
  interface GlobalMeta {
    widget?: ParamWidget;
    step?: number;
    source?: ParamMeta['source'];
  }
}

/** Largest seed that survives JSON (torch accepts up to 2**64 - 1; JSON numbers stay exact up to 2**53 - 1). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

// Shared param shapes, so the same knob reads the same in every node type.
export const seedParam = (description = 'Random seed (torch-compatible).') =>
  z.number().int().min(0).max(MAX_SEED).default(0).meta({ widget: 'seed', description });

/** A name under the models folder: segments may not start with a dot, so no `..` and no hidden folders. */
export const modelName = (source: 'models' | 'tinyVaes', description: string) =>
  z
    .string()
    .max(200)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._ -]*(\/[A-Za-z0-9][A-Za-z0-9._ -]*)*$/,
      'a model name: folder names under the models directory',
    )
    .default('default')
    .meta({ widget: 'model', source, description });

export const precisionParam = () =>
  z.enum(['auto', 'fp32', 'fp16']).default('auto').meta({
    widget: 'select',
    description: 'Weights and activations precision; auto = fp16 on GPU, fp32 on CPU.',
  });

export const deviceParam = () =>
  z.enum(['auto', 'cpu', 'cuda', 'webgpu']).default('auto').meta({
    widget: 'select',
    description: 'Execution provider; auto = the runtime default (CUDA when available, else CPU).',
  });

/** A file name in the output folder: no separators, no leading dot. */
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]*$/;

export const filenamePrefixParam = (fallback: string) =>
  z
    .string()
    .min(1)
    .max(100)
    .regex(FILE_NAME, 'letters, digits, dot, dash, underscore or space, starting with a letter or digit')
    .default(fallback)
    .meta({ widget: 'text', description: 'Start of the file names written to the output folder.' });
