import { describe, expect, it } from 'vitest';
import { coerceNumber, widgetFor } from './param-widgets.ts';

describe('widgetFor', () => {
  it('maps JSON Schema types and hints to widgets', () => {
    expect(widgetFor('steps', { type: 'integer', minimum: 1, maximum: 200 })).toEqual({
      kind: 'number',
      integer: true,
      min: 1,
      max: 200,
      step: 1,
    });
    expect(widgetFor('cfg', { type: 'number', minimum: 0, maximum: 30, widget: 'slider', step: 0.5 })).toEqual({
      kind: 'slider',
      integer: false,
      min: 0,
      max: 30,
      step: 0.5,
    });
    expect(widgetFor('seed', { type: 'integer', minimum: 0 })).toEqual({ kind: 'seed', min: 0, max: 2 ** 32 - 1 });
    expect(widgetFor('noise', { type: 'integer', widget: 'seed' }).kind).toBe('seed');
    expect(widgetFor('prompt', { type: 'string' }).kind).toBe('textarea');
    expect(widgetFor('notes', { type: 'string', widget: 'multiline' }).kind).toBe('textarea');
    expect(widgetFor('filenamePrefix', { type: 'string' }).kind).toBe('text');
    expect(widgetFor('model', { type: 'string', widget: 'model' })).toEqual({ kind: 'model', source: 'models' });
    expect(widgetFor('model', { type: 'string', widget: 'model', source: 'tinyVaes' })).toEqual({
      kind: 'model',
      source: 'tinyVaes',
    });
    expect(widgetFor('file', { type: 'string', widget: 'file', source: 'latents' })).toEqual({
      kind: 'model',
      source: 'latents',
    });
    expect(widgetFor('steps', { type: 'integer', widget: 'number' }).kind).toBe('number');
    expect(widgetFor('tiling', { type: 'boolean' }).kind).toBe('boolean');
    expect(widgetFor('scheduler', { type: 'string', enum: ['euler', 'ddim'] })).toEqual({
      kind: 'enum',
      options: ['euler', 'ddim'],
    });
  });

  it('reads nested ui hints, nullable alternatives and const unions', () => {
    expect(widgetFor('x', { type: 'number', minimum: 0, maximum: 1, ui: { widget: 'slider' } } as never).kind).toBe(
      'slider',
    );
    expect(widgetFor('w', { anyOf: [{ type: 'integer', minimum: 8 }, { type: 'null' }] })).toMatchObject({
      kind: 'number',
      min: 8,
    });
    expect(widgetFor('m', { anyOf: [{ const: 'a' }, { const: 'b' }] })).toEqual({ kind: 'enum', options: ['a', 'b'] });
  });

  it('a slider hint without bounds falls back to a number field', () => {
    expect(widgetFor('x', { type: 'number', widget: 'slider' }).kind).toBe('number');
  });
});

describe('coerceNumber', () => {
  it('rounds integers and clamps to bounds; NaN keeps the fallback', () => {
    expect(coerceNumber(3.6, { integer: true, min: 1, max: 3 }, 2)).toBe(3);
    expect(coerceNumber(-1, { integer: false, min: 0 }, 2)).toBe(0);
    expect(coerceNumber(Number.NaN, { integer: true }, 7)).toBe(7);
  });
});
