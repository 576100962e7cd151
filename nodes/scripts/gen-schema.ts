// Writes nodes/workflow.schema.json from the zod Workflow schema. Run: npx tsx nodes/scripts/gen-schema.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workflowJsonSchemaText } from '../src/graph/workflow-json-schema.ts';

const target = fileURLToPath(new URL('../workflow.schema.json', import.meta.url));
writeFileSync(target, workflowJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
