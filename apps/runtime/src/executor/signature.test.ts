import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canonicalJson, nodeSignature } from './signature.ts';

const base = {
  type: 'unetDenoise',
  version: 1,
  params: { steps: 30, cfg: 5, scheduler: 'euler' },
  inputs: { latent: { signature: 'abc', output: 'latent' } },
};

describe('nodeSignature', () => {
  it('ignores key order and undefined members', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: undefined, w: null }] })).toBe('{"a":[{"w":null,"y":2}],"b":1}');
    expect(nodeSignature({ ...base, params: { scheduler: 'euler', cfg: 5, steps: 30 } })).toBe(nodeSignature(base));
  });

  it('changes with the type, its version, any param and any input signature or output', () => {
    const sigs = new Set([
      nodeSignature(base),
      nodeSignature({ ...base, type: 'other' }),
      nodeSignature({ ...base, version: 2 }),
      nodeSignature({ ...base, params: { ...base.params, steps: 31 } }),
      nodeSignature({ ...base, inputs: { latent: { signature: 'abd', output: 'latent' } } }),
      nodeSignature({ ...base, inputs: { latent: { signature: 'abc', output: 'other' } } }),
      nodeSignature({ ...base, inputs: { other: { signature: 'abc', output: 'latent' } } }),
    ]);
    expect(sigs.size).toBe(7);
  });

  it('is the same in another process', () => {
    const url = new URL('./signature.ts', import.meta.url).href;
    const code = `import { nodeSignature } from ${JSON.stringify(url)}; process.stdout.write(nodeSignature(${JSON.stringify(base)}));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe(nodeSignature(base));
  });
});
