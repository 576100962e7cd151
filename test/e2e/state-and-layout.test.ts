import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing } from './support/browser.ts';
import { byTestId, docCounts, galleryFiles, openDocument } from './support/editor-page.ts';
import { connectionIs, type EditorSession, openEditorSession } from './support/editor-session.ts';
import { type ExampleDoc, loadExample, missingLatent } from './support/example-workflow.ts';
import { cutLabels, nodesOutsideCanvas, overlappingNodes, rectOf, widgetsOutsideNodes } from './support/layout.ts';

// What a new user ran into (issue 17): stale run state after reloads, a gallery listing files twice, widgets
// sticking out of nodes, previews growing nodes over their neighbours, examples opening off-screen, a cut
// node search, a wrapping toolbar. Real runtime, real chromium, 1280x800 unless said.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const example = await loadExample(repoRoot);

let s: EditorSession;
beforeAll(async () => {
  s = await openEditorSession(repoRoot);
});
afterAll(async () => {
  await s?.close();
});

const nodeStatus = (id: string) => s.page.locator(byTestId(`node-${id}`)).getAttribute('data-status');
const queueText = () => s.page.locator(byTestId('queue-count')).textContent();

async function statuses(): Promise<Record<string, string>> {
  return (await s.page.evaluate(
    `Object.fromEntries([...document.querySelectorAll('.sd-node')].map((n) => [n.getAttribute('data-testid').slice(5), n.getAttribute('data-status')]))`,
  )) as Record<string, string>;
}

async function serverFiles(): Promise<string[]> {
  const res = await fetch(`${s.runtime.url}/api/outputs`);
  return ((await res.json()) as { files: { name: string }[] }).files.map((f) => f.name);
}

async function reload(): Promise<void> {
  await s.page.reload();
  await s.page.locator(byTestId('palette-item-loadModel')).waitFor();
  await connectionIs(s.page, 'open');
}

