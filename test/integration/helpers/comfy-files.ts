import { readFileSync } from 'node:fs';
import path from 'node:path';
import { insertPngText } from '@sdflow/runtime/backend/png-workflow.ts';
import sharp from 'sharp';
import { repoRoot } from './server-process.ts';

// ComfyUI files for the import tests: the hand-written SDXL text-to-image twins (nodes/src/comfy/fixtures/), and
// a PNG carrying them the way ComfyUI's SaveImage does: tEXt "prompt" (API format) and "workflow" (editor format).

const fixtures = path.join(repoRoot, 'nodes/src/comfy/fixtures');

export const comfyApiText = (): string => readFileSync(path.join(fixtures, 'sdxl-text-to-image.api.json'), 'utf8');
export const comfyUiText = (): string => readFileSync(path.join(fixtures, 'sdxl-text-to-image.ui.json'), 'utf8');

/** A small PNG with ComfyUI's two text chunks (json.dumps output is ASCII, as ComfyUI writes it). */
export async function comfyPng(): Promise<Uint8Array> {
  const image = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();
  const compact = (text: string) => JSON.stringify(JSON.parse(text));
  const withPrompt = insertPngText(new Uint8Array(image), 'prompt', compact(comfyApiText()));
  return insertPngText(withPrompt, 'workflow', compact(comfyUiText()));
}

/** `--set` overrides that make the converted SDXL workflow run on the tiny fixture: 32x32, two steps. */
export const TINY_SETS = ['4.model=tiny', '5.width=32', '5.height=32', '3.steps=2'];
