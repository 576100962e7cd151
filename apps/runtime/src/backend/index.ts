export type { ModelStore, ModelStoreStats } from './model-store.ts';
export { createOnnxBackend, type OnnxBackend, type OnnxBackendOptions } from './onnx-backend.ts';
