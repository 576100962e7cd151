// Public API of @sdflow/nodes: the contract shared by the runtime and the editor.

export type * from './backend.ts';
export * from './catalog.ts';
export * from './catalog-json.ts';
export * from './define.ts';
export * from './graph/find-cycles.ts';
export * from './graph/migrate.ts';
export * from './graph/order.ts';
export * from './graph/parse-json.ts';
export * from './graph/problem.ts';
export * from './graph/validate.ts';
export * from './graph/workflow.ts';
export * from './graph/workflow-json-schema.ts';
export * from './hash.ts';
export * from './node-error.ts';
export * from './param-meta.ts';
export * from './port-types.ts';
export * from './protocol/channel.ts';
export * from './protocol/commands.ts';
export * from './protocol/events.ts';
export * from './protocol/preview-frame.ts';
export * from './tensor.ts';
export type * from './values.ts';
