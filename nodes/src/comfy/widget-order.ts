// The editor format stores widget values positionally (`widgets_values`), in the order of the node type's inputs
// in ComfyUI's Python definition (nodes.py, comfy_extras/*). These are the orders of the node types this importer
// reads; a widget with `control_after_generate` (seeds) is followed by that control's value ("fixed",
// "randomize"... or `true` in older files) when the file has it.

/** Marks where a seed's control_after_generate value may sit. */
export const CONTROL = '#control';

export const WIDGET_ORDER: Readonly<Record<string, readonly string[]>> = {
  CheckpointLoaderSimple: ['ckpt_name'],
  CheckpointLoader: ['config_name', 'ckpt_name'],
  CLIPSetLastLayer: ['stop_at_clip_layer'],
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: ['width', 'height', 'crop_w', 'crop_h', 'target_width', 'target_height', 'text_g', 'text_l'],
  EmptyLatentImage: ['width', 'height', 'batch_size'],
  LoadImage: ['image', 'upload'],
  KSampler: ['seed', CONTROL, 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise'],
  KSamplerAdvanced: [
    'add_noise',
    'noise_seed',
    CONTROL,
    'steps',
    'cfg',
    'sampler_name',
    'scheduler',
    'start_at_step',
    'end_at_step',
    'return_with_leftover_noise',
  ],
  VAEDecodeTiled: ['tile_size', 'overlap', 'temporal_size', 'temporal_overlap'],
  SaveImage: ['filename_prefix'],
  PrimitiveInt: ['value', CONTROL],
  PrimitiveFloat: ['value'],
  PrimitiveString: ['value'],
  PrimitiveStringMultiline: ['value'],
  PrimitiveBoolean: ['value'],
};

/**
 * Named widget values of a node of a known type. The control value after a seed is skipped when present: it is
 * recognised by not being a number (the widget after it, when there is one, is a number).
 */
export function namedWidgets(type: string, values: unknown): Record<string, unknown> | undefined {
  const order = WIDGET_ORDER[type];
  if (!order) return undefined;
  if (typeof values === 'object' && values !== null && !Array.isArray(values)) {
    // Newer files may store them by name already.
    return Object.fromEntries(Object.entries(values).filter(([k]) => order.includes(k)));
  }
  const list = Array.isArray(values) ? values : [];
  const out: Record<string, unknown> = {};
  let at = 0;
  for (const name of order) {
    if (at >= list.length) break;
    if (name === CONTROL) {
      if (typeof list[at] !== 'number') at++;
      continue;
    }
    out[name] = list[at++];
  }
  return out;
}
