import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { workflowJsonSchemaText } from './workflow-json-schema.ts';

it('nodes/workflow.schema.json is current (regenerate: npx tsx nodes/scripts/gen-schema.ts)', () => {
  const committed = readFileSync(new URL('../../workflow.schema.json', import.meta.url), 'utf8');
  expect(committed).toBe(workflowJsonSchemaText());
});
