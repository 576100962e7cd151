import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport, sdflow } from './helpers/cli.ts';
import { makeDirs, repoRoot } from './helpers/server-process.ts';

// workflows/image-to-image.workflow.json through the real CLI on the tiny model: `sdflow run ... --input DIR`
// reads the picture from the input folder only, and a missing file fails the run naming the node and the file.

const WORKFLOW = path.join(repoRoot, 'workflows/image-to-image.workflow.json');
const INPAINTING = path.join(repoRoot, 'workflows/inpainting.workflow.json');

describe('image to image from the CLI (tiny model)', () => {
  let dirs: Awaited<ReturnType<typeof makeDirs>>;
  let input: string;

  beforeAll(async () => {
    dirs = await makeDirs();
    input = path.join(dirs.root, 'pictures');
    await mkdir(path.join(input, 'holiday'), { recursive: true });
    // 48x40: crop-center fits it to the workflow's 64x64
    const px = Buffer.alloc(48 * 40 * 3, 0).map((_, i) => (i * 7) % 256);
    await writeFile(
      path.join(input, 'holiday', 'beach.jpg'),
      await sharp(px, { raw: { width: 48, height: 40, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
    // RGBA: the right half transparent (to repaint)
    const rgba = Buffer.alloc(64 * 64 * 4, 0).map((_, i) => (i % 4 === 3 ? ((i >> 2) % 64 < 32 ? 255 : 0) : i % 251));
    await writeFile(
      path.join(input, 'boat.png'),
      await sharp(rgba, { raw: { width: 64, height: 64, channels: 4 } })
        .png()
        .toBuffer(),
    );
  });
  afterAll(async () => {
    await dirs?.remove();
  });

  const run = (out: string, file: string, workflow = WORKFLOW, sets: readonly string[] = []) =>
    sdflow([
      'run',
      workflow,
      '--out',
      path.join(dirs.output, out),
      '--models',
      dirs.models,
      '--cache',
      dirs.cache,
      '--input',
      input,
      '--device',
      'cpu',
      '--set',
      'model.model=tiny',
      '--set',
      'model.precision=fp32',
      '--set',
      'denoise.steps=4',
      '--set',
      `load.file=${file}`,
      ...sets.flatMap((s) => ['--set', s]),
    ]);

  it('runs the example workflow on a file in the input folder and saves a 64x64 PNG', async () => {
    const r = await run('ok', 'holiday/beach.jpg');
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const pngs = (await readdir(path.join(dirs.output, 'ok'))).filter((f) => f.endsWith('.png'));
    expect(pngs).toEqual(['image-to-image_00001_.png']);
    const meta = await sharp(path.join(dirs.output, 'ok', pngs[0]!)).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
    const report = await readReport<{ nodes: { id: string; status: string }[] }>(r.stdout);
    const status = Object.fromEntries(report.nodes.map((n) => [n.id, n.status]));
    expect(status).toMatchObject({ load: 'finished', encode: 'finished', denoise: 'finished', save: 'finished' });
  });

  it('fails naming the node and the file, relative to the input folder, when the file is not there', async () => {
    const r = await run('missing', 'nope.png');
    expect(r.code).toBe(1);
    const report = await readReport<{ failedNode?: string; error?: string }>(r.stdout);
    expect(report.failedNode).toBe('load');
    expect(report.error).toContain('no file "nope.png" in the input folder');
    expect(report.error).not.toContain(input);
  });

  it('runs the inpainting example: the picture and its alpha as the mask', async () => {
    const r = await run('inpaint', 'boat.png', INPAINTING, ['mask.file=boat.png']);
    expect(r.code).toBe(0);
    const report = await readReport<{ nodes: { id: string; status: string }[] }>(r.stdout);
    const status = Object.fromEntries(report.nodes.map((n) => [n.id, n.status]));
    expect(status).toMatchObject({ load: 'finished', mask: 'finished', setMask: 'finished', save: 'finished' });
    // without alpha: 'ignore', the picture's alpha is refused, naming the node's param
    const refused = await run('inpaint-alpha', 'boat.png', INPAINTING, ['mask.file=boat.png', 'load.alpha=error']);
    expect(refused.code).toBe(1);
    const failed = await readReport<{ failedNode?: string; error?: string }>(refused.stdout);
    expect(failed.failedNode).toBe('load');
    expect(failed.error).toContain('"boat.png" has an alpha channel');
  });
});