describe.skipIf(browserMissing)('state and layout', () => {
  it('a fresh browser opens the text-to-image example, fitted and ready to run', async () => {
    await expect.poll(() => docCounts(s.page)).toEqual({ nodes: 6, edges: 8 });
    expect(await s.page.locator(byTestId('doc-name-input')).inputValue()).toBe('Text to image');
    await expect.poll(() => nodesOutsideCanvas(s.page)).toEqual([]);
    await s.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('opens every example and seed workflow fitted to the canvas at 1280x800, none under the toolbar', async () => {
    const { page } = s;
    const names = (await page.locator(`${byTestId('examples')} option`).allTextContents()).slice(1);
    expect(names.length).toBeGreaterThanOrEqual(5);
    const seeds = (await readdir(path.join(repoRoot, 'workflows/seed'))).filter((f) => f.endsWith('.workflow.json'));
    const toolbar = await rectOf(page, byTestId('toolbar'));
    const open = async (name: string) => {
      if (names.includes(name)) {
        await page.locator(byTestId('examples')).selectOption(name);
        return;
      }
      const doc = JSON.parse(await readFile(path.join(repoRoot, 'workflows/seed', name), 'utf8')) as ExampleDoc;
      await openDocument(page, s.runtime.dirs.root, name, doc);
    };
    for (const name of [...names, ...seeds]) {
      await page.locator(byTestId('btn-new')).click();
      await expect.poll(() => docCounts(page)).toMatchObject({ nodes: 0 });
      await open(name);
      await expect.poll(async () => (await docCounts(page)).nodes).toBeGreaterThan(0);
      // The second fit (after the nodes are measured) lands within half a second.
      await page.waitForTimeout(500);
      // Inside the canvas, which starts below the toolbar.
      expect({ name, outside: await nodesOutsideCanvas(page) }).toEqual({ name, outside: [] });
      expect((await rectOf(page, '.react-flow__node-sdflow')).y).toBeGreaterThan(toolbar.y + toolbar.height);
    }
  });

  it('keeps every widget inside its node, and every label readable whole', async () => {
    const { page } = s;
    await page.locator(byTestId('examples')).selectOption('text-to-image');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.waitForTimeout(500);
    expect(await widgetsOutsideNodes(page)).toEqual([]);
    expect(await cutLabels(page)).toEqual([]);
    // The model picker names the built-in test model in full on hover.
    expect(await page.locator(byTestId('input-model-model')).getAttribute('title')).toMatch(/^Built-in test model/);
    await s.shot('30-example-fitted-1280');
  });

  it('after a failure, a fix, runs and reloads, the nodes show only what the server knows now', async () => {
    const { page } = s;
    await openDocument(
      page,
      s.runtime.dirs.root,
      'missing.workflow.json',
      example((d) => missingLatent(d)),
    );
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 7 });
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(() => nodeStatus('latent'), { timeout: 120_000 }).toBe('failed');
    // Reloaded: the failure is the server's latest word on this graph; nodes that never ran are not "queued".
    await reload();
    await expect.poll(() => nodeStatus('latent')).toBe('failed');
    let shown = await statuses();
    expect(Object.values(shown).filter((st) => st === 'queued')).toEqual([]);
    // Fixed: the error described a file the node no longer reads, here and after a reload.
    await page.locator(byTestId('input-latent-file')).fill('other.safetensors');
    await page.locator(byTestId('input-latent-file')).blur();
    await expect.poll(() => nodeStatus('latent')).toBe('idle');
    await reload();
    await page.waitForTimeout(500);
    shown = await statuses();
    expect(Object.values(shown).filter((st) => st === 'failed' || st === 'queued')).toEqual([]);

    await page.locator(byTestId('examples')).selectOption('text-to-image');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(() => nodeStatus('denoise'), { timeout: 120_000 }).toBe('done');
    await expect.poll(queueText, { timeout: 30_000 }).toBe('idle');
    // Again with the same seed: all cached; Save Image reports the file it wrote before.
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(() => nodeStatus('denoise'), { timeout: 60_000 }).toBe('cached');
    await reload();
    const res = await fetch(`${s.runtime.url}/api/history?limit=1`);
    const [last] = ((await res.json()) as { runs: { nodeStates: Record<string, { status: string }> }[] }).runs;
    const expected = Object.fromEntries(
      Object.entries(last!.nodeStates).map(([id, st]) => [id, st.status === 'finished' ? 'done' : st.status]),
    );
    await expect.poll(statuses).toEqual(expected);
    shown = await statuses();
    expect(Object.values(shown)).not.toContain('failed');

    // The gallery: the server's files, each once, newest first, after runs (one cached) and reloads.
    const files = await serverFiles();
    expect(files.length).toBeGreaterThan(0);
    await expect.poll(() => galleryFiles(page)).toEqual(files);
    await reload();
    await expect.poll(() => galleryFiles(page)).toEqual(files);
  });

  it('makes room when a preview grows a node: no two nodes overlap after a run with previews', async () => {
    const { page } = s;
    // Save Image right under UNet Denoise, where the preview grows it.
    const doc = example();
    doc.ui.nodes.save = { x: 760, y: 500 };
    doc.nodes.denoise!.params.seed = 7;
    await openDocument(page, s.runtime.dirs.root, 'stacked.workflow.json', doc);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.waitForTimeout(500);
    expect(await overlappingNodes(page)).toEqual([]);
    await page.locator(byTestId('btn-run')).click();
    await page.locator(byTestId('preview-denoise')).waitFor({ timeout: 120_000 });
    await expect.poll(() => nodeStatus('save'), { timeout: 120_000 }).toBe('done');
    await page.waitForTimeout(300);
    expect(await overlappingNodes(page)).toEqual([]);
    await s.shot('31-preview-made-room');
  });

  it('says "running" (not "1 in queue") while the only run executes, with progress, it/s and ETA', async () => {
    const { page } = s;
    const doc = example();
    // Long enough, at any machine's speed, to still be running when Stop is pressed.
    doc.nodes.denoise!.params.steps = 1000;
    Object.assign(doc.nodes.latent!.params, { width: 512, height: 512 });
    await openDocument(page, s.runtime.dirs.root, 'long.workflow.json', doc);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('btn-run')).click();
    await page.locator(byTestId('progress-denoise')).waitFor({ timeout: 60_000 });
    const progress = page.locator(byTestId('run-progress'));
    await expect
      .poll(() => progress.textContent(), { timeout: 30_000 })
      .toMatch(/^\d+% · \d+\/1000 · [\d.]+ it\/s · ETA \d/);
    // All of it readable at 1280 px: not cut by the toolbar.
    const cut = `(() => { const t = document.querySelector('.run-progress-text'); return t.scrollWidth > t.clientWidth; })()`;
    expect(await page.evaluate(cut)).toBe(false);
    expect(await queueText()).toBe('running');
    const percent = Number(await progress.getAttribute('data-percent'));
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThan(100);
    await s.shot('32-toolbar-progress');
    await page.locator(byTestId('btn-interrupt')).click();
    await expect.poll(queueText, { timeout: 30_000 }).toBe('idle');
    await expect.poll(() => progress.count()).toBe(0);
  });

  it('resets seed modes when another workflow opens', async () => {
    const { page } = s;
    const mode = page.locator(byTestId('input-latent-seed-mode'));
    await mode.click();
    await expect.poll(() => mode.getAttribute('data-mode')).toBe('randomize');
    await page.locator(byTestId('examples')).selectOption('text-to-image');
    await expect.poll(() => mode.getAttribute('data-mode')).toBe('fixed');
  });

  it('keeps the node search whole near the bottom of the canvas; palette search lists name matches only', async () => {
    const { page } = s;
    const canvas = await rectOf(page, byTestId('canvas'));
    await page.mouse.dblclick(canvas.x + canvas.width / 2, canvas.y + canvas.height - 20);
    const search = page.locator(byTestId('node-search'));
    await search.waitFor();
    const box = await rectOf(page, byTestId('node-search'));
    expect(box.y + box.height).toBeLessThanOrEqual(canvas.y + canvas.height);
    await page.keyboard.press('Escape');
    await page.locator(byTestId('palette-search')).fill('decode');
    const listed = await page.$$eval('[data-testid^="palette-item-"]', (els) =>
      els.map((e) => e.getAttribute('data-testid')),
    );
    expect(listed).toEqual(['palette-item-vaeDecode', 'palette-item-tinyVaeDecode']);
    await page.locator(byTestId('palette-search')).fill('');
  });

  it('keeps the toolbar on one row at 1024x700; the focused fit-view button stays readable', async () => {
    const { page } = s;
    await page.setViewportSize({ width: 1024, height: 700 });
    const toolbar = await rectOf(page, byTestId('toolbar'));
    expect(toolbar.height).toBeLessThan(44);
    const rows = (await page.evaluate(`[...document.querySelectorAll('[data-testid="toolbar"] > *')].map((e) => {
      const r = e.getBoundingClientRect();
      return { mid: r.y + r.height / 2, right: r.x + r.width, w: r.width };
    })`)) as { mid: number; right: number; w: number }[];
    const visible = rows.filter((r) => r.w > 0);
    const mids = visible.map((r) => r.mid);
    expect(Math.max(...mids) - Math.min(...mids)).toBeLessThan(6);
    expect(Math.max(...visible.map((r) => r.right))).toBeLessThanOrEqual(toolbar.x + toolbar.width);
    await s.shot('33-toolbar-1024');

    await page.locator('.react-flow__controls-fitview').focus();
    const colours = (await page.evaluate(`(() => {
      const b = document.activeElement;
      return { bg: getComputedStyle(b).backgroundColor, icon: getComputedStyle(b.querySelector('svg')).fill };
    })()`)) as { bg: string; icon: string };
    expect(colours.bg).not.toMatch(/rgb\(2[45]\d, 2[45]\d, 2[45]\d\)/);
    expect(colours.icon).not.toBe(colours.bg);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("asked the runtime only for what it serves (no 404); /favicon.ico and the page's icon are served", async () => {
    expect(s.responses.filter((r) => r.endsWith(' 404'))).toEqual([]);
    const ico = await fetch(`${s.runtime.url}/favicon.ico`);
    expect([ico.status, ico.headers.get('content-type')]).toEqual([200, 'image/x-icon']);
    const href = await s.page.locator('link[rel="icon"]').getAttribute('href');
    expect((await fetch(new URL(href!, s.runtime.url))).status).toBe(200);
  });
});
