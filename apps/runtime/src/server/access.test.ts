import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type AccessPolicy, checkHost, checkOrigin, parseHostHeader } from './access.ts';

// Host and Origin as the checks read them: only the request's headers matter.

const loopback: AccessPolicy = { token: undefined, loopbackOnly: true, allowedOrigins: [] };
const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('access: Host and Origin', () => {
  it('parses a Host header into name and port, and nothing else', () => {
    expect(parseHostHeader('127.0.0.1:8188')).toEqual({ hostname: '127.0.0.1', port: 8188 });
    expect(parseHostHeader('[::1]:9')).toEqual({ hostname: '[::1]', port: 9 });
    expect(parseHostHeader('LocalHost')).toEqual({ hostname: 'localhost' });
    for (const bad of ['127.0.0.1:8188@evil.example', 'user@127.0.0.1', '127.0.0.1:99999', 'a/b', '127.0.0.1:x', ''])
      expect(parseHostHeader(bad), bad).toBeUndefined();
  });

  it('refuses a Host with userinfo, on loopback and beyond', () => {
    const req = request({ host: '127.0.0.1:8188@evil.example' });
    expect(checkHost(loopback, req)).toMatchObject({ ok: false, status: 400, code: 'badHost' });
    expect(checkHost({ ...loopback, loopbackOnly: false }, req)).toMatchObject({ ok: false, status: 400 });
    expect(checkHost(loopback, request({ host: '127.0.0.1:8188' }))).toEqual({ ok: true });
  });

  it("accepts only the server's own http origin, comparing scheme, name and port exactly", () => {
    const host = '127.0.0.1:8188';
    expect(checkOrigin(loopback, request({ host, origin: 'http://127.0.0.1:8188' }))).toEqual({ ok: true });
    expect(checkOrigin(loopback, request({ host: '127.0.0.1:80', origin: 'http://127.0.0.1' }))).toEqual({ ok: true });
    for (const origin of [
      'https://127.0.0.1:8188',
      'http://127.0.0.1:8189',
      'http://127.0.0.1',
      'http://localhost:8188',
      'ws://127.0.0.1:8188',
      'null',
    ]) {
      expect(checkOrigin(loopback, request({ host, origin })), origin).toMatchObject({ ok: false, status: 403 });
    }
    expect(
      checkOrigin(loopback, request({ host: `${host}@evil.example`, origin: 'http://evil.example' })),
    ).toMatchObject({
      ok: false,
    });
  });
});
