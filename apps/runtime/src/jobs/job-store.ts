import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import type { NodeRunState } from '@sdflow/nodes/protocol/events.ts';
import Database from 'better-sqlite3';

// Every accepted run, its state and its history, on disk (SQLite), so that neither a restart nor kill -9 nor a
// power cut loses a run the server answered 202 for. The server's memory holds only live progress.

export type RunStatus = 'queued' | 'running' | 'finished' | 'failed' | 'interrupted';
export type EndStatus = Exclude<RunStatus, 'queued' | 'running'>;

/** A run as stored, without its workflow (read that with `job(runId)` when the run is about to execute). */
export interface StoredRun {
  readonly runId: string;
  readonly seq: number;
  readonly status: RunStatus;
  readonly clientId?: string;
  readonly name?: string;
  readonly queuedAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly wallMs?: number;
  /** Times the run was started; more than 1 after a crash or a lost worker (at-least-once). */
  readonly attempts: number;
  readonly worker?: string;
  /** Planned nodes in execution order (from runStarted). */
  readonly nodes: string[];
  readonly nodeStates: Record<string, NodeRunState>;
  readonly files: string[];
  readonly error?: string;
  readonly nodeId?: string;
}

export interface NewRun {
  readonly runId: string;
  readonly workflow: Workflow;
  readonly targets?: readonly string[];
  readonly clientId?: string;
  readonly queuedAt: number;
}

export interface RunEnd {
  readonly status: EndStatus;
  readonly wallMs?: number;
  readonly files?: readonly string[];
  readonly error?: string;
  readonly nodeId?: string;
}

export interface HistoryPage {
  readonly runs: StoredRun[];
  /** Pass back as `before` for the next (older) page; absent on the last page. */
  readonly next?: string;
}

/** The on-disk format's version; a newer file is refused rather than misread. */
export const JOB_STORE_VERSION = 1;
export const JOB_STORE_FILE = 'jobs.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  client_id TEXT,
  name TEXT,
  workflow TEXT NOT NULL,
  targets TEXT,
  queued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  wall_ms REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT,
  nodes TEXT NOT NULL DEFAULT '[]',
  node_states TEXT NOT NULL DEFAULT '{}',
  files TEXT NOT NULL DEFAULT '[]',
  error TEXT,
  node_id TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, seq);
