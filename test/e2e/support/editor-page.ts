import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';

// Gestures and reads on the editor page, all through stable data-testid attributes.

export const byTestId = (id: string) => `[data-testid="${id}"]`;

/** Drags a node type from the palette onto the canvas at (x, y) relative to the canvas' top-left. */
export async function dragFromPalette(page: Page, type: string, x: number, y: number): Promise<void> {
  await page
    .locator(byTestId(`palette-item-${type}`))
    .dragTo(page.locator(byTestId('canvas')), { targetPosition: { x, y } });
}

async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Presses on an output port and moves to an input port; `release` false leaves the edge dangling mid-drag. */
export async function dragEdge(
  page: Page,
  from: { node: string; port: string },
  to: { node: string; port: string },
  release = true,
): Promise<void> {
  const a = await centre(page, byTestId(`port-out-${from.node}-${from.port}`));
  const b = await centre(page, byTestId(`port-in-${to.node}-${to.port}`));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  if (release) await page.mouse.up();
}

export async function connect(
  page: Page,
  source: string,
  output: string,
  target: string,
  input: string,
): Promise<void> {
  await dragEdge(page, { node: source, port: output }, { node: target, port: input });
}

export async function nodeIds(page: Page): Promise<string[]> {
  return page.$$eval('.react-flow__node', (els) => els.map((e) => e.getAttribute('data-id') ?? '').sort());
}

/** Nodes and edges in the document (the DOM holds only the visible ones: onlyRenderVisibleElements). */
export async function docCounts(page: Page): Promise<{ nodes: number; edges: number }> {
  const canvas = page.locator(byTestId('canvas'));
  return {
    nodes: Number(await canvas.getAttribute('data-nodes')),
    edges: Number(await canvas.getAttribute('data-edges')),
  };
}

export async function edgeCount(page: Page): Promise<number> {
  return (await docCounts(page)).edges;
}

/** Clicks Save and returns the downloaded workflow JSON. */
export async function saveWorkflow(page: Page): Promise<{ json: Record<string, unknown>; path: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(byTestId('btn-save')).click()]);
  const file = await download.path();
  return { json: JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>, path: file };
}

/** Drops a file onto the canvas as a browser would (DataTransfer with a File). */
export async function dropFile(page: Page, name: string, mime: string, bytes: Uint8Array): Promise<void> {
  // A string script: this file is compiled without DOM types.
  const dataTransfer = await page.evaluateHandle(
    `(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(${JSON.stringify([...bytes])})], ${JSON.stringify(name)}, { type: ${JSON.stringify(mime)} }));
      return dt;
    })()`,
  );
  const canvas = page.locator(byTestId('canvas'));
  await canvas.dispatchEvent('dragover', { dataTransfer });
  await canvas.dispatchEvent('drop', { dataTransfer });
}

/** The graph part of a workflow document: what must survive save/open (layout rounded, viewport ignored). */
export function graphOf(doc: Record<string, unknown>): unknown {
  const wf = doc as { nodes: Record<string, unknown>; ui?: { nodes?: Record<string, { x: number; y: number }> } };
  const layout = Object.fromEntries(
    Object.entries(wf.ui?.nodes ?? {}).map(([id, p]) => [id, { x: Math.round(p.x), y: Math.round(p.y) }]),
  );
  return { nodes: wf.nodes, layout };
}

/** Writes `doc` as dir/name and opens it through the Open file input, as a user picking a .json file would. */
export async function openDocument(page: Page, dir: string, name: string, doc: unknown): Promise<void> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(doc));
  await page.locator(byTestId('file-input')).setInputFiles(file);
}

/** The gallery's file names, newest first. */
export async function galleryFiles(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="gallery-item"]', (els) => els.map((e) => e.getAttribute('data-file') ?? ''));
}
