import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog } from '../catalog.ts';
import { validateWorkflow } from '../graph/validate.ts';
import type { Workflow } from '../graph/workflow.ts';
import type { ComfyConversion } from './convert.ts';
import { comfyApiPrompt } from './fixtures/default-prompt.ts';
import { detectComfyFormat, importDocument, importPngText } from './import-document.ts';
import { modelNameOf } from './node-mappers.ts';
import { formatComfyReport, summarizeComfyReport } from './report.ts';

// The converter on hand-written ComfyUI files (checked against ComfyUI's default graph, script_examples and
// node definitions): each mapping, what is reported, and both formats giving the same workflow.

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

function convert(doc: unknown): ComfyConversion {
  const r = importDocument(doc, { source: 'test' });
  if (r.kind !== 'comfy') throw new Error('not detected as ComfyUI');
  return r.conversion;
}
function converted(doc: unknown): Extract<ComfyConversion, { ok: true }> {
  const r = convert(doc);
  if (!r.ok) throw new Error(r.message);
  const valid = validateWorkflow(r.workflow, catalog, { requireOutputs: true });
  if (!valid.ok) throw new Error(JSON.stringify(valid.problems));
  return r;
}
const entry = (r: ComfyConversion, id: string) => r.report.entries.find((e) => e.comfyId === id);

const apiGraph = comfyApiPrompt;

const expectedTwinNodes: Workflow['nodes'] = {
  '4': { type: 'loadModel', params: { model: 'sd_xl_base_1.0' }, inputs: {} },
  '6': {
    type: 'encodePrompt',
    params: {
      prompt: 'a lighthouse on a cliff at dusk, oil painting',
      negativePrompt: 'blurry, watermark',
      encodeEmptyNegative: true,
      weighting: 'comfy',
    },
    inputs: { clip: { node: '4', output: 'clip' } },
  },
  '5': {
    type: 'emptyLatent',
    params: { width: 1024, height: 1024, batchSize: 1, seed: 640271075062843 },
    inputs: { vae: { node: '4', output: 'vae' } },
  },
  '3': {
    type: 'unetDenoise',
    params: { steps: 25, cfg: 7, scheduler: 'dpmpp_2m_karras', seed: 640271075062843, denoise: 1 },
    inputs: {
      unet: { node: '4', output: 'unet' },
      conditioning: { node: '6', output: 'conditioning' },
      latent: { node: '5', output: 'latent' },
    },
  },
  '8': {
    type: 'vaeDecode',
    params: {},
    inputs: { vae: { node: '4', output: 'vae' }, latent: { node: '3', output: 'latent' } },
  },
  '9': {
    type: 'saveImage',
    params: { filenamePrefix: 'lighthouse' },
    inputs: { image: { node: '8', output: 'image' } },
  },
};

