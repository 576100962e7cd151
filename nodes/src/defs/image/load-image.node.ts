import { z } from 'zod';
import { defineNode } from '../../define.ts';

/** A path under the input folder: segments may not start with a dot, so no `..` and no hidden files. */
const INPUT_PATH = /^[A-Za-z0-9_][A-Za-z0-9._ ()+,=@-]*(\/[A-Za-z0-9_][A-Za-z0-9._ ()+,=@-]*)*$/;

const side = (description: string) =>
  z.number().int().min(8).max(8192).default(1024).meta({ widget: 'number', step: 8, description });

export const loadImageDef = defineNode({
  type: 'loadImage',
  version: 1,
  title: 'Load Image',
  category: 'image',
  description:
    'Reads a PNG, JPEG or WebP from the input folder as an image, optionally fitted to a width and height (for image to image: wire it to VAE Encode).',
  params: z.object({
    file: z
      .string()
      .min(1)
      .max(400)
      .regex(INPUT_PATH, 'a file in the input folder (relative path, no "..", no hidden files)')
      .meta({ widget: 'file', source: 'inputs', description: 'PNG, JPEG or WebP in the input folder.' }),
    fit: z.enum(['none', 'resize', 'crop-center', 'pad']).default('none').meta({
      widget: 'select',
      description:
        'none: keep the size; resize: stretch to width x height; crop-center: scale to cover, crop the middle; pad: scale to fit, pad with black.',
    }),
    width: side('Target width in pixels (fit other than none).'),
    height: side('Target height in pixels (fit other than none).'),
    alpha: z.enum(['error', 'ignore']).default('error').meta({
      widget: 'select',
      description: 'An image with an alpha channel: error (the default), or ignore its alpha.',
    }),
  }),
  inputs: {},
  outputs: { image: { type: 'IMAGE' } },
});
