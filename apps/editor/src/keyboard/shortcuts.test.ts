import { describe, expect, it } from 'vitest';
import { commandFor, SHORTCUTS } from './shortcuts.ts';

const k = (key: string, mods: Partial<{ ctrl: boolean; shift: boolean; meta: boolean }> = {}) => ({
  key,
  ctrlKey: mods.ctrl ?? false,
  metaKey: mods.meta ?? false,
  shiftKey: mods.shift ?? false,
  altKey: false,
});

describe('commandFor', () => {
  it('maps the documented keys', () => {
    expect(commandFor(k('z', { ctrl: true }), false)).toBe('undo');
    expect(commandFor(k('Z', { ctrl: true, shift: true }), false)).toBe('redo');
    expect(commandFor(k('y', { meta: true }), false)).toBe('redo');
    expect(commandFor(k('v', { ctrl: true }), false)).toBe('paste');
    expect(commandFor(k('Delete'), false)).toBe('delete');
    expect(commandFor(k('?', { shift: true }), false)).toBe('help');
  });

  it('in a text field, leaves editing keys to the field but keeps document undo', () => {
    expect(commandFor(k('z', { ctrl: true }), true)).toBe('undo');
    expect(commandFor(k('c', { ctrl: true }), true)).toBeUndefined();
    expect(commandFor(k('Backspace'), true)).toBeUndefined();
    expect(commandFor(k('a', { ctrl: true }), true)).toBeUndefined();
  });

  it('every command in the help table has a key that reaches it', () => {
    const reachable = new Set([
      'undo',
      'redo',
      'copy',
      'cut',
      'paste',
      'duplicate',
      'delete',
      'selectAll',
      'save',
      'open',
      'run',
      'fitView',
      'search',
      'help',
      'escape',
    ]);
    for (const s of SHORTCUTS) expect(reachable.has(s.command)).toBe(true);
  });
});
