// Worker bootstrap: worker threads start without the parent's TypeScript loader, so register tsx here,
// then load the TypeScript worker entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
