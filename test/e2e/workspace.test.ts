import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchBrowser } from './support/browser.ts';
import { byTestId, docCounts, galleryFiles, nodeIds, openDocument } from './support/editor-page.ts';
import { connectionIs, type EditorSession, openEditorSession } from './support/editor-session.ts';
import { type ExampleDoc, loadExample, missingLatent } from './support/example-workflow.ts';
import { rectOf } from './support/layout.ts';

// Issue 17's features against a real runtime in chromium at 1280x800: workflow name, context menus, notes and
// groups (saved and restored from a PNG), the image viewer, and the queue and history panel across tabs.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const example = await loadExample(repoRoot);

let s: EditorSession;
let page: Page;
beforeAll(async () => {
  s = await openEditorSession(repoRoot);
  page = s.page;
  await page.setViewportSize({ width: 1280, height: 800 });
});
afterAll(async () => {
  await s?.close();
});

const menuItem = (id: string) => page.locator(`${byTestId('context-menu')} ${byTestId(id)}`);

async function rightClick(selector: string, dx = 0.5, dy = 0.5): Promise<void> {
  const r = await rectOf(page, selector);
  await page.mouse.click(r.x + r.width * dx, r.y + r.height * dy, { button: 'right' });
  await page.locator(byTestId('context-menu')).waitFor();
}

async function save(): Promise<{ name: string; doc: ExampleDoc }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(byTestId('btn-save')).click()]);
  return {
    name: download.suggestedFilename(),
    doc: JSON.parse(await readFile(await download.path(), 'utf8')) as ExampleDoc,
  };
}

async function historyIds(p: Page = page): Promise<string[]> {
  return p.$$eval('[data-testid="history-entry"]', (els) => els.map((e) => e.getAttribute('data-run') ?? ''));
}

async function serverHistory(): Promise<{ runId: string; status: string }[]> {
  const res = await fetch(`${s.runtime.url}/api/history?limit=20`);
  return ((await res.json()) as { runs: { runId: string; status: string }[] }).runs;
}

