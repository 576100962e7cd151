import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { useEffect, useRef } from 'react';
import type { Example } from './examples.ts';
import { parseWorkflow } from './workflow-file.ts';

// A fresh browser (nothing autosaved) opens the text-to-image example, fitted and ready to run, as ComfyUI opens
// with its default graph: a new user's first click on Run makes an image.

export function useFirstOpen(fresh: boolean, examples: readonly Example[], open: (workflow: Workflow) => void): void {
  const pending = useRef(fresh);
  useEffect(() => {
    if (!pending.current || examples.length === 0) return;
    pending.current = false;
    const ex = examples.find((x) => x.name === 'text-to-image') ?? examples[0]!;
    try {
      open(parseWorkflow(ex.workflow, ex.name));
    } catch {
      // A broken example leaves the empty canvas.
    }
  }, [examples, open]);
}
