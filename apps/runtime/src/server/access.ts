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

/** Hostname of a Host header value ("a:1", "[::1]:2"), lower-cased, brackets kept for IPv6. */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
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

export type AccessResult = { ok: true } | { ok: false; status: 401 | 403 | 421; code: string; message: string };

export function checkHost(policy: AccessPolicy, req: IncomingMessage): AccessResult {
  if (!policy.loopbackOnly) return { ok: true };
  const host = req.headers.host;
  if (host && isLoopbackHost(hostnameOf(host))) return { ok: true };
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

/** Allowed: no Origin (non-browser clients), the server's own host:port, or a configured origin. */
export function checkOrigin(policy: AccessPolicy, req: IncomingMessage): AccessResult {
  const origin = req.headers.origin;
  if (origin === undefined) return { ok: true };
  if (policy.allowedOrigins.includes(origin)) return { ok: true };
  let originHost: string | undefined;
  try {
    const u = new URL(origin);
    if (u.protocol === 'http:' || u.protocol === 'https:') originHost = u.host;
  } catch {
    originHost = undefined;
  }
  const host = req.headers.host?.toLowerCase();
  if (
    originHost !== undefined &&
    host !== undefined &&
    originHost.toLowerCase() === withDefaultPortStripped(host, origin)
  ) {
    return { ok: true };
  }
  return { ok: false, status: 403, code: 'badOrigin', message: `origin ${JSON.stringify(origin)} is not allowed` };
}

// URL.host drops default ports (":80"), so drop them from the Host header too before comparing.
function withDefaultPortStripped(host: string, origin: string): string {
  if (origin.startsWith('http:') && host.endsWith(':80')) return host.slice(0, -3);
  if (origin.startsWith('https:') && host.endsWith(':443')) return host.slice(0, -4);
  return host;
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