describe('ComfyUI SDXL text-to-image, both formats', () => {
  it('detects the API format, the editor format, and leaves sdflow workflows alone', () => {
    expect(detectComfyFormat(fixture('sdxl-text-to-image.api.json'))).toBe('api');
    expect(detectComfyFormat({ prompt: fixture('sdxl-text-to-image.api.json') })).toBe('api');
    expect(detectComfyFormat(fixture('sdxl-text-to-image.ui.json'))).toBe('ui');
    const sdflow = { version: 1, nodes: expectedTwinNodes };
    expect(detectComfyFormat(sdflow)).toBeUndefined();
    expect(importDocument(sdflow)).toEqual({ kind: 'sdflow', document: sdflow });
  });

  it('converts the API prompt: sampler, prompts, latent, decode and save, faithfully', () => {
    const r = converted(fixture('sdxl-text-to-image.api.json'));
    expect(r.workflow.nodes).toEqual(expectedTwinNodes);
    expect(r.report.format).toBe('api');
    const status = Object.fromEntries(r.report.entries.map((e) => [e.comfyId, [e.status, e.to]]));
    expect(status).toEqual({
      '3': ['mapped', ['5', '3']],
      '4': ['mapped', ['4']],
      '5': ['mapped', ['5']],
      '6': ['mapped', ['6']],
      '7': ['mapped', ['6']],
      '8': ['mapped', ['8']],
      '9': ['mapped', ['9']],
    });
    expect(entry(r, '4')?.notes[0]).toContain('ckpt_name "sd_xl_base_1.0.safetensors" -> model "sd_xl_base_1.0"');
    expect(entry(r, '3')?.notes[0]).toBe('sampler_name "dpmpp_2m", scheduler "karras" -> scheduler "dpmpp_2m_karras"');
  });

  it('converts the editor twin to the same nodes, with its positions, note, group and view', () => {
    const r = converted(fixture('sdxl-text-to-image.ui.json'));
    expect(r.workflow.nodes).toEqual(expectedTwinNodes);
    expect(r.workflow.ui?.nodes['3']).toEqual({ x: 860, y: 180 });
    expect(r.workflow.ui?.nodes['6']).toEqual({ x: 400, y: 180 });
    expect(r.workflow.ui?.notes).toEqual([
      {
        id: 'note-10',
        text: 'SDXL base, 1024x1024. Put the checkpoint in models/checkpoints.',
        x: 20,
        y: 180,
        width: 340,
      },
    ]);
    expect(r.workflow.ui?.groups).toEqual([
      { id: 'group-1', title: 'Prompts', x: 380, y: 100, width: 460, height: 470, color: '#3f789e' },
    ]);
    expect(r.workflow.ui?.viewport).toEqual({ x: 80, y: 40, zoom: 0.8 });
    expect(entry(r, '10')).toMatchObject({ status: 'skipped', comfyType: 'MarkdownNote' });
  });

  it('formats the report: a summary line, then each node with what it became', () => {
    const r = converted(fixture('sdxl-text-to-image.ui.json'));
    const lines = formatComfyReport(r.report);
    expect(lines[0]).toBe('ComfyUI editor workflow (test): 7 node(s) mapped, 0 not mapped, 1 skipped');
    expect(lines).toContain('  mapped      3 KSampler -> "5", "3"');
    expect(lines).toContain('  mapped      7 CLIPTextEncode -> "6"');
    expect(summarizeComfyReport(r.report)).toMatch(/^Opened a ComfyUI editor workflow \(test\): 7 node\(s\) mapped/);
  });
});

