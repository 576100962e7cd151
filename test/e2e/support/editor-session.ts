import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type Browser, launchBrowser } from './browser.ts';
import { ensureEditorBuilt } from './editor-build.ts';
import { byTestId } from './editor-page.ts';
import { attachRuntime, type RuntimeProcess, startRuntime } from './runtime-process.ts';

// One test file's world: a built editor, a runtime of its own (or SDFLOW_E2E_URL's), a browser on the editor.

export interface EditorSession {
  runtime: RuntimeProcess;
  readonly browser: Browser;
  readonly page: Page;
  /** Whether the runtime is SDFLOW_E2E_URL's, which the tests must not stop. */
  readonly external: boolean;
  /** Every answer the page got from the runtime, as "METHOD /path STATUS" (query strings dropped). */
  readonly responses: string[];
  shot(name: string): Promise<unknown>;
  close(): Promise<void>;
}

export async function openEditorSession(repoRoot: string): Promise<EditorSession> {
  const artifacts = path.join(repoRoot, 'test-artifacts/e2e');
  await mkdir(artifacts, { recursive: true });
  await ensureEditorBuilt(repoRoot);
  const externalUrl = process.env.SDFLOW_E2E_URL;
  const runtime = externalUrl ? await attachRuntime(externalUrl) : await startRuntime(repoRoot);
  const browser = await launchBrowser();
  const page = browser.page;
  const responses: string[] = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (url.origin === new URL(runtime.url).origin) {
      responses.push(`${r.request().method()} ${url.pathname} ${r.status()}`);
    }
  });
  const session: EditorSession = {
    runtime,
    browser,
    page,
    external: externalUrl !== undefined,
    responses,
    shot: (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) }),
    async close() {
      await browser.close();
      await session.runtime.stop();
    },
  };
  await page.goto(runtime.url);
  await page.locator(byTestId('palette-item-loadModel')).waitFor();
  await connectionIs(page, 'open');
  return session;
}

export function connectionIs(page: Page, status: 'open' | 'closed' | 'connecting', timeout = 30_000) {
  return page.locator(`${byTestId('connection-status')}[data-status="${status}"]`).waitFor({ timeout });
}
