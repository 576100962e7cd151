import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { RunContext, SdxlBackend } from '@sdflow/nodes/backend.ts';
import type { Catalog } from '@sdflow/nodes/catalog.ts';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { isNodeError, NodeError } from '@sdflow/nodes/node-error.ts';
import type { RunEvent } from '@sdflow/nodes/protocol/events.ts';
import type { Images } from '@sdflow/nodes/values.ts';
import { startMemoryProbe } from './memory-probe.ts';
import type { OutputCache } from './output-cache.ts';
import { lookupNodeType, PlanError, planRun } from './plan.ts';
import { nodeSignature } from './signature.ts';

// Runs one workflow: plan, then each node in order, served from the output cache when its input signature
// was seen before. Never throws for a failing node or an abort: the outcome is in the events and the result.

export interface ExecuteOptions {
  readonly catalog: Catalog;
  readonly backend: SdxlBackend;
  readonly cache: OutputCache;
  readonly emit: (event: RunEvent) => void;
  readonly signal?: AbortSignal;
  readonly runId?: string;
  /** Output nodes to plan from; default: every output node of the workflow. */
  readonly targets?: readonly string[];
  readonly onPreview?: (nodeId: string, image: Images) => void;
}

export type NodeStatus = 'pending' | 'finished' | 'cached' | 'failed' | 'interrupted';

export interface NodeReport {
  readonly nodeId: string;
  readonly type: string;
  status: NodeStatus;
  cached: boolean;
  wallMs?: number;
  /** Peak resident bytes of the process while the node ran (see memory-probe.ts). */
  peakBytes?: number;
  files: string[];
  error?: string;
}

