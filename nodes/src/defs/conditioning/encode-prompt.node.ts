import { defineNode } from '../../define.ts';
import { promptParams } from './prompt-params.ts';

export const encodePromptDef = defineNode({
  type: 'encodePrompt',
  version: 1,
  title: 'Encode Prompt',
  category: 'conditioning',
  description:
    'Positive and negative prompt through both SDXL text encoders, to conditioning for the UNet. Optional clip skip (diffusers) and (word:1.2) prompt weights (ComfyUI or A1111 rule).',
  params: promptParams,
  inputs: { clip: { type: 'CLIP' } },
  outputs: { conditioning: { type: 'CONDITIONING' } },
});
