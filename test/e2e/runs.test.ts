import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing } from './support/browser.ts';
import { byTestId, docCounts, galleryFiles, openDocument } from './support/editor-page.ts';
import { connectionIs, type EditorSession, openEditorSession } from './support/editor-session.ts';
import { type ExampleDoc, loadExample, MISSING_LATENT, missingLatent } from './support/example-workflow.ts';
import { startRuntime } from './support/runtime-process.ts';

// Runs from the editor against a real runtime (default model): queueing several, a failure inside a kernel,
// and the runtime going away and coming back on the same port.

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

/** The workflow Save Image embedded in an output PNG, as the runtime reads it back. */
async function workflowOf(png: Uint8Array): Promise<ExampleDoc> {
  const res = await fetch(`${s.runtime.url}/api/workflow-from-png`, { method: 'POST', body: png });
  expect(res.status).toBe(200);
  return ((await res.json()) as { workflow: ExampleDoc }).workflow;
}

async function outputPng(name: string): Promise<Uint8Array> {
  const res = await fetch(`${s.runtime.url}/api/outputs/${encodeURIComponent(name)}`);
  expect(res.ok).toBe(true);
  return new Uint8Array(await res.arrayBuffer());
}

describe.skipIf(browserMissing)('runs from the editor', () => {
  it('opens the example from the Examples menu, served by the runtime', async () => {
    await s.page.locator(byTestId('examples')).selectOption('text-to-image');
    await expect.poll(() => docCounts(s.page)).toEqual({ nodes: 6, edges: 8 });
    expect(s.responses).toContain('GET /api/workflows 200');
  });

  it('queues three runs with ×3: each draws its own random seed; three different images reach the gallery', async () => {
    const { page } = s;
    await openDocument(page, s.runtime.dirs.root, 'batch.workflow.json', example());
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const mode = page.locator(byTestId('input-latent-seed-mode'));
    await mode.click();
    await expect.poll(() => mode.getAttribute('data-mode')).toBe('randomize');
    // The most runs the queue counter ever showed at once.
    await page.evaluate(`(() => {
      window.__maxPending = 0;
      const read = () => {
        const m = /^(\\d+) queued/.exec(document.querySelector('[data-testid="queue-count"]')?.textContent ?? '');
        if (m) window.__maxPending = Math.max(window.__maxPending, Number(m[1]));
      };
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    const before = await galleryFiles(page);
    await page.locator(byTestId('batch-count')).fill('3');
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(async () => (await galleryFiles(page)).length, { timeout: 180_000 }).toBe(before.length + 3);
    await expect.poll(queueText, { timeout: 30_000 }).toBe('idle');
    expect(Number(await page.evaluate('window.__maxPending'))).toBeGreaterThanOrEqual(2);
    await s.shot('20-queued-three');

    const fresh = (await galleryFiles(page)).filter((f) => !before.includes(f));
    expect(fresh).toHaveLength(3);
    const pngs = await Promise.all(fresh.map(outputPng));
    const seeds = await Promise.all(pngs.map(async (png) => (await workflowOf(png)).nodes.latent!.params.seed));
    expect(new Set(seeds).size).toBe(3);
    const pixels = await Promise.all(pngs.map((png) => sharp(png).raw().toBuffer()));
    expect(pixels[0]!.equals(pixels[1]!) || pixels[1]!.equals(pixels[2]!) || pixels[0]!.equals(pixels[2]!)).toBe(false);
    // The document keeps the seed of the last run queued (the newest image), so saving reproduces it.
    expect(Number(await page.locator(byTestId('input-latent-seed')).inputValue())).toBe(seeds[0]);

    await page.locator(byTestId('batch-count')).fill('1');
    await mode.click();
    await expect.poll(() => mode.getAttribute('data-mode')).toBe('fixed');
  });

  it('a run failing inside a kernel marks the node failed, with the message on it', async () => {
    const { page } = s;
    await openDocument(
      page,
      s.runtime.dirs.root,
      'bad-width.workflow.json',
      // Valid for the schema (an integer ≥ 8), refused by the kernel: not a multiple of the VAE scale factor.
      // Valid for every check before queueing (the runtime now refuses a width that is not a multiple of 8 up
      // front); it fails inside the kernel, reading the file.
      example((d) => missingLatent(d)),
    );
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 7 });
    const before = await galleryFiles(page);
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(() => nodeStatus('latent'), { timeout: 120_000 }).toBe('failed');
    expect(await page.locator(byTestId('status-latent')).textContent()).toMatch(MISSING_LATENT);
    // Nothing after it ran, and nodes that never ran do not claim to be queued.
    await expect.poll(queueText).toBe('idle');
    for (const id of ['denoise', 'decode', 'save']) expect(await nodeStatus(id)).toBe('idle');
    expect(await galleryFiles(page)).toEqual(before);
    await s.shot('21-kernel-failure');
  });

  it('reconnects by itself after the runtime restarts on the same port; shows what it says of the lost run; a new run works', async (ctx) => {
    if (s.external) return ctx.skip();
    const { page } = s;
    await openDocument(
      page,
      s.runtime.dirs.root,
      'long.workflow.json',
      example((d) => {
        d.nodes.denoise!.params.steps = 1000;
        d.nodes.latent!.params.width = 256;
        d.nodes.latent!.params.height = 256;
      }),
    );
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('btn-run')).click();
    await page.locator(byTestId('progress-denoise')).waitFor({ timeout: 60_000 });

    // A crash mid-run: the process is gone without a word to the editor.
    const { port, dirs } = s.runtime;
    await s.runtime.kill('SIGKILL');
    await connectionIs(page, 'closed');
    await s.shot('22-runtime-gone');
    s.runtime = await startRuntime(repoRoot, { port, dirs });
    await connectionIs(page, 'open');
    // The editor shows what the new runtime says: a durable queue runs the lost run again (at least once), and
    // the editor follows it; a runtime that forgot it gets the run marked interrupted.
    const q = (await (await fetch(`${s.runtime.url}/api/queue`)).json()) as { running: unknown; queue: unknown[] };
    if (q.running || q.queue.length) {
      await expect.poll(() => nodeStatus('denoise'), { timeout: 60_000 }).toBe('running');
      await page.locator(byTestId('btn-interrupt')).click();
    }
    await expect.poll(() => nodeStatus('denoise'), { timeout: 30_000 }).toBe('interrupted');
    await expect.poll(queueText).toBe('idle');
    await s.shot('23-reconnected');

    await openDocument(page, dirs.root, 'after-restart.workflow.json', example());
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const before = await galleryFiles(page);
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(() => nodeStatus('save'), { timeout: 120_000 }).toBe('done');
    await expect.poll(async () => (await galleryFiles(page)).length).toBe(before.length + 1);
    const [newest] = await galleryFiles(page);
    expect((await workflowOf(await outputPng(newest!))).nodes.latent!.params.seed).toBe(42);
  });

  it('asked the runtime only for what it serves (no 404s)', () => {
    expect(s.responses.length).toBeGreaterThan(0);
    expect(s.responses.filter((r) => r.endsWith(' 404'))).toEqual([]);
  });
});
