import { defineNode } from '../../define.ts';
import { promptParams } from './prompt-params.ts';

export const encodePromptDef = defineNode({
  type: 'encodePrompt',
  version: 1,
  title: 'Encode Prompt',
  category: 'conditioning',
  description: 'Positive and negative prompt through both SDXL text encoders, to conditioning for the UNet.',
  params: promptParams,
  inputs: { clip: { type: 'CLIP' } },
  outputs: { conditioning: { type: 'CONDITIONING' } },
});
