// A session made through the C API (native-session.ts): its names and types, and runs that take host feeds, device
// tensors the caller holds (DeviceTensor), and outputs written in place into such tensors.
import type { Tensor } from '@sdflow/nodes/tensor.ts';
import koffi from 'koffi';
import type { FedWeights } from './device-weights.ts';
import type { OrtCApi } from './ort-capi.ts';
import { cpuInfo, ELEMENT, ELEMENT_NAME, readTensor, tensorOver } from './ort-values.ts';
import { type ConvertedFeed, convertFeed, type Feed } from './session.ts';

/** A tensor on the session's device, owned by the caller (device-tensors.ts), fed or written without a copy. */
export interface DeviceTensor {
  readonly value: unknown;
  readonly dims: readonly number[];
}

export type BoundInput = Feed | DeviceTensor;

const isDevice = (v: BoundInput): v is DeviceTensor => 'value' in v;

/** A session pointer with its input and output names, released once. */
export class Handles {
  readonly inputNames: string[] = [];
  readonly outputNames: string[] = [];
  readonly inputTypes: Record<string, string> = {};
  private ptr: unknown;

  constructor(
    private readonly api: OrtCApi,
    ptr: unknown,
    readonly label: string,
  ) {
    this.ptr = ptr;
    const { call, check } = api;
    const alloc: unknown[] = [null];
    check(call('GetAllocatorWithDefaultOptions', 'void* F(_Out_ void** out)', alloc), label);
    const names = (slot: 'SessionGetInputName' | 'SessionGetOutputName', count: number) =>
      Array.from({ length: count }, (_, i) => {
        const out: unknown[] = [null];
        check(call(slot, 'void* F(void* s, size_t i, void* a, _Out_ void** out)', ptr, i, alloc[0], out), label);
        const name = koffi.decode(out[0], 'char', -1) as string;
        check(call('AllocatorFree', 'void* F(void* a, void* p)', alloc[0], out[0]), label);
        return name;
      });
    const count = (slot: 'SessionGetInputCount' | 'SessionGetOutputCount') => {
      const out: number[] = [0];
      check(call(slot, 'void* F(void* s, _Out_ size_t* n)', ptr, out), label);
      return Number(out[0]);
    };
    const inputs = names('SessionGetInputName', count('SessionGetInputCount'));
    this.outputNames.push(...names('SessionGetOutputName', count('SessionGetOutputCount')));
    inputs.forEach((name, i) => {
      const info: unknown[] = [null];
      check(call('SessionGetInputTypeInfo', 'void* F(void* s, size_t i, _Out_ void** out)', ptr, i, info), label);
      const tensor: unknown[] = [null];
      check(call('CastTypeInfoToTensorInfo', 'void* F(void* t, _Out_ void** out)', info[0], tensor), label);
      if (tensor[0]) {
        const type: number[] = [0];
        check(call('GetTensorElementType', 'void* F(void* t, _Out_ int* out)', tensor[0], type), label);
        this.inputTypes[name] = ELEMENT_NAME.get(type[0] as number) ?? `onnx-type-${type[0]}`;
      }
      call('ReleaseTypeInfo', 'void F(void* t)', info[0]);
      this.inputNames.push(name);
    });
  }

  get pointer(): unknown {
    if (!this.ptr) throw new Error(`${this.label}: the session was released`);
    return this.ptr;
  }

  /** Every output read back to the host. */
  run(feeds: Record<string, BoundInput>, weights?: FedWeights, runOptions: unknown = null): Record<string, Tensor> {
    const result: Record<string, Tensor> = {};
    this.invoke(feeds, weights, runOptions, this.outputNames, (name, v) => {
      result[name] = readTensor(this.api, v, `${this.label}: output '${name}'`);
    });
    return result;
  }

  /** Outputs written into the caller's tensors (on the device where they live); nothing comes back. */
  runInto(
    feeds: Record<string, BoundInput>,
    outputs: Record<string, DeviceTensor>,
    weights?: FedWeights,
    runOptions: unknown = null,
  ): void {
    const names = Object.keys(outputs);
    this.invoke(
      feeds,
      weights,
      runOptions,
      names,
      () => undefined,
      names.map((n) => outputs[n]!.value),
    );
  }

  private invoke(
    feeds: Record<string, BoundInput>,
    weights: FedWeights | undefined,
    runOptions: unknown,
    outputNames: readonly string[],
    take: (name: string, value: unknown) => void,
    preset: readonly unknown[] = [],
  ): void {
    const { api, label } = this;
    const ptr = this.pointer;
    const converted: ConvertedFeed[] = [];
    const made: unknown[] = [];
    const values: unknown[] = [];
    // ORT writes into an output value given here, and allocates (for the caller to release) where it is null
    const outputs = BigUint64Array.from(outputNames, (_, i) => (preset[i] ? koffi.address(preset[i]) : 0n));
    try {
      for (const [name, f] of Object.entries(feeds)) {
        if (isDevice(f)) {
          values.push(f.value);
          continue;
        }
        const c = convertFeed(f, this.inputTypes[name]);
        converted.push(c);
        const v = tensorOver(api, cpuInfo(api), c.data, c.dims, ELEMENT[c.type]);
        made.push(v);
        values.push(v);
      }
      const names = [...Object.keys(feeds), ...(weights?.names ?? [])];
      const inputs = [...values, ...(weights && weights.names.length > 0 ? weights.values() : [])];
      api.check(
        api.call(
          'Run',
          'void* F(void* s, void* ro, const char** in, void** values, size_t n, const char** out, size_t m, void* outputs)',
          ptr,
          runOptions,
          names,
          inputs,
          names.length,
          outputNames,
          outputNames.length,
          outputs,
        ),
        `${label}: inference failed`,
      );
      outputNames.forEach((name, i) => {
        if (!preset[i]) take(name, koffi.decode(outputs, i * 8, 'void*'));
      });
    } finally {
      for (const v of made) api.call('ReleaseValue', 'void F(void* v)', v);
      outputNames.forEach((_, i) => {
        if (preset[i]) return;
        const v = koffi.decode(outputs, i * 8, 'void*');
        if (v) api.call('ReleaseValue', 'void F(void* v)', v);
      });
      converted.length = 0; // the feeds' arrays stay referenced until ORT is done with them
    }
  }

  release(): void {
    if (!this.ptr) return;
    this.api.call('ReleaseSession', 'void F(void* s)', this.ptr);
    this.ptr = undefined;
  }
}
