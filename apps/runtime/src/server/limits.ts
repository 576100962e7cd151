import { DEFAULT_RUN_COST_LIMITS } from '@sdflow/nodes/graph/run-cost.ts';
import { z } from 'zod';

// Size and count caps the server enforces; every one answers with a clear error naming the cap.

export const Limits = z.object({
  /** JSON request bodies (a queued workflow, an interrupt). */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** Raw uploads (a PNG to read a workflow from). */
  maxUploadBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  /** WebSocket text messages: bigger ones get an `error` answer and the connection stays open. */
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** WebSocket frames beyond this are refused by the socket itself (close 1009). */
  maxFrameBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  /** Runs waiting (not counting the running one). */
  maxQueue: z.number().int().positive().default(100),
  /** Runs one history page may hold. */
  maxHistory: z.number().int().positive().default(200),
  /** Ended runs kept on disk (the oldest are pruned beyond it). */
  keepHistory: z.number().int().positive().default(10_000),
  /** Concurrent WebSocket clients. */
  maxClients: z.number().int().positive().default(64),
  /** A run whose largest node needs more working memory than this (estimated) is refused before it is queued. */
  maxRunBytes: z.number().int().positive().default(DEFAULT_RUN_COST_LIMITS.maxBytes),
  /** A run needing more UNet work than this (in evaluations of one 1024² image) is refused before it is queued. */
  maxRunWork: z.number().positive().default(DEFAULT_RUN_COST_LIMITS.maxWork),
});
export type Limits = z.infer<typeof Limits>;

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} bytes`;
}