CREATE INDEX IF NOT EXISTS runs_by_end ON runs (finished_at, seq) WHERE finished_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS run_files (
  source TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  name TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS run_files_by_run ON run_files (run_id);
`;

interface Row {
  seq: number;
  run_id: string;
  status: RunStatus;
  client_id: string | null;
  name: string | null;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  wall_ms: number | null;
  attempts: number;
  worker: string | null;
  nodes: string;
  node_states: string;
  files: string;
  error: string | null;
  node_id: string | null;
}

const COLUMNS =
  'seq, run_id, status, client_id, name, queued_at, started_at, finished_at, wall_ms, attempts, worker, nodes, ' +
  'node_states, files, error, node_id';
const ACTIVE = "status IN ('queued', 'running')";

export class JobStoreError extends Error {
  override readonly name = 'JobStoreError';
}

export class JobStore {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating) the store in `dataDir`. */
  static open(dataDir: string): JobStore {
    mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, JOB_STORE_FILE);
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw new JobStoreError(`cannot open the job store ${JOB_STORE_FILE}: ${(err as Error).message}`);
    }
    // WAL keeps readers off the writer's back; FULL sync makes an accepted run survive a power cut, not only a crash.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    const version = db.prepare('SELECT value FROM meta WHERE key = ?').get('version') as { value: string } | undefined;
    if (version === undefined) {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('version', String(JOB_STORE_VERSION));
    } else if (Number(version.value) > JOB_STORE_VERSION) {
      db.close();
      throw new JobStoreError(
        `the job store ${JOB_STORE_FILE} was written by a newer sdflow (format ${version.value}, this one reads ${JOB_STORE_VERSION})`,
      );
    }
    return new JobStore(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  insert(run: NewRun): StoredRun {
    this.db
      .prepare(
        'INSERT INTO runs (run_id, status, client_id, name, workflow, targets, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        run.runId,
        'queued',
        run.clientId ?? null,
        run.workflow.meta?.name ?? null,
        JSON.stringify(run.workflow),
        run.targets ? JSON.stringify(run.targets) : null,
        run.queuedAt,
      );
    return this.get(run.runId)!;
  }

  /** Removes a run outright (one the queue refused to take after it was stored). */
  remove(runId: string): void {
    this.db.prepare('DELETE FROM runs WHERE run_id = ?').run(runId);
  }

  get(runId: string): StoredRun | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM runs WHERE run_id = ?`).get(runId) as Row | undefined;
    return row && toRun(row);
  }

  /** What a worker needs to execute the run. */
  job(runId: string): { workflow: Workflow; targets?: string[] } | undefined {
    const row = this.db.prepare('SELECT workflow, targets FROM runs WHERE run_id = ?').get(runId) as
      | { workflow: string; targets: string | null }
      | undefined;
    if (!row) return undefined;
    return {
      workflow: JSON.parse(row.workflow) as Workflow,
      ...(row.targets === null ? {} : { targets: JSON.parse(row.targets) as string[] }),
    };
  }

  /** Queued runs, oldest first. */
  queued(limit = -1): StoredRun[] {
    return this.list("status = 'queued' ORDER BY seq LIMIT ?", limit);
  }

  queuedCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'queued'").get() as { n: number }).n;
  }

  /** Running runs, oldest first. */
  running(): StoredRun[] {
    return this.list("status = 'running' ORDER BY seq LIMIT ?", -1);
  }

  /** Marks a queued run as running on `worker`; false when it is no longer queued (dropped meanwhile). */
  claim(runId: string, worker: string, now = Date.now()): boolean {
    const r = this.db
      .prepare(
        "UPDATE runs SET status = 'running', attempts = attempts + 1, worker = ?, started_at = ?, nodes = '[]', " +
          "node_states = '{}' WHERE run_id = ? AND status = 'queued'",
      )
      .run(worker, now, runId);
    return r.changes === 1;
  }

  /** A worker began the run (its runStarted): the planned nodes, pending. For runs claimed elsewhere (Redis). */
  started(
    runId: string,
    nodes: readonly string[],
    worker: string | undefined,
    attempts: number | undefined,
    now: number,
  ) {
    const states = Object.fromEntries(nodes.map((id) => [id, { status: 'pending', files: [] }]));
    this.db
      .prepare(
        `UPDATE runs SET status = 'running', nodes = ?, node_states = ?, started_at = coalesce(started_at, ?),
         worker = coalesce(?, worker), attempts = max(attempts, coalesce(?, attempts)) WHERE run_id = ? AND ${ACTIVE}`,
      )
      .run(JSON.stringify(nodes), JSON.stringify(states), now, worker ?? null, attempts ?? null, runId);
  }

  /** Records a node's state (node boundaries only: progress lives in memory). */
  setNode(runId: string, nodeId: string, state: NodeRunState): void {
    this.db.transaction(() => {
      const row = this.db.prepare(`SELECT node_states FROM runs WHERE run_id = ? AND ${ACTIVE}`).get(runId) as
        | { node_states: string }
        | undefined;
      if (!row) return;
      const states = JSON.parse(row.node_states) as Record<string, NodeRunState>;
      states[nodeId] = state;
      this.db.prepare('UPDATE runs SET node_states = ? WHERE run_id = ?').run(JSON.stringify(states), runId);
    })();
  }

  /** Ends a queued or running run; false when it had already ended (each run ends exactly once). */
  finish(runId: string, end: RunEnd, now = Date.now()): boolean {
    return this.db.transaction(() => {
      const row = this.db
        .prepare(`SELECT started_at, node_states FROM runs WHERE run_id = ? AND ${ACTIVE}`)
        .get(runId) as { started_at: number | null; node_states: string } | undefined;
      if (!row) return false;
      const states = JSON.parse(row.node_states) as Record<string, NodeRunState>;
      if (end.status === 'interrupted' && end.nodeId !== undefined && states[end.nodeId]) {
        states[end.nodeId]!.status = 'interrupted';
      }
      const wallMs = end.wallMs ?? (row.started_at === null ? null : now - row.started_at);
      this.db
        .prepare(
          'UPDATE runs SET status = ?, finished_at = ?, wall_ms = ?, files = ?, error = ?, node_id = ?, node_states = ? ' +
            'WHERE run_id = ?',
        )
        .run(
          end.status,
          now,
          wallMs,
          JSON.stringify(end.files ?? []),
          end.error ?? null,
          end.nodeId ?? null,
          JSON.stringify(states),
          runId,
        );
      return true;
    })();
  }

  /**
   * Puts a running run back in the queue, in its old place. `countAttempt: false` for runs stopped on purpose (a
   * shutdown), which should not use up the attempts a crash is allowed.
   */
  requeue(runId: string, countAttempt: boolean): boolean {
    const r = this.db
      .prepare(
        "UPDATE runs SET status = 'queued', worker = NULL, started_at = NULL, nodes = '[]', node_states = '{}', " +
          `attempts = attempts - ? WHERE run_id = ? AND status = 'running'`,
      )
      .run(countAttempt ? 0 : 1, runId);
    return r.changes === 1;
  }

  /**
   * After a crash: every run left running goes back to the queue, or fails once it has been started
   * `maxAttempts` times. Returns both lists as they were (their files are from the unfinished attempt).
   */
  recover(maxAttempts: number, now = Date.now()): { requeued: StoredRun[]; failed: StoredRun[] } {
    return this.db.transaction(() => {
      const stale = this.running();
      const requeued: StoredRun[] = [];
      const failed: StoredRun[] = [];
      for (const run of stale) {
        if (run.attempts >= maxAttempts) {
          this.finish(
            run.runId,
            {
              status: 'failed',
              error: `the runtime stopped while running this run ${run.attempts} time${run.attempts === 1 ? '' : 's'} (at most ${maxAttempts} attempts)`,
            },
            now,
          );
          failed.push(run);
        } else {
          this.requeue(run.runId, true);
          requeued.push(run);
        }
      }
      return { requeued, failed };
    })();
  }

  /** Ended runs, newest first; `before` is a cursor from a previous page. */
  history(opts: { limit: number; before?: string }): HistoryPage {
    const cursor = opts.before === undefined ? undefined : parseCursor(opts.before);
    const where = cursor
      ? 'finished_at IS NOT NULL AND (finished_at < ? OR (finished_at = ? AND seq < ?))'
      : 'finished_at IS NOT NULL';
    const args = cursor ? [cursor.finishedAt, cursor.finishedAt, cursor.seq] : [];
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM runs WHERE ${where} ORDER BY finished_at DESC, seq DESC LIMIT ?`)
      .all(...args, opts.limit + 1) as Row[];
    const runs = rows.slice(0, opts.limit).map(toRun);
    const last = runs.at(-1);
    return rows.length > opts.limit && last ? { runs, next: `${last.finishedAt}.${last.seq}` } : { runs };
  }

  /** Deletes ended runs (queued and running ones stay); returns the ids deleted. */
  deleteHistory(runIds?: readonly string[]): string[] {
    return this.db.transaction(() => {
      const ids =
        runIds === undefined
          ? (this.db.prepare(`SELECT run_id FROM runs WHERE NOT ${ACTIVE}`).all() as { run_id: string }[]).map(
              (r) => r.run_id,
            )
          : runIds.filter((id) => this.get(id)?.finishedAt !== undefined);
      const del = this.db.prepare('DELETE FROM runs WHERE run_id = ?');
      const delFiles = this.db.prepare('DELETE FROM run_files WHERE run_id = ?');
      for (const id of ids) {
        del.run(id);
        delFiles.run(id);
      }
      return ids;
    })();
  }

  /** Keeps the newest `keep` ended runs. */
  prune(keep: number): number {
    const r = this.db
      .prepare(
        `DELETE FROM runs WHERE seq IN (SELECT seq FROM runs WHERE finished_at IS NOT NULL
         ORDER BY finished_at DESC, seq DESC LIMIT -1 OFFSET ?)`,
      )
      .run(keep);
    this.db.prepare('DELETE FROM run_files WHERE run_id NOT IN (SELECT run_id FROM runs)').run();
    return r.changes;
  }

  /**
   * The output name here of a file a worker made (`source`: the worker's own, unique name for it), recorded before
   * the file is written. A run served from a worker's cache names the file an earlier run shipped, and finds it.
   */
  fileName(source: string, runId: string, allocate: (taken: (name: string) => boolean) => string): string {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT name FROM run_files WHERE source = ?').get(source) as
        | { name: string }
        | undefined;
      if (row) return row.name;
      const taken = this.db.prepare('SELECT 1 FROM run_files WHERE name = ?');
      const name = allocate((n) => taken.get(n) !== undefined);
      this.db.prepare('INSERT INTO run_files (source, run_id, name) VALUES (?, ?, ?)').run(source, runId, name);
      return name;
    })();
  }

  /** The name a worker's file already has here, if it was shipped before. */
  knownFile(source: string): string | undefined {
    return (this.db.prepare('SELECT name FROM run_files WHERE source = ?').get(source) as { name: string } | undefined)
      ?.name;
  }

  /** Forgets the files a run's earlier attempt shipped (before it runs again); returns their names. */
  dropFiles(runId: string): string[] {
    return this.db.transaction(() => {
      const names = (
        this.db.prepare('SELECT name FROM run_files WHERE run_id = ?').all(runId) as { name: string }[]
      ).map((r) => r.name);
      this.db.prepare('DELETE FROM run_files WHERE run_id = ?').run(runId);
      return names;
    })();
  }

  private list(where: string, limit: number): StoredRun[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM runs WHERE ${where}`).all(limit) as Row[]).map(toRun);
  }
}

