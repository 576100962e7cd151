import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { loadImageDef } from './load-image.node.ts';

const image = loadImageDef.params.shape;

export const loadMaskDef = defineNode({
  type: 'loadMask',
  version: 1,
  title: 'Load Mask',
  category: 'image',
  description:
    "Reads an inpainting mask from the input folder: a picture's luminance (white = repaint, as diffusers' mask_image) or 1 - its alpha (transparent = repaint, as ComfyUI's Load Image). Fit it as the image it masks.",
  params: z.object({
    file: image.file,
    channel: z.enum(['luminance', 'alpha']).default('luminance').meta({
      widget: 'select',
      description: 'luminance: white = repaint; alpha: transparent = repaint.',
    }),
    fit: image.fit,
    width: image.width,
    height: image.height,
  }),
  inputs: {},
  outputs: { mask: { type: 'MASK' } },
});
