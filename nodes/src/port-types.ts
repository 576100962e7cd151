// Socket types: a connection is allowed only between equal types.
export const PORT_TYPES = [
  'UNET',
  'CLIP',
  'VAE',
  'TAESD',
  'OFFLOAD',
  'CONDITIONING',
  'LATENT',
  'IMAGE',
  'MASK',
] as const;
export type PortType = (typeof PORT_TYPES)[number];

export const PORT_COLORS: Record<PortType, string> = {
  UNET: '#b39ddb',
  CLIP: '#ffd54f',
  VAE: '#ef5350',
  TAESD: '#f48fb1',
  OFFLOAD: '#90a4ae',
  CONDITIONING: '#ffa726',
  LATENT: '#ec407a',
  IMAGE: '#64b5f6',
  MASK: '#81c784',
};

export function canConnect(from: PortType, to: PortType): { ok: true } | { ok: false; reason: string } {
  return from === to ? { ok: true } : { ok: false, reason: `cannot connect ${from} to ${to}` };
}
