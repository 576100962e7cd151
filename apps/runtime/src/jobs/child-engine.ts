import { type ChildProcess, fork } from 'node:child_process';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { parseDeviceEntry } from '../engine/device-entry.ts';
import type { EngineEvent, EngineSnapshot } from '../engine/engine.ts';
import type { BackendStats, ModuleSpec } from '../engine/messages.ts';
import type { FromHost, ToHost } from './engine-host-messages.ts';
import type { EngineLike } from './engine-like.ts';

// An Engine in a child process, seen through the same face as an in-process one. `cuda:N` runs it with
// CUDA_VISIBLE_DEVICES=N, so the backend's device 0 is that GPU and nothing else is visible to it.

export interface ChildEngineOptions {
  /** `cpu`, `cuda`, `cuda:N`, `webgpu`. */
  readonly device: string;
  readonly backend: ModuleSpec;
  readonly cacheBytes?: number | undefined;
}

const HOST = new URL('./engine-host.mjs', import.meta.url);
const ENDS = new Set(['runFinished', 'runFailed', 'runInterrupted']);

export class ChildEngine implements EngineLike {
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private child!: ChildProcess;
  private requestId = 0;
  private closed = false;
  private running: { runId: string; workflow: Workflow; startedAt: number; step?: number } | undefined;
  private interruptedAtStep: number | undefined;

  private constructor(private readonly opts: ChildEngineOptions) {}

  static async start(opts: ChildEngineOptions): Promise<ChildEngine> {
    const engine = new ChildEngine(opts);
    await engine.spawn();
    return engine;
  }

  queue(workflow: Workflow, opts: { targets?: readonly string[]; runId?: string } = {}): string {
    if (this.closed) throw new Error('engine is closed');
    if (this.running) throw new Error(`the ${this.opts.device} engine is busy`);
    const runId = opts.runId ?? crypto.randomUUID();
    this.running = { runId, workflow, startedAt: Date.now() };
    this.interruptedAtStep = undefined;
    this.post({ type: 'queue', runId, workflow, ...(opts.targets ? { targets: opts.targets } : {}) });
    return runId;
  }

  interrupt(runId?: string): boolean {
    const cur = this.running;
    if (!cur || (runId !== undefined && runId !== cur.runId)) return false;
    this.interruptedAtStep = cur.step;
    this.post({ type: 'interrupt', runId: cur.runId });
    return true;
  }

  snapshot(): EngineSnapshot {
    const cur = this.running;
    return {
      running: cur
        ? {
            runId: cur.runId,
            workflow: cur.workflow,
            startedAt: cur.startedAt,
            ...(this.interruptedAtStep === undefined ? {} : { interruptedAtStep: this.interruptedAtStep }),
          }
        : null,
      queued: [],
    };
  }

  on(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  backendStats(): Promise<BackendStats> {
    const id = ++this.requestId;
    return this.request(id, { type: 'backendStats', id }) as Promise<BackendStats>;
  }

  cacheStats(): Promise<unknown> {
    const id = ++this.requestId;
    return this.request(id, { type: 'cacheStats', id });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    // Disconnecting tells the host to close its engine and exit; a host that hangs is killed.
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_MS);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): Promise<void> {
    const index = parseDeviceEntry(this.opts.device)?.index;
    const env = { ...process.env };
    if (index !== undefined) env.CUDA_VISIBLE_DEVICES = index;
    const child = fork(HOST, [], { env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      let started = false;
      child.on('message', (msg: FromHost) => {
        if (msg.type === 'ready') {
          started = true;
          resolve();
        } else if (msg.type === 'startFailed') {
          reject(new Error(`engine on ${this.opts.device}: ${msg.error}`));
          child.kill();
        } else this.receive(msg);
      });
      child.once('exit', (code, signal) => {
        if (!started) reject(new Error(`engine on ${this.opts.device} exited (${signal ?? code}) while starting`));
        else if (!this.closed) this.crashed(`the engine process on ${this.opts.device} exited (${signal ?? code})`);
      });
      const start: ToHost = {
        type: 'start',
        backend: this.opts.backend,
        ...(this.opts.cacheBytes === undefined ? {} : { cacheBytes: this.opts.cacheBytes }),
      };
      child.send(start);
    });
  }

  private receive(msg: FromHost): void {
    switch (msg.type) {
      case 'event': {
        const e = msg.event;
        const cur = this.running;
        if (cur && e.type === 'nodeProgress' && e.runId === cur.runId) cur.step = e.value;
        if (cur && ENDS.has(e.type) && 'runId' in e && e.runId === cur.runId) this.running = undefined;
        this.emit(e);
        return;
      }
      case 'interruptedAt':
        if (msg.step !== undefined && this.running?.runId === msg.runId) {
          this.interruptedAtStep = Math.max(this.interruptedAtStep ?? 0, msg.step);
        }
        return;
      case 'response': {
        const r = this.requests.get(msg.id);
        this.requests.delete(msg.id);
        if (msg.ok) r?.resolve(msg.value);
        else r?.reject(new Error(msg.error));
        return;
      }
      default:
        return;
    }
  }

  /** The host died: its run fails, and a new host takes the next run. */
  private crashed(error: string): void {
    const cur = this.running;
    this.running = undefined;
    for (const r of this.requests.values()) r.reject(new Error(error));
    this.requests.clear();
    if (cur) this.emit({ type: 'runFailed', runId: cur.runId, error });
    this.spawn().catch(() => {
      this.closed = true;
    });
  }

  private request(id: number, msg: ToHost): Promise<unknown> {
    if (this.closed || !this.child.connected) return Promise.reject(new Error('engine is closed'));
    return new Promise((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      this.post(msg);
    });
  }

  private post(msg: ToHost): void {
    if (this.child.connected) this.child.send(msg);
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) l(e);
  }
}

const CLOSE_MS = 20_000;
