import { z } from 'zod';

// The one workflow document: what the editor saves and what the runtime executes.

export const WORKFLOW_VERSION = 1;

export const NodeId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'node ids are 1-64 letters, digits, _ or -');
export type NodeId = z.infer<typeof NodeId>;

export const InputRef = z
  .object({ node: NodeId, output: z.string().min(1) })
  .meta({ description: 'An edge: the output port `output` of node `node` feeds this input.' });
export type InputRef = z.infer<typeof InputRef>;

export const WorkflowNode = z.object({
  type: z.string().min(1),
  /** Node type version this node was saved with. */
  typeVersion: z.number().int().positive().optional(),
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .meta({ description: 'Named params; omitted ones take the node type default.' }),
  inputs: z.record(z.string(), InputRef).default({}).meta({ description: 'Input port name -> the output feeding it.' }),
  title: z.string().optional(),
});
export type WorkflowNode = z.infer<typeof WorkflowNode>;

export const UiNode = z.object({
  x: z.number(),
  y: z.number(),
  width: z.number().optional(),
  height: z.number().optional(),
  collapsed: z.boolean().optional(),
  color: z.string().optional(),
});
export const UiGroup = z.object({
  id: z.string(),
  title: z.string(),
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
  color: z.string().optional(),
});
export const UiNote = z.object({
  id: z.string(),
  text: z.string(),
  x: z.number(),
  y: z.number(),
  width: z.number().optional(),
});
export const Ui = z.object({
  nodes: z.record(z.string(), UiNode).default({}),
  groups: z.array(UiGroup).default([]),
  notes: z.array(UiNote).default([]),
  viewport: z.object({ x: z.number(), y: z.number(), zoom: z.number() }).optional(),
});
export type Ui = z.infer<typeof Ui>;

export const Workflow = z.object({
  version: z.literal(WORKFLOW_VERSION).meta({ description: 'Document format version; older files are migrated.' }),
  meta: z.object({ name: z.string().optional(), description: z.string().optional() }).default({}),
  nodes: z.record(NodeId, WorkflowNode).meta({ description: 'Nodes keyed by their stable id.' }),
  /** Layout only: execution ignores it. */
  ui: Ui.optional(),
});
export type Workflow = z.infer<typeof Workflow>;
