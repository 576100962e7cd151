import { describe, expect, it } from 'vitest';
import { parseDeviceEntry } from './device-entry.ts';

describe('parseDeviceEntry', () => {
  it('reads cpu, webgpu, cuda and cuda:N; refuses anything else', () => {
    expect(parseDeviceEntry('cpu')).toEqual({ kind: 'cpu' });
    expect(parseDeviceEntry('webgpu')).toEqual({ kind: 'webgpu' });
    expect(parseDeviceEntry('cuda')).toEqual({ kind: 'cuda' });
    expect(parseDeviceEntry('cuda:3')).toEqual({ kind: 'cuda', index: '3' });
    for (const bad of ['auto', 'cpu:1', 'cuda:', 'cuda:123', 'gpu', ' cuda', 'cuda:1,cuda:2']) {
      expect(parseDeviceEntry(bad), bad).toBeUndefined();
    }
  });
});
