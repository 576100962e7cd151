import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../engine/engine.ts';
import { type RunningServer, type ServeOptions, serve } from '../serve.ts';

// serve() in-process over the executor's fake backend (real worker thread, no ONNX): for the server's own tests.

const fakeBackend = fileURLToPath(new URL('../../executor/test/fake-backend.ts', import.meta.url));
export const fixtureDir = path.resolve(
  fileURLToPath(new URL('../../../../../', import.meta.url)),
  '../shared/fixtures/sdxl-tiny',
);

export interface TestServer extends RunningServer {
  readonly dirs: { root: string; models: string; output: string; cache: string; editor: string };
  stop(): Promise<void>;
}

export async function startTestServer(opts: Partial<ServeOptions> & { stepMs?: number } = {}): Promise<TestServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'sdflow-server-'));
  const dirs = {
    root,
    models: path.join(root, 'models'),
    output: path.join(root, 'output'),
    cache: path.join(root, 'cache'),
    editor: path.join(root, 'editor-dist'),
  };
  await mkdir(dirs.models);
  await symlink(fixtureDir, path.join(dirs.models, 'tiny'), 'dir');
  const engine = await Engine.start({
    backend: {
      module: fakeBackend,
      export: 'createFakeBackend',
      options: { stepMs: opts.stepMs ?? 2, outputDir: dirs.output },
    },
  });
  const server = await serve({
    port: 0,
    modelsDir: dirs.models,
    outputDir: dirs.output,
    cacheDir: dirs.cache,
    editorDir: dirs.editor,
    engine,
    ...opts,
  });
  return {
    ...server,
    dirs,
    async stop() {
      await server.close();
      await engine.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