describe('ComfyUI node mappings', () => {
  it('keeps the checkpoint sub-folder in the model name and an empty negative encoded, as ComfyUI does', () => {
    const r = converted(apiGraph());
    expect(r.workflow.nodes['4']?.params).toEqual({ model: 'sdxl/juggernaut' });
    expect(r.workflow.nodes['6']?.params).toEqual({
      prompt: 'a fox',
      negativePrompt: '',
      encodeEmptyNegative: true,
      weighting: 'comfy',
    });
    expect(r.workflow.nodes['5']?.params).toEqual({ width: 1024, height: 768, batchSize: 2, seed: 5 });
    expect(r.workflow.nodes['3']?.params).toMatchObject({ scheduler: 'euler', cfg: 8, steps: 20 });
  });

  it('maps the deprecated CheckpointLoader too, noting its config file is not used', () => {
    const r = converted(
      apiGraph({ '4': { class_type: 'CheckpointLoader', inputs: { config_name: 'v1-inference.yaml' } } }),
    );
    expect(r.workflow.nodes['4']).toEqual({ type: 'loadModel', params: { model: 'sdxl/juggernaut' }, inputs: {} });
    expect(entry(r, '4')?.notes[0]).toContain('config_name "v1-inference.yaml" not used');
  });

  it('maps CLIPSetLastLayer to clip skip on the prompts that use it; layer -1 has no counterpart', () => {
    const skipped = (stop: number) =>
      convert(
        apiGraph({
          '11': { class_type: 'CLIPSetLastLayer', inputs: { stop_at_clip_layer: stop, clip: ['4', 1] } },
          '6': { inputs: { clip: ['11', 0] } },
          '7': { inputs: { clip: ['11', 0] } },
        }),
      );
    const three = skipped(-3);
    if (!three.ok) throw new Error(three.message);
    expect(three.workflow.nodes['6']?.params).toMatchObject({ clipSkip: 1, weighting: 'comfy' });
    expect(entry(three, '11')?.notes).toContain('stop_at_clip_layer -3 -> clipSkip 1 on the prompts that use it');
    const two = skipped(-2);
    if (!two.ok) throw new Error(two.message);
    expect(two.workflow.nodes['6']?.params).not.toHaveProperty('clipSkip');
    const last = skipped(-1);
    expect(entry(last, '11')).toMatchObject({ status: 'unmapped' });
    expect(entry(last, '11')?.reason).toMatch(/"stop_at_clip_layer" is -1/);
  });

  it('maps image to image and inpainting: LoadImage (and its alpha mask), VAEEncode at the mean, SetLatentNoiseMask', () => {
    const r = converted(
      apiGraph({
        '10': { class_type: 'LoadImage', inputs: { image: 'cat.png [input]', upload: 'image' } },
        '11': { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } },
        '12': { class_type: 'SetLatentNoiseMask', inputs: { samples: ['11', 0], mask: ['10', 1] } },
        '3': { inputs: { latent_image: ['12', 0], denoise: 0.5 } },
        '5': null,
      }),
    );
    expect(r.workflow.nodes['10']).toEqual({
      type: 'loadImage',
      params: { file: 'cat.png', fit: 'none', alpha: 'ignore' },
      inputs: {},
    });
    expect(r.workflow.nodes['10_mask']).toEqual({
      type: 'loadMask',
      params: { file: 'cat.png', channel: 'alpha' },
      inputs: {},
    });
    expect(r.workflow.nodes['11']).toEqual({
      type: 'vaeEncode',
      params: { sampling: 'mode' },
      inputs: { vae: { node: '4', output: 'vae' }, image: { node: '10', output: 'image' } },
    });
    expect(r.workflow.nodes['12']?.inputs).toEqual({
      latent: { node: '11', output: 'latent' },
      mask: { node: '10_mask', output: 'mask' },
    });
    expect(r.workflow.nodes['3']?.inputs.latent).toEqual({ node: '12', output: 'latent' });
    expect(r.workflow.nodes['3']?.params).toMatchObject({ steps: 40, denoise: 0.5 });
    // Without a use of its MASK output, LoadImage makes no Load Mask.
    const plain = converted(
      apiGraph({
        '10': { class_type: 'LoadImage', inputs: { image: 'cat.png' } },
        '11': { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } },
        '3': { inputs: { latent_image: ['11', 0], denoise: 0.5 } },
        '5': null,
      }),
    );
    expect(Object.values(plain.workflow.nodes).map((node) => node.type)).not.toContain('loadMask');
  });

  it('makes a model name of any ckpt_name: Windows separators, brackets, leading dots', () => {
    expect(modelNameOf('SDXL\\juggernaut (v9)+.safetensors')).toBe('SDXL/juggernaut _v9__');
    expect(modelNameOf('.hidden/../base.ckpt')).toBe('hidden/base');
    expect(modelNameOf('model.fp16.safetensors')).toBe('model.fp16');
  });

  it('maps a zeroed negative (ConditioningZeroOut) to zero embeddings and refuses a zeroed positive', () => {
    const zeroNeg = converted(
      apiGraph({
        '11': { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['6', 0] } },
        '3': { inputs: { negative: ['11', 0] } },
        '7': null,
      }),
    );
    expect(zeroNeg.workflow.nodes['6']?.params).toEqual({
      prompt: 'a fox',
      negativePrompt: '',
      encodeEmptyNegative: false,
      weighting: 'comfy',
    });
    expect(entry(zeroNeg, '11')).toMatchObject({ status: 'mapped', to: ['6'] });
    const zeroPos = convert(
      apiGraph({
        '11': { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['6', 0] } },
        '3': { inputs: { positive: ['11', 0] } },
      }),
    );
    expect(zeroPos.ok).toBe(false);
    expect(entry(zeroPos, '3')?.reason).toBe('input "positive" is zeroed: sdflow zeroes only negatives');
  });

  it('maps CLIPTextEncodeSDXL, noting what it cannot carry', () => {
    const r = converted(
      apiGraph({
        '6': {
          class_type: 'CLIPTextEncodeSDXL',
          inputs: {
            clip: ['4', 1],
            width: 4096,
            height: 4096,
            crop_w: 0,
            crop_h: 0,
            target_width: 1024,
            target_height: 1024,
            text_g: 'a castle',
            text_l: 'watercolor',
          },
        },
      }),
    );
    expect(r.workflow.nodes['6']?.params).toMatchObject({ prompt: 'a castle' });
    expect(entry(r, '6')?.notes.join('\n')).toMatch(/text_l differs from text_g.*\n.*crop_w/);
  });

  it('maps denoise below 1 to the same steps run: steps / denoise at that strength', () => {
    const r = converted(apiGraph({ '3': { inputs: { steps: 10, denoise: 0.6 } } }));
    expect(r.workflow.nodes['3']?.params).toMatchObject({ steps: 16, denoise: 0.6 });
    expect(entry(r, '3')?.notes).toContain(
      "denoise 0.6 with 10 steps -> steps 16 at denoise 0.6 (diffusers' strength)",
    );
  });

  it('maps KSamplerAdvanced over the full range, and refuses a partial range or no added noise', () => {
    const advanced = (inputs: Record<string, unknown>) =>
      apiGraph({
        '3': {
          class_type: 'KSamplerAdvanced',
          inputs: {
            seed: undefined,
            denoise: undefined,
            add_noise: 'enable',
            noise_seed: 99,
            start_at_step: 0,
            end_at_step: 10000,
            return_with_leftover_noise: 'disable',
            ...inputs,
          },
        },
      });
    const full = converted(advanced({ sampler_name: 'euler_ancestral' }));
    expect(full.workflow.nodes['3']?.params).toEqual({
      steps: 20,
      cfg: 8,
      scheduler: 'euler_ancestral',
      seed: 99,
      denoise: 1,
    });
    expect(full.workflow.nodes['5']?.params).toMatchObject({ seed: 99 });
    const split = convert(advanced({ end_at_step: 16 }));
    expect(split.ok).toBe(false);
    expect(entry(split, '3')?.reason).toContain('"start_at_step"/"end_at_step" run steps 0-16 of 20');
    expect(entry(split, '8')?.reason).toBe(
      'input "samples" comes from 3 (KSamplerAdvanced), which could not be mapped',
    );
    expect(entry(convert(advanced({ add_noise: 'disable' })), '3')?.reason).toContain('"add_noise" is "disable"');
  });

  it('maps VAEDecodeTiled to tiled decoding, with ComfyUI’s overlap rule', () => {
    const r = converted(
      apiGraph({ '8': { class_type: 'VAEDecodeTiled', inputs: { tile_size: 256, overlap: 96, temporal_size: 64 } } }),
    );
    expect(r.workflow.nodes['8']?.params).toEqual({ tiling: true, tileSize: 256, tileOverlap: 64 });
  });

  it('maps PreviewImage to Save Image and cleans a prefix with a folder and tokens', () => {
    const r = converted(
      apiGraph({
        '9': { inputs: { filename_prefix: 'portraits/%date:yyyy-MM-dd%_fox' } },
        '10': { class_type: 'PreviewImage', inputs: { images: ['8', 0] } },
      }),
    );
    expect(r.workflow.nodes['9']?.params).toEqual({ filenamePrefix: 'fox' });
    expect(entry(r, '9')?.notes).toEqual(['filename_prefix "portraits/%date:yyyy-MM-dd%_fox" -> filenamePrefix "fox"']);
    expect(r.workflow.nodes['10']).toMatchObject({ type: 'saveImage', params: { filenamePrefix: 'ComfyUI_preview' } });
    expect(entry(r, '10')?.notes[0]).toContain('no temporary previews');
  });

  it('folds primitive nodes and { __value__ } literals into params', () => {
    const r = converted({
      prompt: apiGraph({
        '12': { class_type: 'PrimitiveInt', inputs: { value: 1234 } },
        '3': { inputs: { seed: ['12', 0] } },
        '6': { inputs: { text: { __value__: 'wrapped' } } },
      }),
    });
    expect(r.workflow.nodes['3']?.params).toMatchObject({ seed: 1234 });
    expect(r.workflow.nodes['6']?.params).toMatchObject({ prompt: 'wrapped' });
    expect(entry(r, '12')).toMatchObject({ status: 'mapped', to: ['5', '3'] });
  });

  it('makes one Encode Prompt for a prompt pair two samplers share, and an Empty Latent per seed', () => {
    const r = converted(
      apiGraph({
        '13': { class_type: 'KSampler', inputs: { ...apiGraph()['3']!.inputs, seed: 6 } },
        '14': { class_type: 'VAEDecode', inputs: { samples: ['13', 0], vae: ['4', 2] } },
        '15': { class_type: 'SaveImage', inputs: { filename_prefix: 'second', images: ['14', 0] } },
      }),
    );
    const types = Object.entries(r.workflow.nodes).map(([id, n]) => `${id}:${n.type}`);
    expect(types.filter((t) => t.endsWith('encodePrompt'))).toEqual(['6:encodePrompt']);
    expect(types.filter((t) => t.endsWith('emptyLatent'))).toEqual(['5:emptyLatent', '5_2:emptyLatent']);
    expect(r.workflow.nodes['13']?.inputs.latent).toEqual({ node: '5_2', output: 'latent' });
    expect(r.workflow.ui?.nodes['5_2']).not.toEqual(r.workflow.ui?.nodes['5']);
  });

  it('names the ComfyUI input when a value is out of sdflow’s range', () => {
    const r = convert(apiGraph({ '3': { inputs: { steps: 2000 } } }));
    expect(r.ok).toBe(false);
    expect(entry(r, '3')?.reason).toMatch(/^input "steps" = 2000: .*\(sdflow unetDenoise\.steps\)$/);
  });
});

