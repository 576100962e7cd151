import type { NodeType } from './define.ts';
import { cacheEmbeddingsDef } from './defs/conditioning/cache-embeddings.node.ts';
import { runCacheEmbeddings } from './defs/conditioning/cache-embeddings.run.ts';
import { encodePromptDef } from './defs/conditioning/encode-prompt.node.ts';
import { runEncodePrompt } from './defs/conditioning/encode-prompt.run.ts';
import { loadImageDef } from './defs/image/load-image.node.ts';
import { runLoadImage } from './defs/image/load-image.run.ts';
import { loadMaskDef } from './defs/image/load-mask.node.ts';
import { runLoadMask } from './defs/image/load-mask.run.ts';
import { saveImageDef } from './defs/image/save-image.node.ts';
import { runSaveImage } from './defs/image/save-image.run.ts';
import { tinyVaeDecodeDef } from './defs/image/tiny-vae-decode.node.ts';
import { runTinyVaeDecode } from './defs/image/tiny-vae-decode.run.ts';
import { vaeDecodeDef } from './defs/image/vae-decode.node.ts';
import { runVaeDecode } from './defs/image/vae-decode.run.ts';
import { emptyLatentDef } from './defs/latent/empty-latent.node.ts';
import { runEmptyLatent } from './defs/latent/empty-latent.run.ts';
import { loadLatentDef } from './defs/latent/load-latent.node.ts';
import { runLoadLatent } from './defs/latent/load-latent.run.ts';
import { saveLatentDef } from './defs/latent/save-latent.node.ts';
import { runSaveLatent } from './defs/latent/save-latent.run.ts';
import { setLatentMaskDef } from './defs/latent/set-latent-mask.node.ts';
import { runSetLatentMask } from './defs/latent/set-latent-mask.run.ts';
import { vaeEncodeDef } from './defs/latent/vae-encode.node.ts';
import { runVaeEncode } from './defs/latent/vae-encode.run.ts';
import { loadModelDef } from './defs/model/load-model.node.ts';
import { runLoadModel } from './defs/model/load-model.run.ts';
import { loadTinyVaeDef } from './defs/model/load-tiny-vae.node.ts';
import { runLoadTinyVae } from './defs/model/load-tiny-vae.run.ts';
import { offloadPolicyDef } from './defs/model/offload-policy.node.ts';
import { runOffloadPolicy } from './defs/model/offload-policy.run.ts';
import { unetDenoiseDef } from './defs/sampling/unet-denoise.node.ts';
import { runUnetDenoise } from './defs/sampling/unet-denoise.run.ts';

// The one registry of node types: keys are the stable type ids and equal each definition's `type`.
export const catalog = {
  loadModel: { def: loadModelDef, run: runLoadModel },
  offloadPolicy: { def: offloadPolicyDef, run: runOffloadPolicy },
  loadTinyVae: { def: loadTinyVaeDef, run: runLoadTinyVae },
  encodePrompt: { def: encodePromptDef, run: runEncodePrompt },
  cacheEmbeddings: { def: cacheEmbeddingsDef, run: runCacheEmbeddings },
  emptyLatent: { def: emptyLatentDef, run: runEmptyLatent },
  loadLatent: { def: loadLatentDef, run: runLoadLatent },
  unetDenoise: { def: unetDenoiseDef, run: runUnetDenoise },
  vaeDecode: { def: vaeDecodeDef, run: runVaeDecode },
  tinyVaeDecode: { def: tinyVaeDecodeDef, run: runTinyVaeDecode },
  saveImage: { def: saveImageDef, run: runSaveImage },
  saveLatent: { def: saveLatentDef, run: runSaveLatent },
  loadImage: { def: loadImageDef, run: runLoadImage },
  vaeEncode: { def: vaeEncodeDef, run: runVaeEncode },
  loadMask: { def: loadMaskDef, run: runLoadMask },
  setLatentMask: { def: setLatentMaskDef, run: runSetLatentMask },
} satisfies Record<string, NodeType>;

export type Catalog = Readonly<Record<string, NodeType>>;
export type NodeTypeId = keyof typeof catalog;
