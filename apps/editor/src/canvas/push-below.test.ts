import { describe, expect, it } from 'vitest';
import { type Box, pushBelow } from './push-below.ts';

describe('pushBelow', () => {
  it('moves the nodes a grown node covers below it, and what those then cover; others stay', () => {
    const boxes = new Map<string, Box>([
      ['grown', { x: 0, y: 0, width: 260, height: 500 }],
      ['under', { x: 100, y: 300, width: 260, height: 200 }],
      ['chain', { x: 100, y: 520, width: 260, height: 100 }],
      ['aside', { x: 400, y: 300, width: 260, height: 200 }],
      ['above', { x: 0, y: -300, width: 260, height: 200 }],
    ]);
    expect(pushBelow(boxes, 'grown')).toEqual({ under: { x: 100, y: 524 }, chain: { x: 100, y: 748 } });
  });
});
