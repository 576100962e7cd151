import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

// Who may talk to the server: token (when set), Host (DNS rebinding on loopback) and Origin checks.

export const TOKEN_COOKIE = 'sdflow_token';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

// RFC 9110's Host: a name or IPv4 address, or a bracketed IPv6 address, then an optional port. Nothing else:
// "127.0.0.1:8188@evil.example" (userinfo) would otherwise read as loopback to a split on ':'.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::(\d{1,5}))?$/;

/** A Host header's name (lower-cased, brackets kept for IPv6) and port, or undefined when it is malformed. */
export function parseHostHeader(hostHeader: string): { hostname: string; port?: number } | undefined {
  const m = HOST_HEADER.exec(hostHeader.trim().toLowerCase());
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { hostname: m[1]!, ...(port === undefined ? {} : { port }) };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && timingSafeEqual(digest(expected), digest(given));
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The token a request presents: `Authorization: Bearer`, `?token=`, or the cookie set when the editor was opened. */
export function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token') ?? cookieValue(req, TOKEN_COOKIE);
}

export interface AccessPolicy {
  readonly token: string | undefined;
  /** Bound to loopback: Host headers must name loopback too (blocks DNS rebinding). */
  readonly loopbackOnly: boolean;
  /** Extra origins allowed on WebSocket upgrades and API requests (e.g. the editor's dev server). */
  readonly allowedOrigins: readonly string[];
}

export type AccessResult = { ok: true } | { ok: false; status: 400 | 401 | 403 | 421; code: string; message: string };

export function checkHost(policy: AccessPolicy, req: IncomingMessage): AccessResult {
  const host = req.headers.host;
  const parsed = host === undefined ? undefined : parseHostHeader(host);
  if (host !== undefined && !parsed) {
    return {
      ok: false,
      status: 400,
      code: 'badHost',
      message: `Host header ${JSON.stringify(host)} is not a host name with an optional port`,
    };
  }
  if (!policy.loopbackOnly) return { ok: true };
  if (parsed && isLoopbackHost(parsed.hostname)) return { ok: true };
  return {
    ok: false,
    status: 421,
    code: 'badHost',
    message: `Host header ${JSON.stringify(host ?? '')} is not a loopback name; the server listens on loopback only`,
  };
}

export function checkToken(policy: AccessPolicy, req: IncomingMessage, url: URL): AccessResult {
  if (policy.token === undefined) return { ok: true };
  const given = presentedToken(req, url);
  if (tokenMatches(policy.token, given)) return { ok: true };
  return {
    ok: false,
    status: 401,
    code: given === undefined ? 'tokenRequired' : 'badToken',
    message:
      given === undefined
        ? 'this server requires a token: send "Authorization: Bearer <token>" or add ?token=<token>'
        : 'the token does not match',
  };
}

/**
 * Allowed: no Origin (non-browser clients), the server's own origin (http, the Host header's name and port), or a
 * configured origin. Scheme, name and port are compared exactly: a page on https://127.0.0.1:PORT is another site.
 */
export function checkOrigin(policy: AccessPolicy, req: IncomingMessage): AccessResult {
  const origin = req.headers.origin;
  if (origin === undefined) return { ok: true };
  if (policy.allowedOrigins.includes(origin)) return { ok: true };
  const host = req.headers.host === undefined ? undefined : parseHostHeader(req.headers.host);
  if (host && origin.toLowerCase() === ownOrigin(host)) return { ok: true };
  return { ok: false, status: 403, code: 'badOrigin', message: `origin ${JSON.stringify(origin)} is not allowed` };
}

/** This server's origin as a browser serialises it: it serves plain http, and drops the default port 80. */
function ownOrigin(host: { hostname: string; port?: number }): string {
  return `http://${host.hostname}${host.port === undefined || host.port === 80 ? '' : `:${host.port}`}`;
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
