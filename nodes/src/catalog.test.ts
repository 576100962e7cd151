import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalog } from './catalog.ts';
import { CatalogJson, catalogToJson } from './catalog-json.ts';
import { PORT_TYPES } from './port-types.ts';

describe('catalog', () => {
  it('holds every node type of the plan under its own type id', () => {
    expect(Object.keys(catalog).sort()).toEqual(
      [
        'cacheEmbeddings',
        'emptyLatent',
        'encodePrompt',
        'loadImage',
        'loadLatent',
        'loadMask',
        'loadModel',
        'loadTinyVae',
        'offloadPolicy',
        'saveImage',
        'saveLatent',
        'setLatentMask',
        'tinyVaeDecode',
        'unetDenoise',
        'vaeDecode',
        'vaeEncode',
      ].sort(),
    );
    for (const [key, { def }] of Object.entries(catalog)) expect(def.type).toBe(key);
  });

  it('gives every param a default or marks it required, and a description', () => {
    for (const { def } of Object.values(catalog)) {
      for (const [name, schema] of Object.entries(def.params.shape as Record<string, z.ZodType>)) {
        expect(z.globalRegistry.get(schema)?.description, `${def.type}.${name}`).toBeTruthy();
      }
      const required = z.toJSONSchema(def.params, { io: 'input' }).required ?? [];
      const parsed = def.params.safeParse({});
      expect(parsed.success, def.type).toBe(required.length === 0);
    }
    expect(z.toJSONSchema(catalog.loadLatent.def.params, { io: 'input' }).required).toEqual(['file']);
  });

  it('marks exactly the sinks as outputs', () => {
    const outputs = Object.values(catalog)
      .filter(({ def }) => def.isOutput)
      .map(({ def }) => def.type);
    expect(outputs.sort()).toEqual(['saveImage', 'saveLatent']);
    for (const { def } of Object.values(catalog)) {
      if (def.isOutput) expect(Object.keys(def.outputs)).toEqual([]);
    }
  });
});

describe('catalogToJson', () => {
  const json = catalogToJson(catalog);

  it('is plain JSON that the editor can parse back', () => {
    const round = CatalogJson.parse(JSON.parse(JSON.stringify(json)));
    expect(round).toEqual(json);
    expect(Object.keys(round.nodeTypes)).toEqual(Object.keys(catalog));
  });

  it('describes ports and params with widget hints', () => {
    const denoise = json.nodeTypes.unetDenoise!;
    expect(denoise.inputs.previewDecoder).toEqual({
      type: 'TAESD',
      optional: true,
      description: 'Tiny VAE for previewMethod "taesd".',
    });
    expect(Object.keys(denoise.inputs)).toEqual(['unet', 'conditioning', 'latent', 'previewDecoder']);
    const props = denoise.params.properties as Record<string, Record<string, unknown>>;
    expect(props.cfg).toMatchObject({
      type: 'number',
      minimum: 0,
      maximum: 100,
      default: 5,
      widget: 'slider',
      step: 0.1,
    });
    expect(props.scheduler).toMatchObject({
      // the first four keep their place; samplers are only ever added
      enum: [
        'euler',
        'euler_ancestral',
        'dpmpp_2m_karras',
        'ddim',
        'euler_karras',
        'euler_exponential',
        'euler_ancestral_karras',
        'euler_ancestral_exponential',
        'dpmpp_2m',
        'dpmpp_2m_exponential',
        'dpmpp_2m_sde',
        'dpmpp_2m_sde_karras',
        'lcm',
      ],
      default: 'euler',
    });
    expect(props.seed).toMatchObject({ type: 'integer', widget: 'seed' });
    const prompt = json.nodeTypes.encodePrompt!.params.properties as Record<string, Record<string, unknown>>;
    expect(prompt.prompt).toMatchObject({ type: 'string', widget: 'textarea' });
    const model = json.nodeTypes.loadModel!.params.properties as Record<string, Record<string, unknown>>;
    expect(model.model).toMatchObject({ widget: 'model', source: 'models', default: 'default' });
    for (const t of Object.values(json.nodeTypes)) {
      for (const p of [...Object.values(t.inputs), ...Object.values(t.outputs)]) expect(PORT_TYPES).toContain(p.type);
    }
  });

  it('has a version that is stable and follows the definitions', () => {
    expect(json.version).toMatch(/^[0-9a-f]{16}$/);
    expect(catalogToJson(catalog).version).toBe(json.version);
    const changed = { ...catalog, saveImage: { ...catalog.saveImage, def: { ...catalog.saveImage.def, version: 2 } } };
    expect(catalogToJson(changed).version).not.toBe(json.version);
  });
});

// The package is isomorphic: library files import only zod and each other (tsconfig.json, without DOM or
// Node types, checks the rest at compile time).
it('library files import nothing but zod and relative modules', () => {
  const root = fileURLToPath(new URL('.', import.meta.url));
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'),
  );
  expect(files.length).toBeGreaterThan(30);
  for (const file of files) {
    const source = readFileSync(`${root}${file}`, 'utf8');
    const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
    for (const s of specifiers)
      expect(s === 'zod' || s.startsWith('./') || s.startsWith('../'), `${file}: ${s}`).toBe(true);
  }
});