/** A history page's `next`: the last run's end time and sequence number. */
export const HISTORY_CURSOR = /^(\d{1,16})\.(\d{1,16})$/;

function parseCursor(text: string): { finishedAt: number; seq: number } {
  const m = HISTORY_CURSOR.exec(text);
  if (!m)
    throw new JobStoreError(`"before" must be a cursor from a previous page's "next", got "${text.slice(0, 40)}"`);
  return { finishedAt: Number(m[1]), seq: Number(m[2]) };
}

function toRun(r: Row): StoredRun {
  return {
    runId: r.run_id,
    seq: r.seq,
    status: r.status,
    ...(r.client_id === null ? {} : { clientId: r.client_id }),
    ...(r.name === null ? {} : { name: r.name }),
    queuedAt: r.queued_at,
    ...(r.started_at === null ? {} : { startedAt: r.started_at }),
    ...(r.finished_at === null ? {} : { finishedAt: r.finished_at }),
    ...(r.wall_ms === null ? {} : { wallMs: r.wall_ms }),
    attempts: r.attempts,
    ...(r.worker === null ? {} : { worker: r.worker }),
    nodes: JSON.parse(r.nodes) as string[],
    nodeStates: JSON.parse(r.node_states) as Record<string, NodeRunState>,
    files: JSON.parse(r.files) as string[],
    ...(r.error === null ? {} : { error: r.error }),
    ...(r.node_id === null ? {} : { nodeId: r.node_id }),
  };
}