describe('what has no counterpart', () => {
  const withLora = () =>
    apiGraph({
      '10': {
        class_type: 'LoraLoader',
        inputs: { model: ['4', 0], clip: ['4', 1], lora_name: 'x.safetensors', strength_model: 1, strength_clip: 1 },
      },
      '3': { inputs: { model: ['10', 0] } },
    });

  it('reports an unknown node by type and id, with everything that depended on it, and fails with no output left', () => {
    const r = convert(withLora());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('10 (LoraLoader): no counterpart in sdflow yet');
    expect(entry(r, '10')).toMatchObject({ status: 'unmapped', reason: 'no counterpart in sdflow yet' });
    expect(entry(r, '3')?.reason).toBe('input "model" comes from 10 (LoraLoader), which could not be mapped');
    expect(entry(r, '9')?.status).toBe('unmapped');
    expect(entry(r, '6')).toMatchObject({ status: 'skipped', reason: 'used only by nodes that could not be mapped' });
  });

  it('still converts the branches that map, and lists unconnected nodes', () => {
    const r = converted(
      apiGraph({
        ...withLora(),
        '3': { inputs: { model: ['10', 0] } },
        '20': { class_type: 'KSampler', inputs: { ...apiGraph()['3']!.inputs } },
        '21': { class_type: 'VAEDecode', inputs: { samples: ['20', 0], vae: ['4', 2] } },
        '22': { class_type: 'SaveImage', inputs: { filename_prefix: 'plain', images: ['21', 0] } },
        '30': { class_type: 'ControlNetLoader', inputs: { control_net_name: 'canny.safetensors' } },
        '31': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
      }),
    );
    expect(Object.keys(r.workflow.nodes).sort()).toEqual(['20', '21', '22', '4', '5', '6'].sort());
    expect(entry(r, '30')).toMatchObject({ status: 'unmapped', reason: 'no counterpart in sdflow yet' });
    expect(entry(r, '31')?.reason).toBe('not connected to an output: ComfyUI would not run it either');
    expect(entry(r, '9')?.status).toBe('unmapped');
  });

  it('says so when the file has no output node', () => {
    const r = convert(apiGraph({ '9': null }));
    expect(r.ok ? '' : r.message).toBe('nothing to run: the ComfyUI test has no SaveImage or PreviewImage node');
  });
});

