import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

// The built editor (apps/editor/dist) as static files; a short page says how to build it when it is missing.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sdflow</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>sdflow runtime is running</h1>
<p>The editor has not been built yet. Run <code>npm run build</code> (or <code>npm start</code>, which builds it first),
then reload this page.</p>
<p>The API is available: <a href="/api/catalog">/api/catalog</a>, <a href="/api/models">/api/models</a>,
<a href="/api/queue">/api/queue</a>, <a href="/api/history">/api/history</a>.</p>
</body></html>
`;

async function fileIn(root: string, rel: string): Promise<{ file: string; size: number } | undefined> {
  try {
    const file = await realpath(path.join(root, rel));
    const inside = path.relative(root, file);
    if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) return undefined;
    const info = await stat(file);
    return info.isFile() ? { file, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

/** Serves `pathname` from editorDir; unknown paths without an extension get index.html (client-side routes). */
export async function serveEditor(
  editorDir: string,
  pathname: string,
  res: ServerResponse,
  headOnly = false,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v);
  let root: string;
  try {
    root = await realpath(editorDir);
  } catch {
    return sendText(res, pathname === '/' ? 200 : 404, 'text/html; charset=utf-8', NOT_BUILT, headOnly);
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return sendText(res, 400, 'text/plain; charset=utf-8', 'bad URL encoding\n', headOnly);
  }
  rel = path.posix.normalize(rel).replace(/^\/+/, '');
  if (rel === '' || rel === '.') rel = 'index.html';
  let found = rel.includes('\0') ? undefined : await fileIn(root, rel);
  if (!found && path.extname(rel) === '') found = await fileIn(root, 'index.html');
  if (!found) {
    if (rel === 'index.html') return sendText(res, 200, 'text/html; charset=utf-8', NOT_BUILT, headOnly);
    return sendText(res, 404, 'text/plain; charset=utf-8', `not found: ${pathname}\n`, headOnly);
  }
  const ext = path.extname(found.file).toLowerCase();
  res.writeHead(200, {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'content-length': found.size,
    'x-content-type-options': 'nosniff',
    // Vite fingerprints assets/; index.html must be revalidated to pick up a rebuild.
    'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (headOnly) {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(found.file);
    stream.on('error', reject);
    stream.on('end', resolve);
    stream.pipe(res);
  });
}

function sendText(res: ServerResponse, status: number, type: string, body: string, headOnly: boolean): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
  });
  res.end(headOnly ? undefined : body);
}
