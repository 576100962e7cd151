// Readable node ids (`encodePrompt_2`), deterministic from the workflow so the reducer stays pure.

const SAFE = /[^A-Za-z0-9_-]/g;

export function nextNodeId(
  existing: Iterable<string>,
  nodeType: string,
  taken: ReadonlySet<string> = new Set(),
): string {
  const base = nodeType.replace(SAFE, '_').slice(0, 56) || 'node';
  const used = new Set(existing);
  for (const t of taken) used.add(t);
  let n = 1;
  for (const id of used) {
    if (!id.startsWith(`${base}_`)) continue;
    const k = Number(id.slice(base.length + 1));
    if (Number.isInteger(k) && k >= n) n = k + 1;
  }
  while (used.has(`${base}_${n}`)) n++;
  return `${base}_${n}`;
}
