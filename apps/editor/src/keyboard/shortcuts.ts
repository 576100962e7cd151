// Keyboard shortcuts: one table drives both the handler and the help panel.

export type Command =
  | 'undo'
  | 'redo'
  | 'copy'
  | 'paste'
  | 'cut'
  | 'delete'
  | 'selectAll'
  | 'duplicate'
  | 'save'
  | 'open'
  | 'run'
  | 'fitView'
  | 'help'
  | 'search'
  | 'escape';

export interface Shortcut {
  readonly keys: string;
  readonly command: Command;
  readonly label: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'Ctrl+Z', command: 'undo', label: 'Undo' },
  { keys: 'Ctrl+Shift+Z / Ctrl+Y', command: 'redo', label: 'Redo' },
  { keys: 'Ctrl+C', command: 'copy', label: 'Copy selected nodes' },
  { keys: 'Ctrl+X', command: 'cut', label: 'Cut selected nodes' },
  { keys: 'Ctrl+V', command: 'paste', label: 'Paste nodes (at the pointer)' },
  { keys: 'Ctrl+D', command: 'duplicate', label: 'Duplicate selected nodes' },
  { keys: 'Delete / Backspace', command: 'delete', label: 'Delete selected nodes and edges' },
  { keys: 'Ctrl+A', command: 'selectAll', label: 'Select all nodes' },
  { keys: 'Ctrl+S', command: 'save', label: 'Save workflow (.json)' },
  { keys: 'Ctrl+O', command: 'open', label: 'Open workflow (.json or PNG)' },
  { keys: 'Ctrl+Enter', command: 'run', label: 'Queue a run' },
  { keys: 'F', command: 'fitView', label: 'Fit the view to the workflow' },
  { keys: '/ or double-click', command: 'search', label: 'Add a node by name' },
  { keys: '?', command: 'help', label: 'Show or hide this help' },
  { keys: 'Esc', command: 'escape', label: 'Close popups' },
];

export interface KeyLike {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
}

/** Maps a key press to a command. In text fields only undo/redo (the document's, so typing never traps them) and save/run apply. */
export function commandFor(e: KeyLike, inTextField: boolean): Command | undefined {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod && !e.altKey) {
    if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (key === 'y') return 'redo';
    if (key === 's') return 'save';
    if (key === 'Enter') return 'run';
    if (inTextField) return undefined;
    if (key === 'c') return 'copy';
    if (key === 'x') return 'cut';
    if (key === 'v') return 'paste';
    if (key === 'a') return 'selectAll';
    if (key === 'd') return 'duplicate';
    if (key === 'o') return 'open';
    return undefined;
  }
  if (key === 'Escape') return 'escape';
  if (inTextField || e.altKey) return undefined;
  if (key === 'Delete' || key === 'Backspace') return 'delete';
  if (key === '?') return 'help';
  if (key === 'f') return 'fitView';
  if (key === '/') return 'search';
  return undefined;
}
