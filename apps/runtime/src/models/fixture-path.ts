// Where the shared tiny SDXL fixture lives: ../shared/fixtures/sdxl-tiny beside the repository root (tests only).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../../../../', import.meta.url)));
export const tinyFixture = resolve(repoRoot, '../shared/fixtures/sdxl-tiny');
