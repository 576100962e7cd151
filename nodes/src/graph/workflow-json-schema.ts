import { z } from 'zod';
import { Workflow } from './workflow.ts';

/** JSON Schema (draft 2020-12) of the workflow document, generated from the zod schema: what a file may contain. */
export function workflowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Workflow, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema: schema.$schema,
    title: 'sdflow workflow',
    description:
      'An sdflow workflow document: nodes keyed by id, each with a type, params and inputs referring to {node, output}; ' +
      '"ui" is layout only. Node types, their params and port types are checked by `sdflow validate`, not by this schema.',
    ...schema,
  };
}

/** The text of nodes/workflow.schema.json. */
export function workflowJsonSchemaText(): string {
  return `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
}
