import { comfyApiPrompt } from '@sdflow/nodes/comfy/fixtures/default-prompt.ts';
import { describe, expect, it } from 'vitest';
import { openWorkflowFile } from './workflow-file.ts';

// Opening files in the editor: sdflow's as they are; ComfyUI's (API or editor format, or its PNG) converted,
// with a notice saying what was mapped and what was not.

const apiPrompt = (over: Parameters<typeof comfyApiPrompt>[0] = {}) =>
  comfyApiPrompt({ '3': { inputs: { sampler_name: 'euler_ancestral' } }, ...over });

const enc = new TextEncoder();
/** A PNG byte stream with tEXt chunks (the reader only walks chunks, so CRCs can be zero). */
function pngWithText(entries: Record<string, string>): Uint8Array {
  const parts: number[] = [137, 80, 78, 71, 13, 10, 26, 10];
  const chunk = (type: string, data: Uint8Array) => {
    const n = data.length;
    parts.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255, ...enc.encode(type), ...data, 0, 0, 0, 0);
  };
  chunk('IHDR', new Uint8Array(13));
  for (const [k, v] of Object.entries(entries)) chunk('tEXt', new Uint8Array([...enc.encode(k), 0, ...enc.encode(v)]));
  chunk('IEND', new Uint8Array());
  return new Uint8Array(parts);
}

describe('openWorkflowFile', () => {
  it('converts a ComfyUI API-format JSON file and sums up the import', async () => {
    const file = new File([JSON.stringify(apiPrompt())], 'boat_api.json', { type: 'application/json' });
    const { workflow, notice } = await openWorkflowFile(file);
    expect(workflow.meta.name).toBe('boat_api');
    expect(workflow.nodes['3']).toMatchObject({ type: 'unetDenoise', params: { scheduler: 'euler_ancestral' } });
    expect(notice).toMatch(/^Opened a ComfyUI API prompt \(boat_api\.json\): 7 node\(s\) mapped, 0 not mapped/);
  });

  it('converts a ComfyUI PNG from its prompt chunk, naming what was not mapped', async () => {
    const prompt = apiPrompt({ '20': { class_type: 'UpscaleModelLoader', inputs: { model_name: 'x4.pth' } } });
    const file = new File([pngWithText({ prompt: JSON.stringify(prompt) }) as BlobPart], 'ComfyUI_00001_.png', {
      type: 'image/png',
    });
    const { workflow, notice } = await openWorkflowFile(file);
    expect(Object.keys(workflow.nodes).sort()).toEqual(['3', '4', '5', '6', '8', '9']);
    expect(notice).toContain('Not mapped: 20 UpscaleModelLoader (no counterpart in sdflow yet).');
  });

  it('opens an sdflow workflow without a notice, and refuses a ComfyUI file with nothing it can run', async () => {
    const sdflow = { version: 1, meta: { name: 'mine' }, nodes: {} };
    expect(await openWorkflowFile(new File([JSON.stringify(sdflow)], 'mine.json'))).toEqual({
      workflow: { version: 1, meta: { name: 'mine' }, nodes: {} },
    });
    const lora = apiPrompt({
      '10': {
        class_type: 'LoraLoader',
        inputs: { model: ['4', 0], clip: ['4', 1], lora_name: 'a', strength_model: 1 },
      },
      '3': { inputs: { sampler_name: 'euler_ancestral', model: ['10', 0] } },
    });
    await expect(openWorkflowFile(new File([JSON.stringify(lora)], 'lora.json'))).rejects.toThrow(
      /^lora\.json: nothing to run: .*10 \(LoraLoader\): no counterpart in sdflow yet/,
    );
  });
});
