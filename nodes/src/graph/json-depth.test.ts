import { describe, expect, it } from 'vitest';
import { jsonDepthProblem } from './json-depth.ts';

describe('jsonDepthProblem', () => {
  it('accepts ordinary documents and brackets inside strings', () => {
    expect(jsonDepthProblem('{"a": [1, {"b": "[[[[{{{{"}]}', 3)).toBeUndefined();
    expect(jsonDepthProblem('"\\"[[[["', 1)).toBeUndefined();
  });

  it('names the depth limit and where it was passed', () => {
    expect(jsonDepthProblem(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)).toBe(
      'JSON nests deeper than 64 levels (at character 65)',
    );
  });
});
