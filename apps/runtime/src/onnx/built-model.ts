// What a builder produces: ModelProto bytes plus its weights as in-memory external data files.

export interface ExternalDataFile {
  /** The `location` the model's initializers name; passed to ORT as `externalData[].path`. */
  readonly path: string;
  readonly data: Uint8Array;
}

export interface BuiltModel {
  readonly model: Uint8Array;
  readonly externalData: readonly ExternalDataFile[];
  /** Graph inputs the session feeds from these host arrays on every run (streamed weights, stream-weights.ts). */
  readonly hostWeights?: readonly HostWeight[];
}

export type HostWeight =
  | { readonly name: string; readonly dims: readonly number[]; readonly dtype: 'float16'; readonly data: Uint16Array }
  | { readonly name: string; readonly dims: readonly number[]; readonly dtype: 'float32'; readonly data: Float32Array };
