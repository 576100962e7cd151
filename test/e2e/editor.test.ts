import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigWorkflow } from './support/big-workflow.ts';
import { browserMissing } from './support/browser.ts';
import {
  byTestId,
  connect,
  docCounts,
  dragEdge,
  dragFromPalette,
  dropFile,
  edgeCount,
  graphOf,
  nodeIds,
  saveWorkflow,
} from './support/editor-page.ts';
import { connectionIs, type EditorSession, openEditorSession } from './support/editor-session.ts';

// The editor in a real browser against a real runtime (default model): build, run, save/open, PNG drop, paste undo.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(repoRoot, 'test-artifacts/e2e');

let session: EditorSession;
let runtime: EditorSession['runtime'];
let page: Page;
let tmp: string;

beforeAll(async () => {
  session = await openEditorSession(repoRoot);
  runtime = session.runtime;
  page = session.page;
  tmp = runtime.dirs.root;
});

afterAll(async () => {
  await session?.close();
});

const BASE = JSON.parse(await readFile(path.join(repoRoot, 'workflows/text-to-image.workflow.json'), 'utf8')) as {
  nodes: Record<string, { type: string; inputs: Record<string, { node: string; output: string }> }>;
};

/** Edges as "type.output -> type.input", comparable across id schemes. */
function typedEdges(
  nodes: Record<string, { type: string; inputs: Record<string, { node: string; output: string }> }>,
): string[] {
  return Object.values(nodes)
    .flatMap((n) =>
      Object.entries(n.inputs).map(([input, ref]) => `${nodes[ref.node]?.type}.${ref.output} -> ${n.type}.${input}`),
    )
    .sort();
}

let saved: { json: Record<string, unknown>; path: string };