/** The default graph in editor format, built from the API graph: positional widgets, links by id. */
function uiDoc(mutate: (nodes: Record<string, unknown>[], links: unknown[][]) => void = () => {}) {
  const doc = JSON.parse(JSON.stringify(fixture('sdxl-text-to-image.ui.json'))) as {
    nodes: Record<string, unknown>[];
    links: unknown[][];
  };
  mutate(doc.nodes, doc.links);
  return doc;
}
const uiNode = (nodes: Record<string, unknown>[], id: number) => nodes.find((n) => n.id === id)!;

describe('the editor format', () => {
  it('reads seeds with and without the control value (older files store `true`), and named widgets', () => {
    for (const widgets of [
      [11, 25, 7, 'dpmpp_2m', 'karras', 1],
      [11, true, 25, 7, 'dpmpp_2m', 'karras', 1],
      { seed: 11, steps: 25, cfg: 7, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1 },
    ]) {
      const r = converted(uiDoc((nodes) => (uiNode(nodes, 3).widgets_values = widgets)));
      expect(r.workflow.nodes['3']?.params).toMatchObject({ seed: 11, steps: 25, cfg: 7 });
    }
  });

  it('follows reroutes and bypassed nodes, leaves muted ones out, and takes values fed by a PrimitiveNode', () => {
    const r = converted(
      uiDoc((nodes, links) => {
        // 4 -MODEL-> 20 (Reroute) -> 21 (LoraLoader, bypassed) -> 3
        nodes.push(
          {
            id: 20,
            type: 'Reroute',
            mode: 0,
            inputs: [{ name: '', type: '*', link: 20 }],
            outputs: [{ type: 'MODEL' }],
          },
          {
            id: 21,
            type: 'LoraLoader',
            mode: 4,
            inputs: [
              { name: 'model', type: 'MODEL', link: 21 },
              { name: 'clip', type: 'CLIP', link: null },
            ],
            outputs: [{ type: 'MODEL' }, { type: 'CLIP' }],
            widgets_values: ['x.safetensors', 1, 1],
          },
          { id: 22, type: 'PrimitiveNode', mode: 0, outputs: [{ type: 'INT' }], widgets_values: [777, 'fixed'] },
          { id: 24, type: 'PrimitiveNode', mode: 0, outputs: [{ type: 'STRING' }], widgets_values: ['a cat'] },
          { id: 23, type: 'LatentUpscale', mode: 2, inputs: [{ name: 'samples', type: 'LATENT', link: 23 }] },
        );
        links.push([20, 4, 0, 20, 0, 'MODEL'], [21, 20, 0, 21, 0, 'MODEL'], [22, 21, 0, 3, 0, 'MODEL']);
        links.push([24, 22, 0, 3, 4, 'INT'], [23, 3, 0, 23, 0, 'LATENT'], [25, 24, 0, 6, 1, 'STRING']);
        // As the frontend saves a widget turned into an input: the widget's value stays in widgets_values.
        const text = uiNode(nodes, 6);
        (text.inputs as Record<string, unknown>[]).push({
          name: 'text',
          type: 'STRING',
          link: 25,
          widget: { name: 'text' },
        });
        text.widgets_values = ['a cat'];
        text.title = 'Positive';
        const k = uiNode(nodes, 3);
        (k.inputs as Record<string, unknown>[])[0]!.link = 22;
        (k.inputs as Record<string, unknown>[]).push({ name: 'seed', type: 'INT', link: 24, widget: { name: 'seed' } });
        k.widgets_values = [777, 'fixed', 25, 7, 'dpmpp_2m', 'karras', 1];
      }),
    );
    expect(r.workflow.nodes['3']?.inputs.unet).toEqual({ node: '4', output: 'unet' });
    expect(r.workflow.nodes['3']?.params).toMatchObject({ seed: 777 });
    expect(r.workflow.nodes['6']).toMatchObject({ params: { prompt: 'a cat' } });
    expect(r.workflow.nodes['6']?.title).toBeUndefined();
    expect(entry(r, '20')?.reason).toContain('reroute');
    expect(entry(r, '21')).toMatchObject({ status: 'skipped', comfyType: 'LoraLoader' });
    expect(entry(r, '21')?.reason).toContain('bypassed');
    expect(entry(r, '23')?.reason).toContain('muted');
  });

  it('reads schema 1 (links as objects) and positions saved as { 0, 1 } objects', () => {
    const doc = uiDoc((nodes) => (uiNode(nodes, 3).pos = { 0: 5, 1: 6 }));
    const v1 = {
      ...doc,
      version: 1,
      links: doc.links.map(([id, origin_id, origin_slot, target_id, target_slot, type]) => ({
        id,
        origin_id,
        origin_slot,
        target_id,
        target_slot,
        type,
      })),
    };
    const r = converted(v1);
    expect(r.workflow.nodes).toEqual(expectedTwinNodes);
    expect(r.workflow.ui?.nodes['3']).toEqual({ x: 5, y: 6 });
  });

  it('keeps titles set in the editor on the node they map to', () => {
    const r = converted(uiDoc((nodes) => (uiNode(nodes, 3).title = 'KSampler - BASE')));
    expect(r.workflow.nodes['3']?.title).toBe('KSampler - BASE');
    expect(converted(fixture('sdxl-text-to-image.api.json')).workflow.nodes['4']?.title).toBeUndefined();
  });

  it('reports a subgraph instance by its name', () => {
    const r = convert(
      uiDoc((nodes) => {
        nodes.push({ id: 40, type: 'ab-12', mode: 0, inputs: [], outputs: [] });
      }),
    );
    const doc = uiDoc((nodes) => nodes.push({ id: 40, type: 'ab-12', mode: 0 }));
    const withDefs = convert({ ...doc, definitions: { subgraphs: [{ id: 'ab-12', name: 'Upscale' }] } });
    expect(entry(r, '40')?.reason).toBe('no counterpart in sdflow yet');
    expect(entry(withDefs, '40')?.reason).toContain('an instance of the subgraph "Upscale"');
  });
});

