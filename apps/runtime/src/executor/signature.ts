import { createHash } from 'node:crypto';

// Input signature of a node: what its outputs are a pure function of. Equal signature => reuse cached outputs.

export interface SignatureInput {
  readonly type: string;
  readonly version: number;
  /** Params after schema parsing (defaults filled in), so spelling out a default does not change the signature. */
  readonly params: unknown;
  /** port -> signature of the upstream node + which of its outputs. */
  readonly inputs: Readonly<Record<string, { readonly signature: string; readonly output: string }>>;
}

/** JSON with object keys sorted at every level and undefined members dropped: same value, same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
    if (typeof value === 'bigint') return JSON.stringify(`${value}n`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function nodeSignature(input: SignatureInput): string {
  const text = canonicalJson({ t: input.type, v: input.version, p: input.params, i: input.inputs });
  return createHash('sha256').update(text).digest('hex');
}
