// Noise thread bootstrap: worker threads start without the parent's TypeScript loader, so register tsx here, then
// load the TypeScript entry. (Bundled builds name their noise-worker-main.ts bundle noise-worker.mjs instead.)
import { register } from 'tsx/esm/api';

register();
await import('./noise-worker-main.ts');
