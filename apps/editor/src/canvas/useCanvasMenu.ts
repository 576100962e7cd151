import { useReactFlow } from '@xyflow/react';
import type { Dispatch, SetStateAction } from 'react';
import type { Catalog } from '../catalog/catalog.ts';
import type { DocAction } from '../document/actions.ts';
import type { DocState } from '../document/doc-state.ts';
import { parseEdgeId } from '../document/doc-state.ts';
import { nextNodeId } from '../document/ids.ts';
import type { NodeSearchRequest } from '../palette/NodeSearch.tsx';
import { compatiblePort } from '../palette/palette-search.ts';
import type { CanvasMenuRequest } from './Canvas.tsx';
import type { MenuRequest } from './ContextMenu.tsx';
import { canvasMenu } from './canvas-menu.ts';
import { newGroup, newNote } from './new-decor.ts';

// The right-click menu's effects on the document: which menu a click opens, and putting a node into an edge.

interface Options {
  readonly menu: CanvasMenuRequest | undefined;
  readonly doc: DocState;
  readonly catalog: Catalog;
  readonly pinned: ReadonlySet<string>;
  edit(action: DocAction): void;
  setPinned: Dispatch<SetStateAction<ReadonlySet<string>>>;
  setSearch(req: NodeSearchRequest | undefined): void;
  paste(at: { x: number; y: number }): void;
  fit(): void;
}

export function useCanvasMenu(o: Options): {
  menuRequest: MenuRequest | undefined;
  insertNode(type: string, position: { x: number; y: number }, edgeId: string): void;
} {
  const flow = useReactFlow();
  const { doc, catalog, edit } = o;
  const edgeType = (edgeId: string) => {
    const edge = parseEdgeId(edgeId);
    const target = edge && doc.workflow.nodes[edge.target];
    const portType = edge && target && catalog.byType.get(target.type)?.inputs[edge.input]?.type;
    return edge && target && portType ? { edge, target, portType } : undefined;
  };
  const boxesOf = (ids: readonly string[]) =>
    ids.flatMap((id) => {
      const n = flow.getNode(id);
      if (!n) return [];
      return [{ x: n.position.x, y: n.position.y, width: n.measured?.width ?? 260, height: n.measured?.height ?? 220 }];
    });

  const menuRequest =
    o.menu &&
    canvasMenu(o.menu, {
      selection: doc.selection.nodes,
      pinned: o.pinned,
      edit,
      togglePin: (id) =>
        o.setPinned((p) => {
          const next = new Set(p);
          if (!next.delete(id)) next.add(id);
          return next;
        }),
      search: (at, flowAt, edgeId) => {
        const fit = edgeId ? edgeType(edgeId) : undefined;
        if (!edgeId || !fit) return o.setSearch({ screen: at, flow: flowAt });
        // Only node types that take and give the edge's type fit into it.
        o.setSearch({
          screen: at,
          flow: flowAt,
          filter: { side: 'input', type: fit.portType },
          only: (type) => {
            const info = catalog.byType.get(type);
            return info !== undefined && compatiblePort(info, { side: 'output', type: fit.portType }) !== undefined;
          },
          placeholder: `Insert into the ${fit.portType} edge…`,
          insert: edgeId,
        });
      },
      paste: o.paste,
      fit: o.fit,
      addNote: (at) => edit({ type: 'addNote', note: newNote(doc.workflow.ui, at) }),
      addGroup: (at, ids) => edit({ type: 'addGroup', group: newGroup(doc.workflow.ui, at, boxesOf(ids)) }),
    });

  /** Adds `type` into an edge: source -> new node -> target. */
  const insertNode = (type: string, position: { x: number; y: number }, edgeId: string) => {
    const fit = edgeType(edgeId);
    const ref = fit?.target.inputs[fit.edge.input];
    const info = catalog.byType.get(type);
    if (!fit || !ref || !info) return;
    const input = compatiblePort(info, { side: 'input', type: fit.portType });
    const output = compatiblePort(info, { side: 'output', type: fit.portType });
    if (!input || !output) return;
    const id = nextNodeId(Object.keys(doc.workflow.nodes), type);
    edit({
      type: 'batch',
      actions: [
        { type: 'addNode', id, nodeType: type, position },
        { type: 'connect', connection: { source: ref.node, output: ref.output, target: id, input } },
        { type: 'connect', connection: { source: id, output, target: fit.edge.target, input: fit.edge.input } },
      ],
    });
  };
  return { menuRequest, insertNode };
}
