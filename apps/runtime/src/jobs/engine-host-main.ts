import { Engine } from '../engine/engine.ts';
import type { FromHost, ToHost } from './engine-host-messages.ts';

// An engine in a process of its own, driven over IPC by a ChildEngine: what gives each GPU of `--devices` its own
// process (CUDA_VISIBLE_DEVICES set by the parent), so one device's crash or memory never touches another's.

const send = (msg: FromHost): void => {
  if (process.connected) process.send?.(msg);
};
let engine: Engine | undefined;

process.on('message', (msg: ToHost) => {
  switch (msg.type) {
    case 'start':
      Engine.start({ backend: msg.backend, ...(msg.cacheBytes === undefined ? {} : { cacheBytes: msg.cacheBytes }) })
        .then((e) => {
          engine = e;
          e.on((event) => send({ type: 'event', event }));
          send({ type: 'ready' });
        })
        .catch((err: Error) => send({ type: 'startFailed', error: err.message }));
      return;
    case 'queue':
      engine?.queue(msg.workflow, { runId: msg.runId, ...(msg.targets ? { targets: msg.targets } : {}) });
      return;
    case 'interrupt': {
      engine?.interrupt(msg.runId);
      const step = engine?.snapshot().running?.interruptedAtStep;
      send({ type: 'interruptedAt', runId: msg.runId, ...(step === undefined ? {} : { step }) });
      return;
    }
    case 'backendStats':
    case 'cacheStats': {
      const answer = !engine
        ? Promise.reject(new Error('the engine has not started'))
        : msg.type === 'cacheStats'
          ? engine.cacheStats()
          : engine.backendStats();
      answer.then(
        (value) => send({ type: 'response', id: msg.id, ok: true, value }),
        (err: Error) => send({ type: 'response', id: msg.id, ok: false, error: err.message }),
      );
      return;
    }
  }
});

// The parent went away (it closed us, or it died): end with it, never outliving the server.
process.on('disconnect', () => {
  const close = engine && !engine.snapshot().running ? engine.close() : Promise.resolve();
  void close.finally(() => process.exit(0));
});
