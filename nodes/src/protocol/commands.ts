import { z } from 'zod';
import { type ParseResult, parseFrame } from './events.ts';

// Client -> runtime: one union. Every command may carry a requestId that the answer (ack, error,
// validationFailed, snapshot) echoes.

const requestId = z.string().min(1).max(200).optional();

export const QueueRun = z.object({
  type: z.literal('queueRun'),
  /** Checked by validateWorkflow on arrival, so that problems come back per node rather than as one parse error. */
  workflow: z.unknown(),
  clientId: z.string().max(200).optional(),
  /** Run only what these nodes need (default: every output node). */
  targets: z.array(z.string()).max(10_000).optional(),
  requestId,
});
export type QueueRun = z.infer<typeof QueueRun>;

export const ClientCommand = z.discriminatedUnion('type', [
  QueueRun,
  /** The given run, queued or running; without runId, the running one. */
  z.object({ type: z.literal('interrupt'), runId: z.string().optional(), requestId }),
  /** Drops every queued run that has not started. */
  z.object({ type: z.literal('clearQueue'), requestId }),
  z.object({ type: z.literal('getSnapshot'), requestId }),
  /** Follow runs: the given ones, or every run (the default) including those queued by other clients. */
  z.object({ type: z.literal('subscribe'), runIds: z.array(z.string()).max(1000).optional(), requestId }),
]);
export type ClientCommand = z.infer<typeof ClientCommand>;
export type ClientCommandType = ClientCommand['type'];

/** Parses one text frame from a client. */
export function parseClientCommand(text: string): ParseResult<ClientCommand> {
  return parseFrame(text, ClientCommand);
}
