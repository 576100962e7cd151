import { describe, expect, it } from 'vitest';
import { applySets, parseSet } from './apply-sets.ts';

describe('--set', () => {
  it('parses the value as JSON when it is JSON, else keeps the string', () => {
    expect(parseSet('denoise.steps=20')).toEqual({ nodeId: 'denoise', param: 'steps', value: 20 });
    expect(parseSet('d.flag=true')).toEqual({ nodeId: 'd', param: 'flag', value: true });
    expect(parseSet('p.prompt=a red fox')).toEqual({ nodeId: 'p', param: 'prompt', value: 'a red fox' });
    expect(parseSet('p.prompt="20"')).toEqual({ nodeId: 'p', param: 'prompt', value: '20' });
    expect(parseSet('p.prompt=x=y')).toEqual({ nodeId: 'p', param: 'prompt', value: 'x=y' });
    expect(parseSet('p.prompt=')).toEqual({ nodeId: 'p', param: 'prompt', value: '' });
  });

  it('reports malformed overrides and unknown nodes, and applies the rest', () => {
    const doc = { version: 1, nodes: { a: { type: 't', params: { x: 1 } }, b: { type: 't' } } };
    const problems = applySets(doc, ['a.x=2', 'b.y="s"', 'nope', '.x=1', 'c.x=1']);
    expect(doc.nodes.a.params).toEqual({ x: 2 });
    expect(doc.nodes.b).toEqual({ type: 't', params: { y: 's' } });
    expect(problems.map((p) => p.message)).toEqual([
      '--set "nope": expected <node>.<param>=<value>',
      '--set ".x=1": expected <node>.<param>=<value>',
      '--set "c.x=1": the workflow has no node "c"',
    ]);
    expect(problems[2]).toMatchObject({ nodeId: 'c', param: 'x' });
  });
});
