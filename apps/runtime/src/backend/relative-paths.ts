import { realpathSync } from 'node:fs';

// Errors from the backend reach every WebSocket client: they name models and files relative to the server's folders
// ("models/my-sdxl/unet: no weights"), never the absolute paths where the server keeps them.

export interface NamedFolder {
  readonly dir: string;
  /** What clients see in place of the folder: "models", "output", "cache". */
  readonly label: string;
}

/** `text` with each folder (as given and with links resolved) written as its label. */
export function relativeToFolders(text: string, folders: readonly NamedFolder[]): string {
  let out = text;
  for (const { dir, label } of folders) {
    for (const form of new Set([dir, resolved(dir)])) {
      if (form.length > 1) out = out.split(form.replace(/\/+$/, '')).join(label);
    }
  }
  return out;
}

function resolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** The same object, each method's thrown or rejected Error message rewritten with relativeToFolders. */
export function withRelativePaths<T extends object>(folders: readonly NamedFolder[], target: T): T {
  const rewrite = (err: unknown): never => {
    if (err instanceof Error) err.message = relativeToFolders(err.message, folders);
    throw err;
  };
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      return function (this: unknown, ...args: unknown[]) {
        try {
          const result = value.apply(this === receiver ? obj : this, args);
          return result instanceof Promise ? result.catch(rewrite) : result;
        } catch (err) {
          return rewrite(err);
        }
      };
    },
  });
}
