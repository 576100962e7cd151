import type { ParamSchema } from '../catalog/catalog.ts';

// Which widget edits a param, decided from its JSON Schema alone (plus the widget hint from zod .meta()).

export type Widget =
  | { kind: 'number'; integer: boolean; min?: number; max?: number; step: number }
  | { kind: 'slider'; integer: boolean; min: number; max: number; step: number }
  | { kind: 'seed'; min: number; max: number }
  | { kind: 'text' }
  | { kind: 'textarea' }
  | { kind: 'model'; source: string }
  | { kind: 'enum'; options: readonly (string | number)[] }
  | { kind: 'boolean' }
  | { kind: 'json' };

const MAX_SEED = 2 ** 32 - 1;

/** Optional/nullable params come as anyOf [X, null]: edit X. */
export function mainSchema(schema: ParamSchema): ParamSchema {
  const alts = (schema.anyOf ?? schema.oneOf) as ParamSchema[] | undefined;
  if (!alts) return schema;
  const pick = alts.find((a) => a && typeof a === 'object' && a.type !== 'null');
  return pick ? { ...pick, ...withoutAlts(schema) } : schema;
}

function withoutAlts(s: ParamSchema): ParamSchema {
  const { anyOf: _a, oneOf: _o, ...rest } = s;
  return rest;
}

function hint(schema: ParamSchema): string | undefined {
  const ui = (schema as { ui?: { widget?: unknown } }).ui;
  const w = schema.widget ?? (typeof ui?.widget === 'string' ? ui.widget : undefined);
  return w?.toLowerCase();
}

export function widgetFor(name: string, raw: ParamSchema): Widget {
  const schema = mainSchema(raw);
  const w = hint(schema);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const enumValues = schema.enum ?? (Array.isArray(raw.anyOf) ? constValues(raw.anyOf) : undefined);
  if (enumValues && enumValues.length > 0) return { kind: 'enum', options: enumValues.filter(isOption) };
  if (types.includes('boolean')) return { kind: 'boolean' };
  if (types.includes('integer') || types.includes('number')) {
    const integer = types.includes('integer');
    const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum : undefined);
    const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum : undefined);
    const step = schema.step ?? schema.multipleOf ?? (integer ? 1 : 0.1);
    if (w === 'seed' || (w === undefined && /seed$/i.test(name) && integer))
      return { kind: 'seed', min: min ?? 0, max: max ?? MAX_SEED };
    if (w === 'slider' && min !== undefined && max !== undefined) return { kind: 'slider', integer, min, max, step };
    const n: Widget = { kind: 'number', integer, step };
    if (min !== undefined) n.min = min;
    if (max !== undefined) n.max = max;
    return n;
  }
  if (types.includes('string')) {
    if (w === 'model' || w === 'file') {
      const source = (schema as { source?: unknown }).source;
      return { kind: 'model', source: typeof source === 'string' ? source : w === 'file' ? 'latents' : 'models' };
    }
    if (w === 'textarea' || w === 'multiline' || (w === undefined && /prompt$/i.test(name)))
      return { kind: 'textarea' };
    return { kind: 'text' };
  }
  return { kind: 'json' };
}

function constValues(alts: unknown[]): (string | number)[] | undefined {
  const values = alts.map((a) => (a && typeof a === 'object' ? (a as { const?: unknown }).const : undefined));
  return values.every(isOption) ? (values as (string | number)[]) : undefined;
}

function isOption(v: unknown): v is string | number {
  return typeof v === 'string' || typeof v === 'number';
}

/** Clamps and rounds a typed number to what the widget allows; NaN falls back to `fallback`. */
export function coerceNumber(
  value: number,
  w: { integer: boolean; min?: number; max?: number },
  fallback: number,
): number {
  if (!Number.isFinite(value)) return fallback;
  let v = w.integer ? Math.round(value) : value;
  if (w.min !== undefined) v = Math.max(w.min, v);
  if (w.max !== undefined) v = Math.min(w.max, v);
  return v;
}

export function randomSeed(max: number = MAX_SEED): number {
  return Math.floor(Math.random() * (Math.min(max, MAX_SEED) + 1));
}
