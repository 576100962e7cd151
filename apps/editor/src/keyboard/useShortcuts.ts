import { useEffect, useRef } from 'react';
import { type Command, commandFor } from './shortcuts.ts';

function isTextField(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable) return true;
  if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return true;
  return t instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'range'].includes(t.type);
}

/** Window-level key handling; `run` returns false to let the browser handle the key. */
export function useShortcuts(run: (command: Command) => boolean | undefined) {
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const command = commandFor(e, isTextField(e.target));
      if (!command) return;
      if (latest.current(command) === false) return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