describe.skipIf(browserMissing)('workspace features', () => {
  it('renames the workflow; Save uses the name; New asks before discarding unsaved changes', async () => {
    const name = page.locator(byTestId('doc-name-input'));
    await expect.poll(() => name.inputValue()).toBe('Text to image');
    await name.fill('Fox study');
    await expect.poll(() => page.title()).toBe('• Fox study — sdflow');
    const saved = await save();
    expect(saved.name).toBe('Fox study.workflow.json');
    expect(saved.doc.meta.name).toBe('Fox study');
    await expect.poll(() => page.locator(byTestId('unsaved-marker')).count()).toBe(0);

    await page.locator(byTestId('input-denoise-steps')).fill('7');
    await page.locator(byTestId('input-denoise-steps')).press('Enter');
    await page.locator(byTestId('btn-new')).click();
    await page.locator(byTestId('confirm-dialog')).waitFor();
    await page.locator(byTestId('confirm-cancel')).click();
    expect(await docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('btn-new')).click();
    await page.locator(byTestId('confirm-ok')).click();
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 0, edges: 0 });
    // Nothing unsaved now: New does not ask.
    await page.locator(byTestId('btn-new')).click();
    expect(await page.locator(byTestId('confirm-dialog')).count()).toBe(0);
  });

  it('context menus: on a node (duplicate, colour, pin, delete), on an edge (insert a node), on the canvas', async () => {
    await page.locator(byTestId('examples')).selectOption('text-to-image');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.waitForTimeout(400);

    await rightClick(`${byTestId('node-denoise')} .sd-node-header`);
    expect(await page.locator(`${byTestId('context-menu')} [role="menuitem"]`).count()).toBeGreaterThanOrEqual(5);
    await s.shot('40-context-menu-node');
    const before = await nodeIds(page);
    await menuItem('menu-duplicate').click();
    await expect.poll(async () => (await docCounts(page)).nodes).toBe(7);
    const copy = (await nodeIds(page)).find((id) => !before.includes(id))!;
    expect(await page.locator(byTestId(`node-${copy}`)).getAttribute('data-node-type')).toBe('unetDenoise');
    await rightClick(`${byTestId(`node-${copy}`)} .sd-node-header`);
    await menuItem('menu-delete').click();
    await expect.poll(async () => (await docCounts(page)).nodes).toBe(6);

    await rightClick(`${byTestId('node-latent')} .sd-node-header`);
    await menuItem('menu-colour-green').click();
    await expect.poll(() => page.locator(byTestId('node-latent')).getAttribute('data-color')).toBe('#81c784');

    // Pinned: a drag leaves it where it is among the others (the drag pans the canvas instead).
    await rightClick(`${byTestId('node-latent')} .sd-node-header`);
    await menuItem('menu-pin').click();
    const offset = async () => {
      const [a, b] = [await rectOf(page, byTestId('node-latent')), await rectOf(page, byTestId('node-model'))];
      return { dx: Math.round(a.x - b.x), dy: Math.round(a.y - b.y) };
    };
    const pinnedAt = await offset();
    const header = await rectOf(page, `${byTestId('node-latent')} .sd-node-header`);
    await page.mouse.move(header.x + 20, header.y + 8);
    await page.mouse.down();
    await page.mouse.move(header.x + 120, header.y + 60, { steps: 5 });
    await page.mouse.up();
    expect(await offset()).toEqual(pinnedAt);
    await page.locator(byTestId('btn-fit')).click();
    await rightClick(`${byTestId('node-latent')} .sd-node-header`);
    expect(await menuItem('menu-pin').textContent()).toBe('Unpin');
    await menuItem('menu-pin').click();

    // An edge: insert a node that takes and gives its type (LATENT) between its ends.
    await rightClick('.react-flow__edge[data-id="decode:latent"] .react-flow__edge-interaction');
    await menuItem('menu-insert-node').click();
    await page.locator(byTestId('node-search')).waitFor();
    const offered = await page.$$eval('[data-testid^="node-search-item-"]', (els) =>
      els.map((e) => e.getAttribute('data-testid')),
    );
    // Exactly the node types with a LATENT input and a LATENT output, by the runtime's catalogue.
    const catalog = (await (await fetch(`${s.runtime.url}/api/catalog`)).json()) as {
      nodeTypes: Record<
        string,
        { inputs: Record<string, { type: string }>; outputs: Record<string, { type: string }> }
      >;
    };
    const fits = Object.entries(catalog.nodeTypes)
      .filter(([, t]) => [t.inputs, t.outputs].every((ports) => Object.values(ports).some((p) => p.type === 'LATENT')))
      .map(([type]) => `node-search-item-${type}`);
    expect([...offered].sort()).toEqual(fits.sort());
    expect(offered).toContain('node-search-item-unetDenoise');
    expect(offered).not.toContain('node-search-item-vaeDecode');
    const ids = await nodeIds(page);
    await page.locator(byTestId('node-search-item-unetDenoise')).click();
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 7, edges: 9 });
    const inserted = (await nodeIds(page)).find((id) => !ids.includes(id))!;
    const { doc } = await save();
    expect(doc.nodes.decode!.inputs.latent!.node).toBe(inserted);
    expect(doc.nodes[inserted]!.inputs.latent!.node).toBe('denoise');
    expect(doc.ui.nodes.latent!.color).toBe('#81c784');
    await page.keyboard.press('Control+z');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });

    // The canvas: add node (search), paste, note, group, fit.
    const canvas = await rectOf(page, byTestId('canvas'));
    await page.mouse.click(canvas.x + 30, canvas.y + 30, { button: 'right' });
    for (const id of ['menu-add-node', 'menu-paste', 'menu-add-note', 'menu-add-group', 'menu-fit'])
      expect(await menuItem(id).count()).toBe(1);
    await menuItem('menu-add-node').click();
    await page.locator(byTestId('node-search')).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator(byTestId('node-search')).count()).toBe(0);
  });

  it('notes and named, coloured groups that move their nodes; saved in the workflow and restored from its PNG', async () => {
    const canvas = await rectOf(page, byTestId('canvas'));
    await page.mouse.click(canvas.x + 30, canvas.y + 30, { button: 'right' });
    await menuItem('menu-add-note').click();
    await page.locator(byTestId('note-text-note_1')).fill('Lower the steps for a quick look.');

    await page.locator(`${byTestId('node-prompt')} .sd-node-header`).click();
    await page.locator(`${byTestId('node-latent')} .sd-node-header`).click({ modifiers: ['Control'] });
    await rightClick(`${byTestId('node-latent')} .sd-node-header`);
    await menuItem('menu-group').click();
    const title = page.locator(byTestId('group-title-group_1'));
    await title.fill('Prompt and noise');
    await rightClick(`${byTestId('group-group_1')} .sd-group-header`, 0.9, 0.5);
    await menuItem('menu-colour-orange').click();

    // Dragging the group's title bar moves its nodes with it, and nothing else.
    const at = async () => ({
      group: await rectOf(page, byTestId('group-group_1')),
      prompt: await rectOf(page, byTestId('node-prompt')),
      latent: await rectOf(page, byTestId('node-latent')),
      model: await rectOf(page, byTestId('node-model')),
    });
    const was = await at();
    const bar = await rectOf(page, `${byTestId('group-group_1')} .sd-group-header`);
    await page.mouse.move(bar.x + bar.width - 15, bar.y + bar.height / 2);
    await page.mouse.down();
    await page.mouse.move(bar.x + bar.width + 45, bar.y + bar.height / 2 + 30, { steps: 6 });
    await page.mouse.up();
    const now = await at();
    const moved = { dx: now.group.x - was.group.x, dy: now.group.y - was.group.y };
    expect(moved.dx).toBeGreaterThan(30);
    expect(moved.dy).toBeGreaterThan(10);
    for (const id of ['prompt', 'latent'] as const) {
      expect(now[id].x - was[id].x).toBeCloseTo(moved.dx, 0);
      expect(now[id].y - was[id].y).toBeCloseTo(moved.dy, 0);
    }
    expect(now.model).toEqual(was.model);
    await page.locator(byTestId('btn-fit')).click();
    await page.waitForTimeout(400);
    await s.shot('42-groups-and-notes');

    const { doc } = await save();
    expect(Object.keys(doc.nodes).sort()).toEqual(Object.keys(example().nodes).sort());
    expect(doc.ui.groups).toMatchObject([{ id: 'group_1', title: 'Prompt and noise', color: '#ffb74d' }]);
    expect(doc.ui.notes).toMatchObject([{ id: 'note_1', text: 'Lower the steps for a quick look.' }]);

    // Run, then restore from the PNG by dragging its gallery image onto an empty canvas.
    const before = await galleryFiles(page);
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(async () => (await galleryFiles(page)).length, { timeout: 120_000 }).toBe(before.length + 1);
    const [newest] = await galleryFiles(page);
    await page.locator(byTestId('btn-new')).click();
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 0, edges: 0 });
    await page
      .locator(`${byTestId('gallery-item')}[data-file="${newest}"]`)
      .dragTo(page.locator(byTestId('canvas')), { targetPosition: { x: 300, y: 300 } });
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await expect.poll(() => page.locator(byTestId('group-title-group_1')).inputValue()).toBe('Prompt and noise');
    expect(await page.locator(byTestId('note-text-note_1')).inputValue()).toBe('Lower the steps for a quick look.');
  });

  it('image viewer: a click opens the image large in the page; arrows, Escape, download, open its workflow', async () => {
    // A second image, from a workflow with another name.
    await openDocument(
      page,
      s.runtime.dirs.root,
      'other.workflow.json',
      example((d) => {
        d.meta.name = 'Other';
        d.nodes.denoise!.params.seed = 5;
      }),
    );
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    const before = await galleryFiles(page);
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(async () => (await galleryFiles(page)).length, { timeout: 120_000 }).toBe(before.length + 1);
    const files = await galleryFiles(page);
    expect(files.length).toBeGreaterThanOrEqual(2);

    await page.locator(byTestId('gallery-item')).first().click();
    const image = page.locator(byTestId('viewer-image'));
    await expect.poll(() => image.getAttribute('data-file')).toBe(files[0]);
    expect(page.url()).toBe(`${s.runtime.url}/`);
    const naturalWidth = `document.querySelector('[data-testid="viewer-image"]').naturalWidth`;
    await expect.poll(() => page.evaluate(naturalWidth)).toBeGreaterThan(0);
    await s.shot('43-image-viewer');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => image.getAttribute('data-file')).toBe(files[1]);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => image.getAttribute('data-file')).toBe(files[0]);
    const download = page.locator(byTestId('viewer-download'));
    expect(await download.getAttribute('download')).toBe(files[0]);
    expect(await download.getAttribute('href')).toBe(`/api/outputs/${encodeURIComponent(files[0]!)}`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator(byTestId('image-viewer')).count()).toBe(0);
    // The canvas kept its nodes: Escape closed the viewer only.
    expect(await docCounts(page)).toEqual({ nodes: 6, edges: 8 });

    await page.locator(byTestId('gallery-item')).nth(1).click();
    await page.locator(byTestId('viewer-open-workflow')).click();
    await expect.poll(() => page.locator(byTestId('image-viewer')).count()).toBe(0);
    // The older image: the grouped text-to-image run, group and all.
    await expect.poll(() => page.locator(byTestId('doc-name-input')).inputValue()).toBe('Text to image');
    expect(await page.locator(byTestId('group-title-group_1')).inputValue()).toBe('Prompt and noise');
  });

  it('queue and history panel: cancel, clear, failures with the node and why, open, run again, delete; same in every tab and after reload', async () => {
    await page.locator(byTestId('tab-runs')).click();
    // Another window (its own browser, so neither is a background tab that gets no animation frames).
    const other = await launchBrowser();
    const second = other.page;
    await second.setViewportSize({ width: 1280, height: 800 });
    await second.goto(s.runtime.url);
    await connectionIs(second, 'open');
    await second.locator(byTestId('tab-runs')).click();

    // Three long runs: one runs, two wait. Cancel one waiting, clear the other, stop the running one.
    await openDocument(
      page,
      s.runtime.dirs.root,
      'long.workflow.json',
      example((d) => {
        d.meta.name = 'Long';
        // Long enough, at any machine's speed, to still be running when they are cancelled.
        d.nodes.denoise!.params.steps = 1000;
        Object.assign(d.nodes.latent!.params, { width: 512, height: 512 });
      }),
    );
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('batch-count')).fill('3');
    await page.locator(byTestId('btn-run')).click();
    const queued = (p: Page) => p.locator(`${byTestId('queue-entry')}[data-status="queued"]`);
    const running = (p: Page) => p.locator(`${byTestId('queue-entry')}[data-status="running"]`);
    await expect.poll(() => queued(page).count(), { timeout: 60_000 }).toBe(2);
    await expect.poll(() => running(page).count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => queued(second).count()).toBe(2);
    await page.locator(byTestId('batch-count')).fill('1');
    await queued(page).last().locator(byTestId('btn-cancel-run')).click();
    await expect.poll(() => queued(page).count()).toBe(1);
    await page.locator(byTestId('btn-clear-queue')).click();
    await expect.poll(() => queued(page).count()).toBe(0);
    await running(page).locator(byTestId('btn-cancel-run')).click();
    await expect.poll(() => running(page).count(), { timeout: 30_000 }).toBe(0);

    // A failure inside a kernel: the entry names the node and says why.
    await openDocument(
      page,
      s.runtime.dirs.root,
      'bad.workflow.json',
      example((d) => {
        d.meta.name = 'Missing latent';
        missingLatent(d);
      }),
    );
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 7 });
    await page.locator(byTestId('btn-run')).click();
    const top = page.locator(byTestId('history-entry')).first();
    await expect.poll(() => top.getAttribute('data-status'), { timeout: 120_000 }).toBe('failed');
    expect(await top.locator(byTestId('history-error')).textContent()).toMatch(/^latent: .*no file "missing/);

    // A good run: its thumbnail in the history.
    await page.locator(byTestId('examples')).selectOption('text-to-image');
    await expect.poll(() => docCounts(page)).toEqual({ nodes: 6, edges: 8 });
    await page.locator(byTestId('input-denoise-seed')).fill('99');
    await page.locator(byTestId('input-denoise-seed')).press('Enter');
    await page.locator(byTestId('btn-run')).click();
    await expect.poll(() => top.getAttribute('data-status'), { timeout: 120_000 }).toBe('finished');
    await expect.poll(() => top.locator(byTestId('history-thumb')).count()).toBe(1);
    await s.shot('41-queue-history-panel');

    // Every tab lists what the server holds, newest first.
    const server = (await serverHistory()).map((r) => r.runId);
    expect(server.length).toBeGreaterThanOrEqual(5);
    await expect.poll(() => historyIds(page)).toEqual(server);
    await expect.poll(() => historyIds(second)).toEqual(server);

    // Open the failed run's workflow; run the good one again.
    await page
      .locator(`${byTestId('history-entry')}[data-status="failed"]`)
      .first()
      .locator(byTestId('btn-history-open'))
      .click();
    await expect.poll(() => page.locator(byTestId('input-latent-file')).inputValue()).toBe('missing.safetensors');
    await top.locator(byTestId('btn-history-rerun')).click();
    await expect.poll(async () => (await historyIds(page)).length, { timeout: 120_000 }).toBe(server.length + 1);
    await expect.poll(() => top.getAttribute('data-status'), { timeout: 120_000 }).toBe('finished');

    // Delete one entry: gone here and in the other tab; after a reload the list is still the server's.
    const victim = (await historyIds(page))[1]!;
    await page.locator(`${byTestId('history-entry')}[data-run="${victim}"] ${byTestId('btn-history-delete')}`).click();
    await expect.poll(() => historyIds(page)).not.toContain(victim);
    await expect.poll(() => historyIds(second)).not.toContain(victim);
    await page.reload();
    await connectionIs(page, 'open');
    await page.locator(byTestId('tab-runs')).click();
    const after = (await serverHistory()).map((r) => r.runId);
    expect(after).not.toContain(victim);
    await expect.poll(() => historyIds(page)).toEqual(after);

    await page.locator(byTestId('btn-clear-history')).click();
    await expect.poll(() => historyIds(page)).toEqual([]);
    await expect.poll(() => historyIds(second)).toEqual([]);
    expect(await serverHistory()).toEqual([]);
    await other.close();
  });

  it('asked the runtime only for what it serves (no 404s)', () => {
    expect(s.responses.filter((r) => r.endsWith(' 404'))).toEqual([]);
  });
});
