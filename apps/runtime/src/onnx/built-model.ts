// What a builder produces: ModelProto bytes plus its weights as in-memory external data files.

export interface ExternalDataFile {
  /** The `location` the model's initializers name; passed to ORT as `externalData[].path`. */
  readonly path: string;
  readonly data: Uint8Array;
}

export interface BuiltModel {
  readonly model: Uint8Array;
  readonly externalData: readonly ExternalDataFile[];
}