export interface RunResult {
  readonly runId: string;
  readonly status: 'finished' | 'failed' | 'interrupted';
  readonly wallMs: number;
  readonly nodes: NodeReport[];
  readonly files: string[];
  readonly error?: string;
  readonly nodeId?: string;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function execute(workflow: Workflow, opts: ExecuteOptions): Promise<RunResult> {
  const { catalog, backend, cache, emit } = opts;
  const signal = opts.signal ?? new AbortController().signal;
  const runId = opts.runId ?? crypto.randomUUID();
  const t0 = performance.now();
  const nodes: NodeReport[] = [];
  const files: string[] = [];
  const done = (status: RunResult['status'], extra: { error?: string; nodeId?: string } = {}): RunResult => ({
    runId,
    status,
    wallMs: performance.now() - t0,
    nodes,
    files,
    ...extra,
  });
  const fail = (error: string, nodeId?: string): RunResult => {
    emit({ type: 'runFailed', runId, error, ...(nodeId === undefined ? {} : { nodeId }) });
    return done('failed', { error, ...(nodeId === undefined ? {} : { nodeId }) });
  };

  let order: readonly string[];
  try {
    order = planRun(workflow, catalog, opts.targets).order;
  } catch (err) {
    emit({ type: 'runStarted', runId, nodes: [] });
    return fail(errorText(err), err instanceof PlanError ? err.nodeId : undefined);
  }
  for (const id of order)
    nodes.push({ nodeId: id, type: workflow.nodes[id]!.type, status: 'pending', cached: false, files: [] });
  emit({ type: 'runStarted', runId, nodes: [...order] });

  const failNode = (report: NodeReport, err: unknown): RunResult => {
    const error = errorText(err);
    report.status = 'failed';
    report.error = error;
    const where = isNodeError(err) ? { port: err.port, param: err.param } : {};
    emit({ type: 'nodeFailed', runId, nodeId: report.nodeId, error, ...dropUndefined(where) });
    return fail(`node "${report.nodeId}" (${report.type}) failed: ${error}`, report.nodeId);
  };
  const interrupted = (report: NodeReport): RunResult => {
    report.status = 'interrupted';
    emit({ type: 'runInterrupted', runId, nodeId: report.nodeId });
    return done('interrupted', { nodeId: report.nodeId });
  };

  // Params are parsed (defaults filled in) and signatures computed up front: both are pure.
  const params = new Map<string, unknown>();
  const signatures = new Map<string, string>();
  for (const report of nodes) {
    const node = workflow.nodes[report.nodeId]!;
    const entry = lookupNodeType(catalog, node.type)!;
    const parsed = entry.def.params.safeParse(node.params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path[0] === undefined ? undefined : String(issue.path[0]);
      const message = `${param === undefined ? 'params' : `param "${param}"`}: ${issue?.message ?? 'invalid'}`;
      return failNode(report, new NodeError(message, param === undefined ? {} : { param }));
    }
    params.set(report.nodeId, parsed.data);
    const inputs: Record<string, { signature: string; output: string }> = {};
    for (const [port, ref] of Object.entries(node.inputs)) {
      inputs[port] = { signature: signatures.get(ref.node)!, output: ref.output };
    }
    signatures.set(
      report.nodeId,
      nodeSignature({ type: node.type, version: entry.def.version, params: parsed.data, inputs }),
    );
  }

  const workflowJson = JSON.stringify(workflow);
  const values = new Map<string, Readonly<Record<string, unknown>>>();
  for (const report of nodes) {
    // Let queued messages (an interrupt) through between nodes, then honour the signal.
    await yieldToEventLoop();
    if (signal.aborted) return interrupted(report);
    const { nodeId } = report;
    const node = workflow.nodes[nodeId]!;
    const entry = lookupNodeType(catalog, node.type)!;
    const signature = signatures.get(nodeId)!;

    const hit = cache.get(signature);
    if (hit) {
      values.set(nodeId, hit.outputs);
      report.status = 'cached';
      report.cached = true;
      report.files = [...hit.files];
      files.push(...hit.files);
      emit({ type: 'nodeCached', runId, nodeId });
      continue;
    }

    const nodeFiles: string[] = [];
    const probe = startMemoryProbe();
    const start = performance.now();
    emit({ type: 'nodeStarted', runId, nodeId });
    try {
      const inputs: Record<string, unknown> = {};
      for (const [port, ref] of Object.entries(node.inputs)) {
        const upstream = values.get(ref.node);
        if (!upstream || !(ref.output in upstream)) {
          throw new NodeError(`input "${port}": node "${ref.node}" has no output "${ref.output}"`, { port });
        }
        inputs[port] = upstream[ref.output];
      }
      const ctx: RunContext = {
        runId,
        nodeId,
        backend,
        signal,
        workflowJson,
        progress(value, max) {
          probe.sample();
          emit({ type: 'nodeProgress', runId, nodeId, value, max });
        },
        preview(image) {
          opts.onPreview?.(nodeId, image);
        },
        emitFiles(list) {
          nodeFiles.push(...list);
        },
      };
      const run = entry.run as unknown as (args: {
        params: unknown;
        inputs: unknown;
        ctx: RunContext;
      }) => Promise<unknown>;
      const outputs = (await run({ params: params.get(nodeId), inputs, ctx })) as Record<string, unknown> | undefined;
      for (const name of Object.keys(entry.def.outputs)) {
        if (outputs?.[name] === undefined) throw new NodeError(`kernel returned no value for output "${name}"`);
      }
      const result = outputs ?? {};
      values.set(nodeId, result);
      // An output that is being aborted may be partial, so only completed nodes are cached.
      cache.set(signature, result, nodeFiles);
      report.status = 'finished';
      report.wallMs = performance.now() - start;
      report.peakBytes = probe.stop();
      report.files = nodeFiles;
      files.push(...nodeFiles);
      emit({
        type: 'nodeFinished',
        runId,
        nodeId,
        wallMs: report.wallMs,
        peakBytes: report.peakBytes,
        files: [...nodeFiles],
      });
    } catch (err) {
      report.wallMs = performance.now() - start;
      report.peakBytes = probe.stop();
      if (signal.aborted) return interrupted(report);
      return failNode(report, err);
    }
  }
  const result = done('finished');
  emit({ type: 'runFinished', runId, wallMs: result.wallMs, files: [...files] });
  return result;
}

function dropUndefined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
