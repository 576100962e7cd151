// A 500-node workflow shaped like real ones: 20 pipelines of 25 nodes (a chain of 20 denoise passes each).

export function bigWorkflow(groups = 20, chain = 20): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  const layout: Record<string, { x: number; y: number }> = {};
  const ref = (node: string, output: string) => ({ node, output });
  for (let g = 0; g < groups; g++) {
    const at = (col: number, id: string, node: unknown) => {
      nodes[id] = node;
      layout[id] = { x: col * 320, y: g * 520 };
    };
    at(0, `m${g}`, { type: 'loadModel', params: {}, inputs: {} });
    at(1, `p${g}`, { type: 'encodePrompt', params: { prompt: `group ${g}` }, inputs: { clip: ref(`m${g}`, 'clip') } });
    at(2, `l${g}`, { type: 'emptyLatent', params: {}, inputs: { vae: ref(`m${g}`, 'vae') } });
    let prev = ref(`l${g}`, 'latent');
    for (let k = 0; k < chain; k++) {
      const id = `d${g}_${k}`;
      at(3 + k, id, {
        type: 'unetDenoise',
        params: {},
        inputs: { unet: ref(`m${g}`, 'unet'), conditioning: ref(`p${g}`, 'conditioning'), latent: prev },
      });
      prev = ref(id, 'latent');
    }
    at(3 + chain, `v${g}`, { type: 'vaeDecode', params: {}, inputs: { vae: ref(`m${g}`, 'vae'), latent: prev } });
    at(4 + chain, `s${g}`, { type: 'saveImage', params: {}, inputs: { image: ref(`v${g}`, 'image') } });
  }
  return { version: 1, meta: { name: 'big' }, nodes, ui: { nodes: layout, viewport: { x: 0, y: 0, zoom: 1 } } };
}
