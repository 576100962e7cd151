import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { Message, TestClient } from '@sdflow/runtime/server/test/ws-test-client.ts';

// HTTP helpers against a running server: JSON requests (with the token when there is one) and run waiting.

export class Api {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/ws${this.token ? `?token=${encodeURIComponent(this.token)}` : ''}`;
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.token}`);
    return fetch(`${this.url}${path}`, { ...init, headers });
  }

  async json<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> {
    const res = await this.fetch(path, init);
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  post(path: string, body: unknown): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async queue(workflow: Workflow): Promise<string> {
    const res = await this.post('/api/runs', { workflow });
    if (res.status !== 202) throw new Error(`POST /api/runs: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { runId: string }).runId;
  }

  stats(): Promise<Stats> {
    return this.json<Stats>('/api/stats');
  }
}

export interface StoreStats {
  readonly created: Record<string, number>;
  readonly resident: string[];
  readonly peakResident: number;
}
export interface Stats {
  readonly backend: { store?: StoreStats };
}

const ENDED = new Set(['runFinished', 'runFailed', 'runInterrupted']);

/** Waits for the run's end event on the client; fails with the run's error when it did not finish. */
export async function runEnd(client: TestClient, runId: string, timeoutMs = 150_000): Promise<Message> {
  const end = await client.waitForMessage(
    (m) => m.runId === runId && ENDED.has(m.type),
    `end of run ${runId}`,
    0,
    timeoutMs,
  );
  return end;
}

export async function finished(client: TestClient, runId: string): Promise<Message> {
  const end = await runEnd(client, runId);
  if (end.type !== 'runFinished') throw new Error(`run ${runId} ended with ${JSON.stringify(end)}`);
  return end;
}

/** Node ids of the run that reported `type` (nodeStarted, nodeCached, ...). */
export function nodesWith(client: TestClient, runId: string, type: string): string[] {
  return client.ofRun(runId).flatMap((m) => (m.type === type ? [m.nodeId as string] : []));
}
