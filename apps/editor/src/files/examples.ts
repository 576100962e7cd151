import { fetchExamples } from '../runtime/api.ts';

// Example workflows: from the runtime when it serves GET /api/workflows, else the ones of workflows/ bundled
// at build time.

export interface Example {
  readonly name: string;
  readonly workflow: unknown;
}

const bundled = import.meta.glob('../../../../workflows/**/*.workflow.json', { eager: true, import: 'default' });

export function bundledExamples(): Example[] {
  return Object.entries(bundled)
    .map(([path, workflow]) => ({
      name: path
        .split('/')
        .pop()!
        .replace(/\.workflow\.json$/, ''),
      workflow,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function loadExamples(): Promise<Example[]> {
  return (await fetchExamples()) ?? bundledExamples();
}
