import { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { FinishedRun, Problem, QueuedRun } from '@sdflow/nodes/protocol/events.ts';
import { z } from 'zod';
import { type Catalog, makeCatalog } from '../catalog/catalog.ts';

// The runtime's HTTP API, every answer validated where it enters.

export async function fetchCatalog(): Promise<Catalog> {
  return makeCatalog(await getJson('/api/catalog'));
}

const ModelItem = z.union([
  z.string().transform((id) => ({ id, label: id, kind: 'sdxl', hasTinyVae: false })),
  z.looseObject({
    id: z.string(),
    label: z.string().optional(),
    kind: z.string().optional(),
    hasTinyVae: z.boolean().optional(),
  }),
]);
const ModelList = z.union([
  z.array(ModelItem),
  z.looseObject({ models: z.array(ModelItem) }).transform((m) => m.models),
]);
export interface ModelOption {
  readonly id: string;
  readonly label: string;
  readonly kind: string;
  readonly hasTinyVae: boolean;
}

export async function fetchModels(): Promise<ModelOption[]> {
  return ModelList.parse(await getJson('/api/models')).map((m) => ({
    id: m.id,
    label: m.label ?? m.id,
    kind: m.kind ?? 'sdxl',
    hasTinyVae: m.hasTinyVae ?? false,
  }));
}

/** The models a picker offers for a param's `source` hint. */
export function modelsFor(models: readonly ModelOption[], source: string): ModelOption[] {
  if (source === 'tinyVaes') return models.filter((m) => m.kind === 'taesd' || m.hasTinyVae);
  if (source === 'models') return models.filter((m) => m.kind === 'sdxl');
  return [];
}

export type QueueResult = { ok: true; runId: string } | { ok: false; problems: Problem[]; message: string };

const Queued = z.looseObject({ runId: z.string() });
const Refused = z.looseObject({
  problems: z.array(Problem).optional(),
  error: z.union([z.string(), z.looseObject({ message: z.string() }).transform((e) => e.message)]).optional(),
  message: z.string().optional(),
});

export async function queueRun(workflow: Workflow, clientId?: string): Promise<QueueResult> {
  const res = await fetch('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(clientId ? { workflow, clientId } : { workflow }),
  });
  const body: unknown = await res.json().catch(() => ({}));
  if (res.ok) return { ok: true, runId: Queued.parse(body).runId };
  const r = Refused.safeParse(body);
  const problems = r.success ? (r.data.problems ?? []) : [];
  const message = (r.success && (r.data.error ?? r.data.message)) || `the runtime refused the run (HTTP ${res.status})`;
  return { ok: false, problems, message };
}

export async function interruptRun(runId?: string): Promise<void> {
  const res = await fetch('/api/interrupt', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(runId ? { runId } : {}),
  });
  if (!res.ok && res.status !== 404 && res.status !== 409) throw new Error(`interrupt failed: HTTP ${res.status}`);
}

const ExampleList = z.union([
  z.array(z.looseObject({ name: z.string(), workflow: z.unknown() })),
  z
    .looseObject({ workflows: z.array(z.looseObject({ name: z.string(), workflow: z.unknown() })) })
    .transform((w) => w.workflows),
]);

/** Example workflows served by the runtime, when it offers GET /api/workflows. */
export async function fetchExamples(): Promise<{ name: string; workflow: unknown }[] | undefined> {
  const res = await fetch('/api/workflows').catch(() => undefined);
  if (!res?.ok || !(res.headers.get('content-type') ?? '').includes('json')) return undefined;
  const parsed = ExampleList.safeParse(await res.json().catch(() => undefined));
  return parsed.success ? parsed.data : undefined;
}

const Outputs = z.looseObject({ files: z.array(z.looseObject({ name: z.string() })) });

/** The output folder's images, newest first, each once: what the gallery shows. */
export async function fetchOutputs(): Promise<string[]> {
  return Outputs.parse(await getJson('/api/outputs')).files.map((f) => f.name);
}

const HistoryPage = z.looseObject({ runs: z.array(FinishedRun), next: z.string().optional() });
export type HistoryPage = z.infer<typeof HistoryPage>;

/** Finished runs, newest first; `before` is the `next` of the previous page. */
export async function fetchHistory(limit: number, before?: string): Promise<HistoryPage> {
  const q = new URLSearchParams({ limit: String(limit), ...(before ? { before } : {}) });
  return HistoryPage.parse(await getJson(`/api/history?${q}`));
}

const QueueList = z.looseObject({
  running: z
    .union([QueuedRun.loose(), z.array(QueuedRun.loose())])
    .nullable()
    .optional(),
  queue: z.array(QueuedRun.loose()),
});

/** Runs running and waiting, oldest first, as the runtime lists them now. */
export async function fetchQueue(): Promise<QueuedRun[]> {
  const q = QueueList.parse(await getJson('/api/queue'));
  const running = Array.isArray(q.running) ? q.running : q.running ? [q.running] : [];
  return [...running, ...q.queue];
}

const RunWithWorkflow = z.looseObject({ runId: z.string(), workflow: z.unknown() });

/** The workflow a run executed (GET /api/history/:runId), or undefined when the runtime no longer has it. */
export async function fetchRunWorkflow(runId: string): Promise<Workflow | undefined> {
  const res = await fetch(`/api/history/${encodeURIComponent(runId)}`);
  if (!res.ok) return undefined;
  const run = RunWithWorkflow.safeParse(await res.json().catch(() => undefined));
  const wf = run.success ? Workflow.safeParse(run.data.workflow) : undefined;
  return wf?.success ? wf.data : undefined;
}

/** Deletes one finished run from the history, or all of them (no runId). */
export async function deleteHistory(runId?: string): Promise<void> {
  const url = runId ? `/api/history/${encodeURIComponent(runId)}` : '/api/history';
  const res = await fetch(url, { method: 'DELETE' });
  if (!res.ok)
    throw new Error(`the runtime could not delete ${runId ? 'the run' : 'the history'} (HTTP ${res.status})`);
}

export async function clearQueue(): Promise<void> {
  const res = await fetch('/api/queue/clear', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error(`the runtime could not clear the queue (HTTP ${res.status})`);
}

export function outputUrl(name: string): string {
  return `/api/outputs/${encodeURIComponent(name)}`;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} failed: HTTP ${res.status}`);
  return res.json();
}
