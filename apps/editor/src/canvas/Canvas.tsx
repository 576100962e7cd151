import type { WorkflowNode } from '@sdflow/nodes/graph/workflow.ts';
import { PORT_COLORS, type PortType } from '@sdflow/nodes/port-types.ts';
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  MiniMap,
  type NodeChange,
  ReactFlow,
  useReactFlow,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Catalog } from '../catalog/catalog.ts';
import type { HistoryAction } from '../document/actions.ts';
import { checkConnection } from '../document/connection-check.ts';
import type { DocState } from '../document/doc-state.ts';
import { NodeView } from '../nodes/NodeView.tsx';
import type { NodeSearchRequest } from '../palette/NodeSearch.tsx';
import { NODE_TYPE_MIME } from '../palette/Palette.tsx';
import { ConnectionHint } from './ConnectionHint.tsx';
import { createFlowMapper, type FlowEdge, type FlowNode, type Measured, toFlowEdges } from './flow-mapping.ts';
import { estimateHandles } from './handle-estimate.ts';

// React Flow wiring: the canvas shows the document and turns gestures into document actions.

const nodeTypes = { sdflow: NodeView };
const portColor = (t: string | undefined) => (t ? (PORT_COLORS[t as PortType] ?? '#888') : '#888');

interface Props {
  readonly doc: DocState;
  readonly catalog: Catalog;
  readonly dispatch: (a: HistoryAction) => void;
  /** Bumped to ask for a fit view once the nodes are on screen (after opening a workflow). */
  readonly fitSignal: number;
  onSearch(req: NodeSearchRequest): void;
  onAddNode(type: string, position: { x: number; y: number }): void;
  onFiles(files: File[]): void;
}

export function Canvas({ doc, catalog, dispatch, fitSignal, onSearch, onAddNode, onFiles }: Props) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const mapper = useMemo(() => createFlowMapper(), []);
  const [measured, setMeasured] = useState<ReadonlyMap<string, Measured>>(new Map());
  const estimate = useCallback(
    (node: WorkflowNode) => {
      const info = catalog.byType.get(node.type);
      return info ? estimateHandles(info) : undefined;
    },
    [catalog],
  );
  const nodes = useMemo(
    () => mapper(doc.workflow, doc.selection, measured, estimate),
    [mapper, doc.workflow, doc.selection, measured, estimate],
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
  const latest = useRef({ doc, catalog });
  latest.current = { doc, catalog };
  const dragGroup = useRef<string | undefined>(undefined);
  const dragCount = useRef(0);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const positions: Record<string, { x: number; y: number }> = {};
      let dims: Map<string, Measured> | undefined;
      let selection: Set<string> | undefined;
      for (const c of changes) {
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
        setMeasured((m) => {
          const next = new Map(m);
          for (const [id, d] of add) next.set(id, d);
          return next;
        });
      }
    },
    [dispatch],
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

  // After opening a workflow: its saved viewport, else fit it (a saved view also spares rendering every node
  // of a big workflow at once).
  useEffect(() => {
    if (fitSignal === 0) return;
    const viewport = latest.current.doc.workflow.ui?.viewport;
    const t = setTimeout(
      () => (viewport ? flow.setViewport(viewport) : flow.fitView({ padding: 0.15, duration: 0 })),
      60,
    );
    return () => clearTimeout(t);
  }, [fitSignal, flow]);

  return (
    <div
      className="canvas"
      ref={containerRef}
      data-testid="canvas"
      role="application"
      data-nodes={nodes.length}
      data-edges={edges.length}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = e.dataTransfer.types.includes(NODE_TYPE_MIME) ? 'copy' : 'copy';
      }}
      onDrop={(e) => {
        e.preventDefault();
        const type = e.dataTransfer.getData(NODE_TYPE_MIME);
        if (type) onAddNode(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
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
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={() => {
          dragGroup.current = `drag:${++dragCount.current}`;
        }}
        onNodeDragStop={() => {
          dragGroup.current = undefined;
          dispatch({ type: 'endGroup' });
        }}
        onlyRenderVisibleElements
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Control', 'Meta']}
        zoomOnDoubleClick={false}
        minZoom={0.05}
        maxZoom={3}
        defaultViewport={doc.workflow.ui?.viewport ?? { x: 0, y: 0, zoom: 1 }}
      >
        <Background gap={24} />
        <MiniMap pannable zoomable nodeColor={(n) => (n.selected ? '#fff' : '#667')} data-testid="minimap" />
        <Controls showInteractive={false} />
        <ConnectionHint workflow={doc.workflow} catalog={catalog} />
      </ReactFlow>
    </div>
  );
}
