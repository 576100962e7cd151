import path from 'node:path';

// Where models, outputs, input images and the prompt-embedding cache live: the flag, else the environment, else the default.
// One function for `sdflow run`, `serve` and `export`, so the commands agree (and share the embedding cache).

export interface DataDirs {
  readonly modelsDir: string;
  readonly outputDir: string;
  readonly cacheDir: string;
  /** Load Image's files. */
  readonly inputDir: string;
}

export function dataDirs(
  flags: {
    readonly models?: string | undefined;
    readonly output?: string | undefined;
    readonly cache?: string | undefined;
    readonly input?: string | undefined;
  },
  env: NodeJS.ProcessEnv = process.env,
): DataDirs {
  return {
    modelsDir: path.resolve(flags.models ?? env.SDFLOW_MODELS ?? 'models'),
    outputDir: path.resolve(flags.output ?? env.SDFLOW_OUTPUT ?? 'output'),
    cacheDir: path.resolve(flags.cache ?? env.SDFLOW_CACHE ?? '.sdflow/cache'),
    inputDir: path.resolve(flags.input ?? env.SDFLOW_INPUT ?? 'input'),
  };
}
