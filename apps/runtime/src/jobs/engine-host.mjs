// Engine host bootstrap: a child process of `sdflow serve --devices`, started without the parent's TypeScript
// loader, so register tsx here, then load the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./engine-host-main.ts');
