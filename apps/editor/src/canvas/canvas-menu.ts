import type { DocAction } from '../document/actions.ts';
import { parseEdgeId } from '../document/doc-state.ts';
import type { CanvasMenuRequest } from './Canvas.tsx';
import type { MenuItem, MenuRequest } from './ContextMenu.tsx';

// What each right-click offers: on a node, an edge, a group, a note or the empty canvas.

export const COLOURS: readonly { name: string; value: string }[] = [
  { name: 'red', value: '#e57373' },
  { name: 'orange', value: '#ffb74d' },
  { name: 'green', value: '#81c784' },
  { name: 'blue', value: '#64b5f6' },
  { name: 'purple', value: '#ba68c8' },
  { name: 'grey', value: '#90a4ae' },
];

export interface MenuActions {
  readonly selection: readonly string[];
  readonly pinned: ReadonlySet<string>;
  edit(action: DocAction): void;
  togglePin(id: string): void;
  /** Opens node search at the point; `edge`: only node types that fit into that edge, inserted into it. */
  search(at: { x: number; y: number }, flow: { x: number; y: number }, edge?: string): void;
  paste(flow: { x: number; y: number }): void;
  fit(): void;
  addNote(flow: { x: number; y: number }): void;
  addGroup(flow: { x: number; y: number }, nodes: readonly string[]): void;
}

export function canvasMenu(req: CanvasMenuRequest, a: MenuActions): MenuRequest {
  const item = (label: string, testId: string, run: () => void, disabled = false): MenuItem => ({
    label,
    testId,
    run,
    disabled,
  });
  switch (req.kind) {
    case 'node': {
      // Acting on a node of a multi-selection acts on the whole selection.
      const ids = a.selection.includes(req.id) ? a.selection : [req.id];
      const several = ids.length > 1 ? ` ${ids.length} nodes` : '';
      return {
        at: req.at,
        title: ids.length > 1 ? `${ids.length} nodes` : req.id,
        items: [
          item(`Duplicate${several}`, 'menu-duplicate', () => {
            a.edit({ type: 'select', nodes: ids });
            a.edit({ type: 'duplicate' });
          }),
          item(a.pinned.has(req.id) ? 'Unpin' : 'Pin in place', 'menu-pin', () => a.togglePin(req.id)),
          item(`Group${several}`, 'menu-group', () => a.addGroup(req.flow, ids)),
          item(`Delete${several}`, 'menu-delete', () => a.edit({ type: 'removeNodes', ids })),
          ...COLOURS.map((c) => ({
            label: `Colour: ${c.name}`,
            testId: `menu-colour-${c.name}`,
            swatch: c.value,
            run: () =>
              a.edit({
                type: 'batch',
                actions: ids.map((id) => ({ type: 'setNodeUi', id, patch: { color: c.value } })),
              }),
          })),
          {
            label: 'No colour',
            testId: 'menu-colour-none',
            swatch: 'transparent',
            run: () =>
              a.edit({
                type: 'batch',
                actions: ids.map((id) => ({ type: 'setNodeUi', id, patch: { color: undefined } })),
              }),
          },
        ],
      };
    }
    case 'edge': {
      const edge = parseEdgeId(req.id);
      return {
        at: req.at,
        title: edge ? `edge into ${edge.target}.${edge.input}` : 'edge',
        items: [
          item('Insert node…', 'menu-insert-node', () => a.search(req.at, req.flow, req.id)),
          item(
            'Delete edge',
            'menu-delete-edge',
            () => edge && a.edit({ type: 'disconnect', target: edge.target, input: edge.input }),
          ),
        ],
      };
    }
    case 'group':
      return {
        at: req.at,
        title: 'group',
        items: [
          item('Delete group (keep its nodes)', 'menu-delete-group', () =>
            a.edit({ type: 'removeDecor', groups: [req.id] }),
          ),
          ...COLOURS.map((c) => ({
            label: `Colour: ${c.name}`,
            testId: `menu-colour-${c.name}`,
            swatch: c.value,
            run: () => a.edit({ type: 'updateGroup', id: req.id, patch: { color: c.value } }),
          })),
        ],
      };
    case 'note':
      return {
        at: req.at,
        title: 'note',
        items: [item('Delete note', 'menu-delete-note', () => a.edit({ type: 'removeDecor', notes: [req.id] }))],
      };
    case 'pane':
      return {
        at: req.at,
        title: 'canvas',
        items: [
          item('Add node…', 'menu-add-node', () => a.search(req.at, req.flow)),
          item('Paste', 'menu-paste', () => a.paste(req.flow)),
          item('Add note', 'menu-add-note', () => a.addNote(req.flow)),
          item('Add group', 'menu-add-group', () => a.addGroup(req.flow, a.selection)),
          item('Fit view', 'menu-fit', () => a.fit()),
        ],
      };
  }
}
