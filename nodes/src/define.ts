import type { z } from 'zod';
import type { RunContext } from './backend.ts';
import type { PortType } from './port-types.ts';
import type { PortValues } from './values.ts';

// A node type = a definition (pure data + zod params schema) plus a kernel (a function over RunContext).

export interface InputSpec {
  readonly type: PortType;
  readonly optional?: boolean;
  readonly description?: string;
}
export interface OutputSpec {
  readonly type: PortType;
  readonly description?: string;
}

export interface NodeDefinition<
  P extends z.ZodObject = z.ZodObject,
  I extends Record<string, InputSpec> = Record<string, InputSpec>,
  O extends Record<string, OutputSpec> = Record<string, OutputSpec>,
> {
  readonly type: string; // stable id, e.g. "unetDenoise"
  readonly version: number; // bump on a breaking change of ports or params
  readonly title: string;
  readonly category: 'model' | 'conditioning' | 'latent' | 'sampling' | 'image';
  readonly description: string;
  readonly params: P;
  readonly inputs: I;
  readonly outputs: O;
  /** Output nodes (sinks) are what a run plans backwards from. */
  readonly isOutput?: boolean;
  /** Upgrades params saved with an older `version` of this node type (fromVersion < version). */
  readonly migrateParams?: (params: Readonly<Record<string, unknown>>, fromVersion: number) => Record<string, unknown>;
  /**
   * What a run of this node costs, for refusing runs that cannot fit before they start (graph/run-cost.ts); `latent`
   * is what its LATENT input stands for, where known. Method syntax: checked bivariantly, as NodeType.run.
   */
  cost?(params: z.infer<P>, latent: ImageSize | undefined): NodeCost;
}

/** The images a latent stands for: size in pixels and how many. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
  readonly batch: number;
}

/** A node's estimated cost: the images its LATENT output stands for, its working memory and its work. */
export interface NodeCost {
  readonly latent?: ImageSize;
  /** Working memory (activations) while it runs, in bytes; model weights not included. */
  readonly bytes?: number;
  /** UNet evaluations, in units of one 1024x1024 image (about 15 ms each on an H100 in fp16). */
  readonly work?: number;
  /** What dominates, for the refusal message ("UNet activations", "VAE decode of 4 images"). */
  readonly what?: string;
}

type InputValues<I extends Record<string, InputSpec>> = {
  [K in keyof I]: I[K]['optional'] extends true ? PortValues[I[K]['type']] | undefined : PortValues[I[K]['type']];
};
type OutputValues<O extends Record<string, OutputSpec>> = { [K in keyof O]: PortValues[O[K]['type']] };

export interface KernelArgs<D extends NodeDefinition> {
  params: z.infer<D['params']>;
  inputs: InputValues<D['inputs']>;
  ctx: RunContext;
}
export type Kernel<D extends NodeDefinition> = (args: KernelArgs<D>) => Promise<OutputValues<D['outputs']>>;

export interface NodeType<D extends NodeDefinition = NodeDefinition> {
  readonly def: D;
  // Method syntax on purpose: parameters are then checked bivariantly, so every specific node type
  // satisfies the general NodeType (the executor calls run with params parsed by def.params).
  run(args: KernelArgs<D>): Promise<OutputValues<D['outputs']>>;
}

/** Identity helper that keeps the literal types of a definition (port names and types, params schema). */
export function defineNode<
  P extends z.ZodObject,
  const I extends Record<string, InputSpec>,
  const O extends Record<string, OutputSpec>,
>(def: NodeDefinition<P, I, O>): NodeDefinition<P, I, O> {
  return def;
}
