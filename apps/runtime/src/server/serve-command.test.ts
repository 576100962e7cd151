import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli/exit-codes.ts';
import { parseServeArgs } from './serve-command.ts';

describe('parseServeArgs', () => {
  it('defaults to loopback, port 8188 and folders under the working directory', () => {
    const o = parseServeArgs([], {});
    expect(o).toMatchObject({ host: '127.0.0.1', device: 'auto', modelsDir: path.resolve('models') });
    expect(o.port).toBeUndefined();
    expect(o.token).toBeUndefined();
  });

  it('reads options and the token from SDFLOW_TOKEN', () => {
    const o = parseServeArgs(
      ['--host', '0.0.0.0', '--port', '0', '--models', '/m', '--allow-origin', 'http://a:1', '--max-queue', '5'],
      { SDFLOW_TOKEN: 'from-the-env' },
    );
    expect(o).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      modelsDir: '/m',
      token: 'from-the-env',
      allowedOrigins: ['http://a:1'],
    });
    expect(o.limits).toEqual({ maxQueue: 5 });
  });

  it('refuses unknown options, bad numbers and devices as usage errors', () => {
    expect(() => parseServeArgs(['--nope'], {})).toThrow(UsageError);
    expect(() => parseServeArgs(['--port', '70000'], {})).toThrow(/65535/);
    expect(() => parseServeArgs(['--max-queue', '0'], {})).toThrow(/positive/);
    expect(() => parseServeArgs(['--device', 'tpu'], {})).toThrow(/--device/);
  });
});
