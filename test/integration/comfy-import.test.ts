import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComfyImportReport } from '@sdflow/nodes/comfy/report.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, finished } from './helpers/api.ts';
import { sdflow } from './helpers/cli.ts';
import { comfyApiText, comfyPng, comfyUiText, TINY_SETS } from './helpers/comfy-files.ts';
import { makeDirs, type ServerProcess, startServer } from './helpers/server-process.ts';

// ComfyUI's files run on the tiny model: the SDXL text-to-image workflow in the editor format, its API-format
// twin and a PNG made as ComfyUI's SaveImage makes them, through the real CLI (`sdflow run`, report on stderr)
// and the real server (POST /api/workflow-from-png, then a run).

/** The report line of a mapped ComfyUI node (the API format adds the node's title). */
const mappedTo = (stderr: string, comfy: string): string | undefined =>
  stderr
    .split('\n')
    .find((l) => l.startsWith(`  mapped      ${comfy}`))
    ?.replace(/^.* -> /, '');

describe('ComfyUI files on the tiny model', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let files: { ui: string; api: string; png: string };

  beforeAll(async () => {
    dirs = await makeDirs();
    files = {
      ui: path.join(dirs.root, 'sdxl.json'),
      api: path.join(dirs.root, 'sdxl_api.json'),
      png: path.join(dirs.root, 'ComfyUI_00001_.png'),
    };
    await writeFile(files.ui, comfyUiText());
    await writeFile(files.api, comfyApiText());
    await writeFile(files.png, await comfyPng());
  });
  afterAll(async () => {
    await dirs?.remove();
  });

  const run = (file: string, out: string) =>
    sdflow([
      'run',
      file,
      '--out',
      path.join(dirs.output, out),
      '--models',
      dirs.models,
      '--cache',
      dirs.cache,
      '--device',
      'cpu',
      ...TINY_SETS.flatMap((s) => ['--set', s]),
    ]);

  it('sdflow validate reads the editor format and prints the mapping report on stderr', async () => {
    const r = await sdflow(['validate', files.ui, '--models', dirs.models]);
    // The checkpoint the ComfyUI file names is not in this models folder: said by name, with what is there.
    expect(r.stdout).toMatch(/node "4" \(loadModel\): param "model": no model "sd_xl_base_1\.0".*"tiny"/);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('ComfyUI editor workflow (sdxl.json): 7 node(s) mapped, 0 not mapped, 1 skipped');
    expect(lines).toEqual(expect.arrayContaining(['  mapped      3 KSampler -> "5", "3"']));
    expect(r.stderr).toContain('ckpt_name "sd_xl_base_1.0.safetensors" -> model "sd_xl_base_1.0"');
    expect(r.stderr).toContain('10 MarkdownNote: kept as the note note-10');
  });

  for (const [label, key] of [
    ['the editor format', 'ui'],
    ['the API format', 'api'],
    ['a ComfyUI PNG', 'png'],
  ] as const) {
    it(`sdflow run runs ${label} with the model and size overridden by the ids the report lists`, async () => {
      const r = await run(files[key], key);
      if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stderr}`);
      expect(mappedTo(r.stderr, '4 CheckpointLoaderSimple')).toBe('"4"');
      expect(mappedTo(r.stderr, '3 KSampler')).toBe('"5", "3"');
      expect(mappedTo(r.stderr, '9 SaveImage')).toBe('"9"');
      const written = await readdir(path.join(dirs.output, key));
      expect(written.filter((f) => f.startsWith('lighthouse') && f.endsWith('.png'))).toHaveLength(1);
    });
  }

  it('refuses a file whose outputs cannot be mapped, naming the ComfyUI node and type', async () => {
    const doc = JSON.parse(comfyApiText()) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    doc['10'] = { class_type: 'LatentUpscale', inputs: { samples: ['3', 0], upscale_method: 'nearest-exact' } };
    doc['8']!.inputs.samples = ['10', 0];
    const file = path.join(dirs.root, 'upscale_api.json');
    await writeFile(file, JSON.stringify(doc));
    const r = await sdflow(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('  not mapped  10 LatentUpscale: no counterpart in sdflow yet');
    expect(r.stdout).toContain('no output node of the ComfyUI upscale_api.json could be mapped');
    expect(r.stdout).toContain('9 (SaveImage): input "images" comes from 8 (VAEDecode), which could not be mapped');
  });

  describe('through the server', () => {
    let server: ServerProcess;
    let api: Api;
    let watcher: TestClient;
    beforeAll(async () => {
      server = await startServer(dirs);
      api = new Api(server.url);
      watcher = await TestClient.connect(api.wsUrl);
    });
    afterAll(async () => {
      await watcher?.close();
      await server?.stop();
    });

    it('POST /api/workflow-from-png converts a ComfyUI PNG and answers the report; the workflow runs', async () => {
      const res = await api.fetch('/api/workflow-from-png', {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: await comfyPng(),
      });
      expect(res.status).toBe(200);
      const { workflow, report } = (await res.json()) as { workflow: Workflow; report: ComfyImportReport };
      expect(report.format).toBe('api');
      expect(report.source).toBe('PNG "prompt" text, laid out as its "workflow"');
      expect(report.entries.filter((e) => e.status === 'mapped').map((e) => `${e.comfyId} ${e.comfyType}`)).toEqual([
        '3 KSampler',
        '4 CheckpointLoaderSimple',
        '5 EmptyLatentImage',
        '6 CLIPTextEncode',
        '7 CLIPTextEncode',
        '8 VAEDecode',
        '9 SaveImage',
      ]);
      expect(workflow.ui?.nodes['3']).toEqual({ x: 860, y: 180 });
      workflow.nodes['4']!.params.model = 'tiny';
      Object.assign(workflow.nodes['5']!.params, { width: 32, height: 32 });
      workflow.nodes['3']!.params.steps = 2;
      const runId = await api.queue(workflow);
      const end = await finished(watcher, runId).catch((err) => {
        throw new Error(`${err}\nserver log:\n${server.logs()}`);
      });
      expect(end.files).toEqual([expect.stringMatching(/^lighthouse.*\.png$/)]);
    });
  });
});
