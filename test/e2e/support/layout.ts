import type { Page } from 'playwright-core';
import { byTestId, docCounts } from './editor-page.ts';

// Geometry reads for layout checks: what a person sees, measured from the DOM (string scripts: this file is
// compiled without DOM types).

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export async function rectOf(page: Page, selector: string): Promise<Rect> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  return box;
}

/** Workflow nodes on screen (groups and notes excluded), by id. */
export async function nodeRects(page: Page): Promise<Record<string, Rect>> {
  return (await page.evaluate(`Object.fromEntries([...document.querySelectorAll('.react-flow__node-sdflow')].map((e) => {
    const r = e.getBoundingClientRect();
    return [e.getAttribute('data-id'), { x: r.x, y: r.y, width: r.width, height: r.height }];
  }))`)) as Record<string, Rect>;
}

export function contains(outer: Rect, inner: Rect, slack = 1): boolean {
  return (
    inner.x >= outer.x - slack &&
    inner.y >= outer.y - slack &&
    inner.x + inner.width <= outer.x + outer.width + slack &&
    inner.y + inner.height <= outer.y + outer.height + slack
  );
}

export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Node ids not wholly inside the visible canvas; every node of the document must be on screen. */
export async function nodesOutsideCanvas(page: Page): Promise<string[]> {
  const canvas = await rectOf(page, byTestId('canvas'));
  const rects = await nodeRects(page);
  const { nodes } = await docCounts(page);
  const outside = Object.entries(rects)
    .filter(([, r]) => !contains(canvas, r))
    .map(([id]) => id);
  const shown = Object.keys(rects).length;
  if (shown !== nodes) outside.push(`${nodes - shown} of ${nodes} not rendered (off screen)`);
  return outside;
}

/** Pairs of workflow nodes that overlap on screen. */
export async function overlappingNodes(page: Page): Promise<string[]> {
  const rects = Object.entries(await nodeRects(page));
  const pairs: string[] = [];
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      if (overlaps(rects[i]![1], rects[j]![1])) pairs.push(`${rects[i]![0]} × ${rects[j]![0]}`);
    }
  }
  return pairs;
}

/** Widgets (inputs, selects, textareas, buttons) sticking out of their node, as "node-id/widget". */
export async function widgetsOutsideNodes(page: Page): Promise<string[]> {
  return (await page.evaluate(`[...document.querySelectorAll('.sd-node')].flatMap((node) => {
    const n = node.getBoundingClientRect();
    return [...node.querySelectorAll('input, select, textarea, button')]
      .filter((w) => {
        const r = w.getBoundingClientRect();
        return r.left < n.left - 1 || r.right > n.right + 1 || r.top < n.top - 1 || r.bottom > n.bottom + 1;
      })
      .map((w) => node.getAttribute('data-testid') + '/' + (w.getAttribute('data-testid') ?? w.tagName));
  })`)) as string[];
}

/** Texts a person cannot read whole: labels cut off, and selects too narrow for their label without a tooltip
 *  giving it. */
export async function cutLabels(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    return [...document.querySelectorAll('.sd-node')].flatMap((node) => {
      const labels = [...node.querySelectorAll('.param-label, .sd-port-label')]
        .filter((l) => l.scrollWidth > l.clientWidth + 1)
        .map((l) => 'label ' + l.textContent);
      const selects = [...node.querySelectorAll('select')]
        .filter((s) => {
          const text = s.selectedOptions[0]?.textContent ?? '';
          ctx.font = getComputedStyle(s).font;
          // The arrow and padding take about 24 px (at zoom 1: the canvas scales both alike).
          const zoom = s.getBoundingClientRect().width / s.offsetWidth;
          const fits = ctx.measureText(text).width * zoom <= s.getBoundingClientRect().width - 24 * zoom;
          return !fits && s.title !== text;
        })
        .map((s) => 'select ' + s.getAttribute('data-testid'));
      return [...labels, ...selects];
    });
  })()`)) as string[];
}