describe.skipIf(browserMissing)('editor e2e', () => {
  it('builds the base text-to-image workflow from an empty canvas by dragging and connecting; refuses a wrong edge', async () => {
    // A fresh browser opens the text-to-image example; New gives the empty canvas.
    await expect.poll(() => nodeIds(page)).toHaveLength(6);
    await page.locator(byTestId('btn-new')).click();
    await expect.poll(() => nodeIds(page)).toEqual([]);
    await dragFromPalette(page, 'loadModel', 40, 300);
    await dragFromPalette(page, 'encodePrompt', 340, 20);
    await dragFromPalette(page, 'emptyLatent', 340, 470);
    await dragFromPalette(page, 'unetDenoise', 640, 140);
    await dragFromPalette(page, 'vaeDecode', 940, 20);
    await dragFromPalette(page, 'saveImage', 940, 520);
    expect(await nodeIds(page)).toEqual([
      'emptyLatent_1',
      'encodePrompt_1',
      'loadModel_1',
      'saveImage_1',
      'unetDenoise_1',
      'vaeDecode_1',
    ]);

    // A UNET output dragged onto a CLIP input: refused while dragging, with the reason, and no edge made.
    await dragEdge(page, { node: 'loadModel_1', port: 'unet' }, { node: 'encodePrompt_1', port: 'clip' }, false);
    const refusal = page.locator(byTestId('connection-refusal'));
    await expect.poll(() => refusal.textContent()).toMatch(/UNET.*CLIP/);
    await session.shot('01-invalid-connection-refused');
    await page.mouse.up();
    expect(await edgeCount(page)).toBe(0);
    await expect.poll(() => refusal.count()).toBe(0);

    await connect(page, 'loadModel_1', 'clip', 'encodePrompt_1', 'clip');
    await connect(page, 'loadModel_1', 'vae', 'emptyLatent_1', 'vae');
    await connect(page, 'loadModel_1', 'unet', 'unetDenoise_1', 'unet');
    await connect(page, 'encodePrompt_1', 'conditioning', 'unetDenoise_1', 'conditioning');
    await connect(page, 'emptyLatent_1', 'latent', 'unetDenoise_1', 'latent');
    await connect(page, 'loadModel_1', 'vae', 'vaeDecode_1', 'vae');
    await connect(page, 'unetDenoise_1', 'latent', 'vaeDecode_1', 'latent');
    await connect(page, 'vaeDecode_1', 'image', 'saveImage_1', 'image');
    expect(await edgeCount(page)).toBe(8);

    // Sized for the built-in test model, as the example is.
    await page.locator(byTestId('input-encodePrompt_1-prompt')).fill('a lighthouse on a cliff');
    for (const [param, value] of [
      ['width', '64'],
      ['height', '64'],
    ] as const) {
      await page.locator(byTestId(`input-emptyLatent_1-${param}`)).fill(value);
      await page.locator(byTestId(`input-emptyLatent_1-${param}`)).press('Enter');
    }
    await page.locator(byTestId('input-unetDenoise_1-steps')).fill('8');
    await page.locator(byTestId('input-unetDenoise_1-steps')).press('Enter');
    await page.locator(byTestId('btn-fit')).click();
    await session.shot('02-built-text-to-image');

    saved = await saveWorkflow(page);
    const nodes = saved.json.nodes as typeof BASE.nodes;
    expect(typedEdges(nodes)).toEqual(typedEdges(BASE.nodes));
    expect((nodes.emptyLatent_1 as unknown as { params: Record<string, unknown> }).params).toMatchObject({
      width: 64,
      height: 64,
    });
  });

  it('runs it: progress and a preview appear on the denoise node, then the image in the gallery', async () => {
    // Record what was ever rendered: the run may be faster than a screenshot.
    await page.evaluate(`(() => {
      const seen = { progress: false, preview: false };
      window.__seen = seen;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="progress-unetDenoise_1"]')) seen.progress = true;
        if (document.querySelector('[data-testid="preview-unetDenoise_1"]')) seen.preview = true;
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    })()`);
    await page.locator(byTestId('btn-run')).click();
    // Screenshot the progress if it is still on screen when we look (the first run also builds the model).
    const progress = page.locator(byTestId('progress-unetDenoise_1'));
    const done = page.locator(`${byTestId('node-saveImage_1')}[data-status="done"]`);
    await Promise.race([progress.waitFor({ timeout: 180_000 }), done.waitFor({ timeout: 180_000 })]);
    if (await progress.count()) await session.shot('03-running-progress');
    await page.locator(byTestId('gallery-item')).first().waitFor({ timeout: 180_000 });
    const seen = await page.evaluate('window.__seen');
    expect(seen).toEqual({ progress: true, preview: true });
    await expect.poll(() => page.locator(byTestId('node-saveImage_1')).getAttribute('data-status')).toBe('done');
    await expect(page.locator(byTestId('preview-unetDenoise_1')).count()).resolves.toBe(1);
    await expect(page.locator(byTestId('status-unetDenoise_1')).textContent()).resolves.toMatch(/done in/);
    await session.shot('04-run-finished-gallery');
  });

  it('saves the JSON, clears, opens it again: the same graph', async () => {
    const json = path.join(tmp, 'saved.workflow.json');
    await writeFile(json, JSON.stringify(saved.json));
    await page.locator(byTestId('btn-new')).click();
    expect(await nodeIds(page)).toEqual([]);
    await page.locator(byTestId('file-input')).setInputFiles(json);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    expect(await edgeCount(page)).toBe(8);
    const again = await saveWorkflow(page);
    expect(graphOf(again.json)).toEqual(graphOf(saved.json));
    await session.shot('05-reopened-json');
  });

  it('dropping the output PNG restores the same graph', async () => {
    const file = await page.locator(byTestId('gallery-item')).first().getAttribute('data-file');
    const res = await fetch(`${runtime.url}/api/outputs/${encodeURIComponent(file!)}`);
    expect(res.ok).toBe(true);
    const png = new Uint8Array(await res.arrayBuffer());
    await page.locator(byTestId('btn-new')).click();
    expect(await nodeIds(page)).toEqual([]);
    await dropFile(page, file!, 'image/png', png);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const fromPng = await saveWorkflow(page);
    expect(fromPng.json.nodes).toEqual(saved.json.nodes);
    await session.shot('06-restored-from-png');
  });

  it('undo and redo of a multi-node paste are one step each', async () => {
    const json = path.join(tmp, 'paste-base.workflow.json');
    await writeFile(json, JSON.stringify(saved.json));
    await page.locator(byTestId('file-input')).setInputFiles(json);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const pane = page.locator('.react-flow__pane');
    const box = (await pane.boundingBox())!;
    await page.mouse.click(box.x + 60, box.y + box.height - 60);
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.locator('.react-flow__node.selected').count()).toBe(6);
    await page.keyboard.press('Control+c');
    await page.mouse.move(box.x + 80, box.y + box.height / 2);
    await page.keyboard.press('Control+v');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 12, edges: 16 });
    await page.locator(byTestId('btn-fit')).click();
    await session.shot('07-pasted');
    await page.keyboard.press('Control+z');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await session.shot('08-paste-undone');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 12, edges: 16 });
    await session.shot('09-paste-redone');
    // One more undo returns to the opened workflow: the paste was exactly one step.
    await page.keyboard.press('Control+z');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const after = await saveWorkflow(page);
    expect(after.json.nodes).toEqual(saved.json.nodes);
  });

  it('typing in a text field is one undo step and does not trap undo', async () => {
    const json = path.join(tmp, 'typing-base.workflow.json');
    await writeFile(json, JSON.stringify(saved.json));
    await page.locator(byTestId('file-input')).setInputFiles(json);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const prompt = page.locator(byTestId('input-encodePrompt_1-prompt'));
    const steps = page.locator(byTestId('input-unetDenoise_1-steps'));
    const before = await prompt.inputValue();
    await prompt.click();
    await page.keyboard.press('End');
    await page.keyboard.type(' at dusk');
    await steps.fill('9');
    await steps.press('Enter');
    await prompt.click();
    await page.keyboard.press('Control+z');
    await expect.poll(() => steps.inputValue()).toBe('8');
    expect(await prompt.inputValue()).toBe(`${before} at dusk`);
    await page.keyboard.press('Control+z');
    await expect.poll(() => prompt.inputValue()).toBe(before);
    expect(await page.evaluate('document.activeElement.dataset.testid')).toBe('input-encodePrompt_1-prompt');
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => prompt.inputValue()).toBe(`${before} at dusk`);
  });

  it('dropping a dangling edge on the canvas offers only compatible node types', async () => {
    const out = page.locator(byTestId('port-out-vaeDecode_1-image'));
    const a = (await out.boundingBox())!;
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(pane.x + pane.width - 300, pane.y + 60, { steps: 8 });
    await page.mouse.up();
    await page.locator(byTestId('node-search')).waitFor();
    await expect.poll(() => page.locator(byTestId('node-search-item-saveImage')).count()).toBe(1);
    expect(await page.locator(byTestId('node-search-item-loadModel')).count()).toBe(0);
    await session.shot('10-dangling-edge-search');
    await page.locator(byTestId('node-search-item-saveImage')).click();
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 7, edges: 9 });
    await page.keyboard.press('Control+z');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
  });

  it("paints the runtime's validation problems on the nodes before anything runs", async () => {
    const broken = structuredClone(saved.json) as { nodes: Record<string, { inputs: Record<string, unknown> }> };
    delete broken.nodes.encodePrompt_1!.inputs.clip;
    const json = path.join(tmp, 'broken.workflow.json');
    await writeFile(json, JSON.stringify(broken));
    await page.locator(byTestId('file-input')).setInputFiles(json);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 7 });
    const before = await page.locator(byTestId('gallery-item')).count();
    await page.locator(byTestId('btn-run')).click();
    await page.locator(byTestId('problems-encodePrompt_1')).waitFor();
    expect(await page.locator(byTestId('problems-encodePrompt_1')).textContent()).toMatch(/clip/);
    await expect
      .poll(() => page.locator(byTestId('port-row-encodePrompt_1-clip')).getAttribute('class'))
      .toMatch(/port-bad/);
    expect(await page.locator(byTestId('node-encodePrompt_1')).getAttribute('data-status')).toBe('invalid');
    await session.shot('12-validation-problems');
    expect(await page.locator(byTestId('gallery-item')).count()).toBe(before);
  });

  it('after a reload, resyncs the run in progress from the snapshot; Stop interrupts it', async () => {
    const long = structuredClone(saved.json) as { nodes: Record<string, { params: Record<string, unknown> }> };
    // Long enough to outlast a page reload on a slow machine; Stop ends it within a step.
    long.nodes.unetDenoise_1!.params.steps = 1000;
    long.nodes.emptyLatent_1!.params.width = 256;
    long.nodes.emptyLatent_1!.params.height = 256;
    const json = path.join(tmp, 'long.workflow.json');
    await writeFile(json, JSON.stringify(long));
    await page.locator(byTestId('file-input')).setInputFiles(json);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('btn-run')).click();
    const progress = page.locator(byTestId('progress-unetDenoise_1'));
    await progress.waitFor({ timeout: 60_000 });
    await page.reload();
    await connectionIs(page, 'open');
    // The document comes back from autosave, the run state from the runtime's snapshot.
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await progress.waitFor({ timeout: 30_000 });
    expect(Number(await progress.getAttribute('data-max'))).toBe(1000);
    await session.shot('13-resynced-after-reload');
    await page.locator(byTestId('btn-interrupt')).click();
    await expect
      .poll(() => page.locator(byTestId('node-unetDenoise_1')).getAttribute('data-status'), { timeout: 30_000 })
      .toBe('interrupted');
    await expect.poll(() => page.locator(byTestId('queue-count')).textContent()).toBe('idle');
    await session.shot('14-interrupted');
  });

  it('opens a 500-node workflow and pans it, rendering only what is visible', async () => {
    const file = path.join(tmp, 'big.workflow.json');
    const big = bigWorkflow() as { nodes: Record<string, { inputs: object }> };
    const bigEdges = Object.values(big.nodes).reduce((n, node) => n + Object.keys(node.inputs).length, 0);
    await writeFile(file, JSON.stringify(big));
    // Count the most nodes ever in the DOM while opening: the handles are estimated, not measured by rendering all.
    await page.evaluate(`(() => {
      window.__maxNodes = 0;
      new MutationObserver(() => {
        window.__maxNodes = Math.max(window.__maxNodes, document.querySelectorAll('.react-flow__node').length);
      }).observe(document.body, { subtree: true, childList: true });
    })()`);
    const t0 = Date.now();
    await page.locator(byTestId('file-input')).setInputFiles(file);
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 500, edges: bigEdges });
    await page.locator(byTestId('node-m0')).waitFor();
    const openMs = Date.now() - t0;
    const maxNodes = Number(await page.evaluate('window.__maxNodes'));
    expect(maxNodes).toBeLessThan(100);
    const box = (await page.locator('.react-flow__pane').boundingBox())!;
    const p0 = Date.now();
    await page.mouse.move(box.x + box.width - 100, box.y + box.height - 100);
    await page.mouse.down();
    await page.mouse.move(box.x + 100, box.y + 100, { steps: 30 });
    await page.mouse.up();
    const panMs = Date.now() - p0;
    await session.shot('11-500-nodes-panned');
    await writeFile(
      path.join(artifacts, 'big-workflow-timings.json'),
      JSON.stringify({ nodes: 500, openMs, panMs, maxNodesInDom: maxNodes }, null, 2),
    );
    expect(openMs).toBeLessThan(15_000);
    expect(panMs).toBeLessThan(10_000);
  });

  it('asked the runtime only for what it serves (no 404s)', () => {
    expect(session.responses).toContain('GET /api/workflows 200');
    expect(session.responses.filter((r) => r.endsWith(' 404'))).toEqual([]);
  });
});
