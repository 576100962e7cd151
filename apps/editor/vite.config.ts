import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dev server forwards the HTTP API and the WebSocket to a runtime started with `sdflow serve` (port 8188).
const runtime = process.env.SDFLOW_RUNTIME ?? 'http://127.0.0.1:8188';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: runtime },
      '/ws': { target: runtime.replace(/^http/, 'ws'), ws: true },
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
