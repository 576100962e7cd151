import type { WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';
import { PORT_COLORS, type PortType } from '@sdflow/nodes/port-types.ts';
import {
  Background,
  type Connection,
  ControlButton,
  Controls,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  getViewportForBounds,
  MiniMap,
  type NodeChange,
  ReactFlow,
  useReactFlow,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Catalog } from '../catalog/catalog.ts';
import type { DocAction, HistoryAction } from '../document/actions.ts';
import { checkConnection } from '../document/connection-check.ts';
import { groupMembers } from '../document/decor-reducer.ts';
import type { DocState } from '../document/doc-state.ts';
import { NodeView } from '../nodes/NodeView.tsx';
import type { NodeSearchRequest } from '../palette/NodeSearch.tsx';
import { NODE_TYPE_MIME } from '../palette/Palette.tsx';
import { OUTPUT_MIME } from '../panels/Gallery.tsx';
import { ConnectionHint } from './ConnectionHint.tsx';
import { createDecorMapper, type DecorFlowNode, decorId } from './decor-mapping.ts';
import {
  createFlowMapper,
  type FlowEdge,
  type FlowNode,
  fallbackPosition,
  type Measured,
  toFlowEdges,
} from './flow-mapping.ts';
import { GroupView } from './GroupView.tsx';
import { estimateHandles } from './handle-estimate.ts';
import { NoteView } from './NoteView.tsx';
import { type Box, pushBelow } from './push-below.ts';

// React Flow wiring: the canvas shows the document and turns gestures into document actions.

const nodeTypes = { sdflow: NodeView, sdgroup: GroupView, sdnote: NoteView };
type CanvasNode = FlowNode | DecorFlowNode;

/** What was right-clicked, with the canvas-local point and its flow position. */
export type CanvasMenuRequest = {
  readonly at: { x: number; y: number };
  readonly flow: { x: number; y: number };
} & (
  | { readonly kind: 'node'; readonly id: string }
  | { readonly kind: 'edge'; readonly id: string }
  | { readonly kind: 'group'; readonly id: string }
  | { readonly kind: 'note'; readonly id: string }
  | { readonly kind: 'pane' }
);
const MIN_FIT_ZOOM = 0.4;
const portColor = (t: string | undefined) => (t ? (PORT_COLORS[t as PortType] ?? '#888') : '#888');

interface Props {
  readonly doc: DocState;
  readonly catalog: Catalog;
  readonly dispatch: (a: HistoryAction) => void;
  /** Bumped to fit the workflow to the canvas (after opening one, the fit button, F). */
  readonly fitSignal: number;
  /** Bumped when another workflow is opened. */
  readonly openSignal: number;
  onSearch(req: NodeSearchRequest): void;
  onAddNode(type: string, position: { x: number; y: number }): void;
  onFiles(files: File[]): void;
  /** A gallery image was dropped on the canvas: open the workflow it carries. */
  onOutputDrop(name: string): void;
  onMenu(req: CanvasMenuRequest): void;
  /** Nodes that stay where they are (not draggable). */
  readonly pinned: ReadonlySet<string>;
}

export function Canvas(props: Props) {
  const { doc, catalog, dispatch, fitSignal, openSignal, onSearch, onAddNode, onFiles, onOutputDrop, onMenu, pinned } =
    props;
  const flow = useReactFlow<CanvasNode, FlowEdge>();
  const mapper = useMemo(() => createFlowMapper(), []);
  const decorMapper = useMemo(() => createDecorMapper(), []);
  const [measured, setMeasured] = useState<ReadonlyMap<string, Measured>>(new Map());
  const estimate = useCallback(
    (node: WorkflowNode) => {
      const info = catalog.byType.get(node.type);
      return info ? estimateHandles(info) : undefined;
    },
    [catalog],
  );
  const workflowNodes = useMemo(
    () => mapper(doc.workflow, doc.selection, measured, estimate),
    [mapper, doc.workflow, doc.selection, measured, estimate],
  );
  const decor = useMemo(() => decorMapper(doc.workflow.ui), [decorMapper, doc.workflow.ui]);
  const nodes = useMemo<CanvasNode[]>(
    () => [...decor, ...workflowNodes.map((n) => (pinned.has(n.id) ? { ...n, draggable: false } : n))],
    [decor, workflowNodes, pinned],
  );
  const portTypeOf = useCallback(
    (source: string, output: string) =>
      catalog.byType.get(doc.workflow.nodes[source]?.type ?? '')?.outputs[output]?.type,
    [catalog, doc.workflow.nodes],
  );
  const edges = useMemo(
    () =>
      toFlowEdges(doc.workflow, doc.selection, portTypeOf).map((e) => ({
        ...e,
        style: { stroke: portColor(e.data?.portType), strokeWidth: e.selected ? 3 : 2 },
      })),
    [doc.workflow, doc.selection, portTypeOf],
  );

  // Latest values for callbacks that React Flow keeps.
  const latest = useRef({ doc, catalog, measured });
  latest.current = { doc, catalog, measured };
  const dragGroup = useRef<string | undefined>(undefined);
  const dragCount = useRef(0);
  // Nodes and notes inside a group when its drag began: they move with it (others it passes over do not).
  const groupDrag = useRef<{ id: string; nodes: string[]; notes: string[] } | undefined>(undefined);

  const withDragGroup = useCallback(
    (action: DocAction) =>
      dispatch(dragGroup.current ? { type: 'edit', action, group: dragGroup.current } : { type: 'edit', action }),
    [dispatch],
  );

  const onDecorMove = useCallback(
    (flowId: string, p: { x: number; y: number }) => {
      const d = decorId(flowId);
      const ui = latest.current.doc.workflow.ui;
      if (!d || !ui) return;
      if (d.kind === 'note') {
        withDragGroup({ type: 'updateNote', id: d.id, patch: { x: p.x, y: p.y } });
        return;
      }
      const g = ui.groups.find((x) => x.id === d.id);
      if (!g) return;
      const members = groupDrag.current?.id === d.id ? groupDrag.current : { id: d.id, ...groupMembers(ui, d.id) };
      withDragGroup({
        type: 'moveGroup',
        id: d.id,
        dx: p.x - g.x,
        dy: p.y - g.y,
        members: members.nodes,
        notes: members.notes,
      });
    },
    [withDragGroup],
  );

  // A node that grew (a preview appeared, an error list, a longer prompt) pushes the nodes it would cover down.
  // Only growth after its first measurement in this document counts: opening a workflow moves nothing.
  const pushGrown = useCallback(
    (sizes: ReadonlyMap<string, Measured>) => {
      const { doc: d, measured: before } = latest.current;
      const layout = d.workflow.ui?.nodes ?? {};
      const boxes = new Map<string, Box>();
      for (const [id, p] of Object.entries(layout)) {
        const size = sizes.get(id) ?? before.get(id) ?? { width: 260, height: 220 };
        boxes.set(id, { x: p.x, y: p.y, ...size });
      }
      const moves: Record<string, { x: number; y: number }> = {};
      for (const [id, size] of sizes) {
        const old = before.get(id);
        if (!old || size.height <= old.height + 1 || !boxes.has(id)) continue;
        for (const [other, p] of Object.entries(pushBelow(boxes, id))) {
          moves[other] = p;
          boxes.set(other, { ...boxes.get(other)!, ...p });
        }
      }
      if (Object.keys(moves).length) {
        dispatch({ type: 'edit', action: { type: 'makeRoom', positions: moves } });
      }
    },
    [dispatch],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      const positions: Record<string, { x: number; y: number }> = {};
      let dims: Map<string, Measured> | undefined;
      let selection: Set<string> | undefined;
      for (const c of changes) {
        if ('id' in c && decorId(c.id)) {
          if (c.type === 'position' && c.position) onDecorMove(c.id, c.position);
          continue;
        }
        if (c.type === 'position' && c.position) positions[c.id] = c.position;
        else if (c.type === 'dimensions' && c.dimensions) {
          dims ??= new Map();
          dims.set(c.id, { width: c.dimensions.width, height: c.dimensions.height });
        } else if (c.type === 'select') {
          selection ??= new Set(latest.current.doc.selection.nodes);
          if (c.selected) selection.add(c.id);
          else selection.delete(c.id);
        }
      }
      if (Object.keys(positions).length) {
        const action = { type: 'moveNodes' as const, positions };
        dispatch(dragGroup.current ? { type: 'edit', action, group: dragGroup.current } : { type: 'edit', action });
      }
      if (selection) dispatch({ type: 'edit', action: { type: 'select', nodes: [...selection] } });
      if (dims) {
        const add = dims;
        pushGrown(add);
        setMeasured((m) => {
          const next = new Map(m);
          for (const [id, d] of add) next.set(id, d);
          return next;
        });
      }
    },
    [dispatch, onDecorMove, pushGrown],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      let selection: Set<string> | undefined;
      for (const c of changes) {
        if (c.type !== 'select') continue;
        selection ??= new Set(latest.current.doc.selection.edges);
        if (c.selected) selection.add(c.id);
        else selection.delete(c.id);
      }
      if (selection) dispatch({ type: 'edit', action: { type: 'select', edges: [...selection] } });
    },
    [dispatch],
  );

  const onConnect = useCallback(
    (c: Connection) =>
      dispatch({
        type: 'edit',
        action: {
          type: 'connect',
          connection: { source: c.source, output: c.sourceHandle ?? '', target: c.target, input: c.targetHandle ?? '' },
        },
      }),
    [dispatch],
  );

  const isValidConnection = useCallback((c: Connection | Edge) => {
    const { doc: d, catalog: cat } = latest.current;
    return checkConnection(d.workflow, cat, {
      source: c.source,
      output: c.sourceHandle ?? '',
      target: c.target,
      input: c.targetHandle ?? '',
    }).ok;
  }, []);

  const containerRef = useRef<HTMLDivElement>(null);
  const localPoint = useCallback((clientX: number, clientY: number) => {
    const r = containerRef.current?.getBoundingClientRect();
    return { x: clientX - (r?.left ?? 0), y: clientY - (r?.top ?? 0) };
  }, []);

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || state.toHandle || !state.fromHandle || !state.fromNode) return;
      const { doc: d, catalog: cat } = latest.current;
      const from = state.fromHandle;
      const fromType = cat.byType.get(d.workflow.nodes[from.nodeId]?.type ?? '');
      const portType =
        from.type === 'source' ? fromType?.outputs[from.id ?? '']?.type : fromType?.inputs[from.id ?? '']?.type;
      if (!portType) return;
      const point = 'changedTouches' in event ? event.changedTouches[0]! : event;
      onSearch({
        screen: localPoint(point.clientX, point.clientY),
        flow: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
        filter: { side: from.type === 'source' ? 'input' : 'output', type: portType },
        from: { node: from.nodeId, port: from.id ?? '', side: from.type },
      });
    },
    [flow, onSearch, localPoint],
  );

  // Fit the whole workflow (nodes, groups, notes) to the visible canvas, from the document's layout: nodes not
  // rendered yet (onlyRenderVisibleElements) count with an estimated size. A saved viewport was the author's
  // screen, not this one, so opening fits too. A huge workflow is not shrunk below a readable zoom: its start
  // (top left) shows, and only that part renders.
  const fitAll = useCallback(() => {
    const el = containerRef.current;
    const { doc: d, measured: sizes } = latest.current;
    if (!el) return;
    const ui = d.workflow.ui;
    const boxes = Object.keys(d.workflow.nodes).map((id, i) => {
      const p = ui?.nodes[id] ?? fallbackPosition(i);
      const m = sizes.get(id);
      return { x: p.x, y: p.y, width: m?.width ?? 260, height: m?.height ?? 260 };
    });
    for (const g of ui?.groups ?? []) boxes.push(g);
    for (const n of ui?.notes ?? []) boxes.push({ x: n.x, y: n.y, width: n.width ?? 220, height: 120 });
    if (boxes.length === 0) return void flow.setViewport({ x: 0, y: 0, zoom: 1 });
    const x = Math.min(...boxes.map((b) => b.x));
    const y = Math.min(...boxes.map((b) => b.y));
    const width = Math.max(...boxes.map((b) => b.x + b.width)) - x;
    const height = Math.max(...boxes.map((b) => b.y + b.height)) - y;
    const viewport = getViewportForBounds(
      { x, y, width, height },
      el.clientWidth,
      el.clientHeight,
      MIN_FIT_ZOOM,
      1.2,
      0.06,
    );
    // Too big to fit readably: show where it starts (top left) at the smallest readable zoom.
    const tooBig = viewport.zoom <= MIN_FIT_ZOOM + 1e-6;
    void flow.setViewport(
      tooBig ? { x: 24 - x * MIN_FIT_ZOOM, y: 24 - y * MIN_FIT_ZOOM, zoom: MIN_FIT_ZOOM } : viewport,
    );
  }, [flow]);

  // Another workflow: sizes measured for the old one's nodes (ids are reused) say nothing about the new ones.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `openSignal` exists to trigger this.
  useEffect(() => setMeasured(new Map()), [openSignal]);

  const fittedOpen = useRef(-1);
  // biome-ignore lint/correctness/useExhaustiveDependencies: openSignal is read to tell an open from a fit.
  useEffect(() => {
    if (fitSignal === 0) return;
    // After opening: once now, once more when the nodes on screen have been measured (their real heights),
    // unless the document changed meanwhile (a node was already added to a new, empty one). The fit button
    // and F fit once, at once: nodes already measured.
    const justOpened = fittedOpen.current !== openSignal;
    fittedOpen.current = openSignal;
    const opened = latest.current.doc.workflow;
    const early = setTimeout(fitAll, justOpened ? 30 : 0);
    const settled = justOpened ? setTimeout(() => latest.current.doc.workflow === opened && fitAll(), 350) : undefined;
    return () => {
      clearTimeout(early);
      clearTimeout(settled);
    };
  }, [fitSignal, fitAll]);

  const menuAt = (e: { clientX: number; clientY: number }) => ({
    at: localPoint(e.clientX, e.clientY),
    flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }),
  });

  return (
    <div
      className="canvas"
      ref={containerRef}
      data-testid="canvas"
      role="application"
      data-nodes={workflowNodes.length}
      data-edges={edges.length}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = e.dataTransfer.types.includes(NODE_TYPE_MIME) ? 'copy' : 'copy';
      }}
      onDrop={(e) => {
        e.preventDefault();
        const type = e.dataTransfer.getData(NODE_TYPE_MIME);
        const output = e.dataTransfer.getData(OUTPUT_MIME);
        if (type) onAddNode(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
        else if (output) onOutputDrop(output);
        else if (e.dataTransfer.files.length) onFiles([...e.dataTransfer.files]);
      }}
      onDoubleClick={(e) => {
        const target = e.target as HTMLElement;
        if (!target.classList.contains('react-flow__pane')) return;
        onSearch({
          screen: localPoint(e.clientX, e.clientY),
          flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }),
        });
      }}
    >
      <ReactFlow<CanvasNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={(_e, node) => {
          dragGroup.current = `drag:${++dragCount.current}`;
          const d = decorId(node.id);
          const ui = latest.current.doc.workflow.ui;
          groupDrag.current = d?.kind === 'group' && ui ? { id: d.id, ...groupMembers(ui, d.id) } : undefined;
        }}
        onNodeDragStop={() => {
          dragGroup.current = undefined;
          groupDrag.current = undefined;
          dispatch({ type: 'endGroup' });
        }}
        onNodeContextMenu={(e, node) => {
          e.preventDefault();
          const d = decorId(node.id);
          onMenu(d ? { kind: d.kind, id: d.id, ...menuAt(e) } : { kind: 'node', id: node.id, ...menuAt(e) });
        }}
        onEdgeContextMenu={(e, edge) => {
          e.preventDefault();
          onMenu({ kind: 'edge', id: edge.id, ...menuAt(e) });
        }}
        onPaneContextMenu={(e) => {
          e.preventDefault();
          onMenu({ kind: 'pane', ...menuAt(e) });
        }}
        onlyRenderVisibleElements
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Control', 'Meta']}
        zoomOnDoubleClick={false}
        minZoom={0.05}
        maxZoom={3}
        defaultViewport={{ x: 0, y: 0, zoom: 1 }}
      >
        <Background gap={24} />
        <MiniMap pannable zoomable nodeColor={(n) => (n.selected ? '#fff' : '#667')} data-testid="minimap" />
        <Controls showInteractive={false} showFitView={false}>
          <ControlButton
            className="react-flow__controls-fitview"
            onClick={fitAll}
            title="Fit view (F)"
            aria-label="Fit view"
            data-testid="controls-fit"
          >
            <svg viewBox="0 0 32 30" aria-hidden="true">
              <path d="M3.692 4.63c0-.53.4-.938.939-.938h5.215V0H4.708C2.13 0 0 2.054 0 4.63v5.216h3.692V4.631zM27.354 0h-5.2v3.692h5.17c.53 0 .984.4.984.939v5.215H32V4.631A4.624 4.624 0 0027.354 0zm.954 24.83c0 .532-.4.94-.939.94h-5.215v3.768h5.215c2.577 0 4.631-2.13 4.631-4.707v-5.139h-3.692v5.139zm-23.677.94c-.531 0-.939-.4-.939-.94v-5.138H0v5.139c0 2.577 2.13 4.707 4.708 4.707h5.138V25.77H4.631z" />
            </svg>
          </ControlButton>
        </Controls>
        <ConnectionHint workflow={doc.workflow} catalog={catalog} />
      </ReactFlow>
    </div>
  );
}
