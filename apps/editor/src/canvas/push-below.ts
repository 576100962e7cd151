// When a node grows (a preview, a status strip, an error list), nodes it now covers move down rather than
// hide under it; those may push further nodes in turn.

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const GAP = 24;

/** New positions for the nodes to move so that `grown` (already at its new size) overlaps nothing below it. */
export function pushBelow(boxes: ReadonlyMap<string, Box>, grown: string): Record<string, { x: number; y: number }> {
  const top = boxes.get(grown);
  if (!top) return {};
  // Top to bottom: each node below the grown one's top clears every box that moved (or grew) above it.
  const pushers: Box[] = [top];
  const moved: Record<string, { x: number; y: number }> = {};
  const below = [...boxes].filter(([id, b]) => id !== grown && b.y >= top.y).sort(([, a], [, b]) => a.y - b.y);
  for (const [id, b] of below) {
    let y = b.y;
    for (let changed = true; changed; ) {
      changed = false;
      for (const p of pushers) {
        const side = b.x < p.x + p.width && p.x < b.x + b.width;
        if (side && p.y <= y && y < p.y + p.height + GAP) {
          y = p.y + p.height + GAP;
          changed = true;
        }
      }
    }
    if (y !== b.y) {
      moved[id] = { x: b.x, y };
      pushers.push({ ...b, y });
    }
  }
  return moved;
}