describe('ComfyUI PNG text', () => {
  const api = JSON.stringify(fixture('sdxl-text-to-image.api.json'));
  const ui = JSON.stringify(fixture('sdxl-text-to-image.ui.json'));

  it('converts the prompt, laid out as the workflow saved beside it', () => {
    const r = importPngText({ prompt: api, workflow: ui }, ['workflow']);
    if (!r.ok) throw new Error(r.message);
    expect((r.document as Workflow).nodes).toEqual(expectedTwinNodes);
    expect((r.document as Workflow).ui?.nodes['3']).toEqual({ x: 860, y: 180 });
    expect(r.report?.source).toBe('PNG "prompt" text, laid out as its "workflow"');
    expect(r.report?.entries.find((e) => e.comfyId === '10')?.comfyType).toBe('MarkdownNote');
  });

  it('converts the workflow alone, passes an sdflow workflow through, and says when there is none', () => {
    const fromUi = importPngText({ workflow: ui }, ['workflow']);
    expect(fromUi.ok && (fromUi.document as Workflow).nodes).toEqual(expectedTwinNodes);
    const sdflow = { version: 1, nodes: {} };
    expect(importPngText({ workflow: JSON.stringify(sdflow) }, ['workflow'])).toEqual({ ok: true, document: sdflow });
    expect(importPngText({ parameters: 'a1111' }, ['workflow'])).toMatchObject({ ok: false, code: 'noWorkflow' });
    expect(importPngText({ workflow: '{' }, ['workflow'])).toMatchObject({ ok: false, code: 'badWorkflowText' });
  });
});
