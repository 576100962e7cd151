import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonDepthProblem } from '@sdflow/nodes/graph/json-depth.ts';
import type { z } from 'zod';
import { formatBytes } from './limits.ts';

// Reading capped bodies and writing JSON answers; every error answer has the same shape.

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  // Other sites may not embed our answers (an <img> or <script> pointing here) even without reading them.
  'cross-origin-resource-policy': 'same-origin',
} as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, extra = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: { code, message }, ...extra });
}

/** Reads the whole body, refusing (413) as soon as it passes `max` bytes. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    return Promise.reject(tooLarge(declared, max));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        reject(tooLarge(size, max));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(new HttpError(400, 'badRequest', `reading the request body failed: ${err.message}`));
      failed = true;
    });
  });
}

function tooLarge(size: number, max: number): HttpError {
  return new HttpError(
    413,
    'tooLarge',
    `request body of ${formatBytes(size)} or more exceeds the ${formatBytes(max)} limit`,
  );
}

/** JSON bodies must say so: it also forces a CORS preflight on cross-site browser requests, which we never allow. */
export async function readJson<T extends z.ZodType>(req: IncomingMessage, schema: T, max: number): Promise<z.infer<T>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      'unsupportedMediaType',
      `expected Content-Type: application/json, got ${JSON.stringify(type)}`,
    );
  }
  const text = (await readBody(req, max)).toString('utf8');
  const tooDeep = jsonDepthProblem(text);
  if (tooDeep) throw new HttpError(400, 'tooDeep', `request body refused: ${tooDeep}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'badJson', `request body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    const first = issues[0];
    throw new HttpError(
      400,
      'badRequest',
      `request body does not match the expected shape${first ? `: ${first.path || '(root)'}: ${first.message}` : ''}`,
      { issues },
    );
  }
  return parsed.data;
}
