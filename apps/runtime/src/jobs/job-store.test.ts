import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { txt2imgWorkflow } from '../executor/test/txt2img-workflow.ts';
import { JOB_STORE_FILE, JobStore } from './job-store.ts';

describe('JobStore', () => {
  let dir: string;
  let store: JobStore;
  const wf = txt2imgWorkflow({ name: 'stored' });
  const add = (runId: string, queuedAt = 1) => store.insert({ runId, workflow: wf, queuedAt });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sdflow-store-'));
    store = JobStore.open(dir);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps queued runs in order across a reopen, with their workflow and targets', () => {
    add('a');
    store.insert({ runId: 'b', workflow: wf, queuedAt: 2, targets: ['save'], clientId: 'c1' });
    store.close();
    store = JobStore.open(dir);
    expect(store.queued().map((r) => r.runId)).toEqual(['a', 'b']);
    expect(store.get('b')).toMatchObject({ status: 'queued', clientId: 'c1', name: 'stored', attempts: 0 });
    expect(store.job('b')).toEqual({ workflow: wf, targets: ['save'] });
  });

  it('claims, records node boundaries, and ends a run exactly once', () => {
    add('a');
    expect(store.claim('a', 'local', 10)).toBe(true);
    expect(store.claim('a', 'other', 11)).toBe(false);
    store.started('a', ['model', 'save'], 'local', undefined, 12);
    store.setNode('a', 'save', { status: 'finished', files: ['x_00001_.png'], wallMs: 5 });
    expect(store.finish('a', { status: 'finished', wallMs: 7, files: ['x_00001_.png'] }, 20)).toBe(true);
    expect(store.finish('a', { status: 'failed', error: 'late duplicate' }, 21)).toBe(false);
    expect(store.get('a')).toMatchObject({
      status: 'finished',
      attempts: 1,
      worker: 'local',
      startedAt: 10,
      finishedAt: 20,
      files: ['x_00001_.png'],
      nodes: ['model', 'save'],
      nodeStates: { model: { status: 'pending' }, save: { status: 'finished', wallMs: 5 } },
    });
  });

  it('recovers runs left running: back to the queue, or failed after the last attempt', () => {
    add('a');
    add('b');
    store.claim('a', 'local');
    store.claim('b', 'local');
    store.requeue('b', true);
    store.claim('b', 'local');
    const { requeued, failed } = store.recover(2);
    expect(requeued.map((r) => r.runId)).toEqual(['a']);
    expect(failed.map((r) => r.runId)).toEqual(['b']);
    expect(store.get('a')).toMatchObject({ status: 'queued', attempts: 1 });
    expect(store.get('b')).toMatchObject({ status: 'failed', attempts: 2 });
    expect(store.get('b')?.error).toMatch(/2 times \(at most 2 attempts\)/);
    // A shutdown's requeue uses up no attempt.
    store.claim('a', 'local');
    store.requeue('a', false);
    expect(store.get('a')?.attempts).toBe(1);
  });

  it('pages the history newest first with a cursor, deletes and prunes ended runs only', () => {
    for (let i = 0; i < 5; i++) {
      add(`r${i}`);
      store.finish(`r${i}`, { status: 'finished' }, 100 + (i % 3));
    }
    add('waiting');
    const first = store.history({ limit: 2 });
    const second = store.history({ limit: 2, before: first.next! });
    const third = store.history({ limit: 2, before: second.next! });
    const ids = [...first.runs, ...second.runs, ...third.runs].map((r) => r.runId);
    expect(ids).toEqual(['r2', 'r4', 'r1', 'r3', 'r0']);
    expect(third.next).toBeUndefined();
    expect(store.deleteHistory(['r2', 'waiting', 'nope'])).toEqual(['r2']);
    expect(store.prune(2)).toBe(2);
    expect(store.history({ limit: 10 }).runs.map((r) => r.runId)).toEqual(['r4', 'r1']);
    expect(store.deleteHistory()).toEqual(expect.arrayContaining(['r4', 'r1']));
    expect(store.queued().map((r) => r.runId)).toEqual(['waiting']);
    expect(() => store.history({ limit: 1, before: "1' OR 1=1" })).toThrow(/cursor/);
  });

  it('names a worker file once, and forgets the files of a cut-short attempt', () => {
    let n = 0;
    const next = () => `f_${++n}.png`;
    expect(store.fileName('w@1/a.png', 'run', next)).toBe('f_1.png');
    expect(store.fileName('w@1/a.png', 'run', next)).toBe('f_1.png');
    expect(store.fileName('w@2/a.png', 'other', (taken) => (taken('f_1.png') ? 'f_2.png' : 'f_1.png'))).toBe('f_2.png');
    expect(store.knownFile('w@1/a.png')).toBe('f_1.png');
    expect(store.dropFiles('run')).toEqual(['f_1.png']);
    expect(store.knownFile('w@1/a.png')).toBeUndefined();
  });

  it('refuses a store written by a newer format', () => {
    store.close();
    const db = new Database(path.join(dir, JOB_STORE_FILE));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'version'").run();
    db.close();
    expect(() => JobStore.open(dir)).toThrow(/newer sdflow \(format 99/);
    const back = new Database(path.join(dir, JOB_STORE_FILE));
    back.prepare("UPDATE meta SET value = '1' WHERE key = 'version'").run();
    back.close();
    store = JobStore.open(dir);
  });
});
