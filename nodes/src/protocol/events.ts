import { z } from 'zod';

// Runtime -> client: one union, plain data. Executor events are the run-scoped members.

export const PROTOCOL_VERSION = 1;

export const Problem = z.object({
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  port: z.string().optional(),
  param: z.string().optional(),
  line: z.number().optional(),
  column: z.number().optional(),
});
export type Problem = z.infer<typeof Problem>;

const run = { runId: z.string() };
const node = { runId: z.string(), nodeId: z.string() };

export const RunEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('runQueued'), ...run, position: z.number().int() }),
  z.object({ type: z.literal('runStarted'), ...run, nodes: z.array(z.string()) }),
  z.object({ type: z.literal('nodeStarted'), ...node }),
  z.object({ type: z.literal('nodeProgress'), ...node, value: z.number(), max: z.number() }),
  z.object({ type: z.literal('nodeCached'), ...node }),
  z.object({
    type: z.literal('nodeFinished'),
    ...node,
    wallMs: z.number(),
    peakBytes: z.number().optional(),
    files: z.array(z.string()).default([]),
  }),
  z.object({
    type: z.literal('nodeFailed'),
    ...node,
    error: z.string(),
    port: z.string().optional(),
    param: z.string().optional(),
  }),
  z.object({ type: z.literal('runFinished'), ...run, wallMs: z.number(), files: z.array(z.string()).default([]) }),
  z.object({ type: z.literal('runFailed'), ...run, error: z.string(), nodeId: z.string().optional() }),
  z.object({ type: z.literal('runInterrupted'), ...run, nodeId: z.string().optional() }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
