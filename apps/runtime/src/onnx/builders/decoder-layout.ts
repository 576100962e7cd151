import { envSwitch } from '../env-switch.ts';

/** A decoder graph's layout on CUDA: NHWC (NhwcConv, fused GroupNorm + SiLU where the VAE has norms) or NCHW. */
export type DecoderLayout = 'nhwc' | 'nchw';

/** The VAE and TAESD decoders' layout on CUDA when a build does not name one: NHWC, or NCHW under
 *  SDFLOW_CUDA_DECODER_LAYOUT=nchw (GPU experiments). Part of the graph, so build caches name it. */
export function cudaDecoderLayout(): DecoderLayout {
  return envSwitch('SDFLOW_CUDA_DECODER_LAYOUT', ['nhwc', 'nchw']) ?? 'nhwc';
}
