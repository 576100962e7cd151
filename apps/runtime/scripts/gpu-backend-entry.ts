// The ONNX backend under both names the engine's backend specs use (gpu-bundle.sh).
export { createOnnxBackend as createBackend, createOnnxBackend } from '../src/backend/index.ts';
