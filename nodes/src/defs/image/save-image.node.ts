import { z } from 'zod';
import { defineNode } from '../../define.ts';
import { filenamePrefixParam } from '../../param-meta.ts';

export const saveImageDef = defineNode({
  type: 'saveImage',
  version: 1,
  title: 'Save Image',
  category: 'image',
  description:
    'Writes each image as PNG to the output folder with the workflow in its metadata: dropping the PNG into the editor restores the graph.',
  params: z.object({ filenamePrefix: filenamePrefixParam('sdflow') }),
  inputs: { image: { type: 'IMAGE' } },
  outputs: {},
  isOutput: true,
});
