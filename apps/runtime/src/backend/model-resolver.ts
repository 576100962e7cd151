import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SDXL_BASE_RANDOM_ID, sdxlBaseRandomModel } from '../models/configs/sdxl-base/sdxl-base-random.ts';
import { DEFAULT_MODEL_ID, defaultModel } from '../models/default-model/default-model.ts';
import { openFolderModel, taesdFromFolder } from './folder-model.ts';
import type { ModelSource, TaesdSource } from './model-source.ts';

// Model ids -> sources: "default" is the built-in test model; any other id is a folder name in the models directory.

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

export class ModelResolver {
  private readonly models = new Map<string, ModelSource>();
  private readonly taesds = new Map<string, TaesdSource>();

  constructor(private readonly modelsDir: string) {}

  private folder(id: string, what: string): string {
    if (!SAFE_ID.test(id) || id.includes('..'))
      throw new Error(`${what} "${id}": not a folder name in the models directory`);
    const dir = path.join(this.modelsDir, id);
    if (!existsSync(dir)) throw new Error(`${what} "${id}": no folder "${id}" in the models folder`);
    return dir;
  }

  model(id: string): ModelSource {
    let m = this.models.get(id);
    if (!m) {
      m =
        id === DEFAULT_MODEL_ID
          ? defaultModel()
          : id === SDXL_BASE_RANDOM_ID && !existsSync(path.join(this.modelsDir, id)) // built-in benchmark model (H8)
            ? sdxlBaseRandomModel()
            : openFolderModel(id, this.folder(id, 'model'));
      this.models.set(id, m);
    }
    return m;
  }

  /** A TAESD: "default", an SDXL folder's vae_tiny/, or a folder that is itself an AutoencoderTiny. */
  taesd(id: string): TaesdSource {
    let t = this.taesds.get(id);
    if (!t) {
      if (id === DEFAULT_MODEL_ID) {
        t = defaultModel().taesd!;
      } else if (id === SDXL_BASE_RANDOM_ID && !existsSync(path.join(this.modelsDir, id))) {
        t = sdxlBaseRandomModel().taesd!;
      } else {
        const dir = this.folder(id, 'tiny VAE');
        if (existsSync(path.join(dir, 'vae_tiny', 'config.json'))) t = taesdFromFolder(id, path.join(dir, 'vae_tiny'));
        else if (isTaesdFolder(dir)) t = taesdFromFolder(id, dir);
        else
          throw new Error(
            `tiny VAE "${id}": models/${id} has neither vae_tiny/config.json nor an AutoencoderTiny config.json`,
          );
      }
      this.taesds.set(id, t);
    }
    return t;
  }
}

function isTaesdFolder(dir: string): boolean {
  try {
    const c = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { _class_name?: string };
    return c._class_name === 'AutoencoderTiny';
  } catch {
    return false;
  }
}
