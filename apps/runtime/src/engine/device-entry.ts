import type { Device } from '@sdflow/nodes/values.ts';

// A device as users write it: `cpu`, `webgpu`, `cuda`, or `cuda:N` for one GPU of several (`serve --devices`,
// `worker --device`). The engine runs on its kind; N becomes the process's only visible GPU.

export interface DeviceEntry {
  readonly kind: Device;
  /** The GPU of `cuda:N`. */
  readonly index?: string;
}

const ENTRY = /^(cpu|webgpu|cuda)(?::(\d{1,2}))?$/;

/** The entry parsed, or undefined when it is none of the forms above (`cpu:1` included). */
export function parseDeviceEntry(text: string): DeviceEntry | undefined {
  const m = ENTRY.exec(text);
  if (!m || (m[2] !== undefined && m[1] !== 'cuda')) return undefined;
  return { kind: m[1] as Device, ...(m[2] === undefined ? {} : { index: m[2] }) };
}
