import type { Workflow } from '@sdflow/nodes/graph/workflow.ts';
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { Canvas, type CanvasMenuRequest } from './canvas/Canvas.tsx';
import { ContextMenu } from './canvas/ContextMenu.tsx';
import { useCanvasMenu } from './canvas/useCanvasMenu.ts';
import type { DocAction, HistoryAction } from './document/actions.ts';
import { type Clip, copyNodes } from './document/clipboard.ts';
import { initialDoc } from './document/doc-state.ts';
import { canRedo, canUndo, historyReducer, initialHistory } from './document/history.ts';
import { nextNodeId } from './document/ids.ts';
import { type EditorApi, EditorContext, type SeedMode } from './editor-context.ts';
import { readAutosave, writeAutosave } from './files/autosave.ts';
import { type Example, loadExamples } from './files/examples.ts';
import { useFirstOpen } from './files/useFirstOpen.ts';
import { downloadWorkflow, openWorkflowFile, parseWorkflow } from './files/workflow-file.ts';
import { useShortcuts } from './keyboard/useShortcuts.ts';
import { NodeSearch, type NodeSearchRequest } from './palette/NodeSearch.tsx';
import { Palette } from './palette/Palette.tsx';
import { compatiblePort } from './palette/palette-search.ts';
import { ConfirmDialog } from './panels/ConfirmDialog.tsx';
import { Gallery, isImage } from './panels/Gallery.tsx';
import { ImageViewer } from './panels/ImageViewer.tsx';
import { Notices } from './panels/Notices.tsx';
import { RunProgressView } from './panels/RunProgressView.tsx';
import { RunsPanel } from './panels/RunsPanel.tsx';
import { ShortcutHelp } from './panels/ShortcutHelp.tsx';
import { SidePanel } from './panels/SidePanel.tsx';
import { Toolbar } from './panels/Toolbar.tsx';
import { interruptRun, outputUrl, queueRun } from './runtime/api.ts';
import { queueWithSeeds } from './runtime/queue-runs.ts';
import { pendingRuns, queuedRuns } from './runtime/run-state.ts';
import { startRuntimeSession } from './runtime/runtime-session.ts';
import { staleNodes } from './runtime/stale-results.ts';
import { createStore, useStore } from './runtime/store.ts';
import { useRuntimeData } from './runtime/useRuntimeData.ts';

// The composition root of the editor: document history, runtime session, panels and shortcuts.

const CLIP_KEY = 'sdflow.clipboard.v1';

export function App() {
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}

function Editor() {
  const [session] = useState(startRuntimeSession);
  useEffect(() => () => session.close(), [session]);
  const { catalog, models, error: catalogError } = useRuntimeData(session);
  const flow = useReactFlow();

  const restored = useMemo(() => readAutosave(), []);
  const env = useRef({ catalog });
  env.current = { catalog };
  const [history, dispatch] = useReducer(
    (h: ReturnType<typeof initialHistory>, a: HistoryAction) => historyReducer(h, a, env.current),
    undefined,
    () => initialHistory(initialDoc(restored?.workflow)),
  );
  const doc = history.present;
  const edit = useCallback((action: DocAction) => dispatch({ type: 'edit', action }), []);

  // Unsaved marker: the document differs (by reference) from the last saved/opened one.
  const [saved, setSaved] = useState<Workflow | undefined>(restored?.dirty ? undefined : doc.workflow);
  const dirty = saved !== doc.workflow;
  const [seedModes, setSeedModes] = useState<Record<string, SeedMode>>(restored?.seedModes ?? {});
  const [pinned, setPinned] = useState<ReadonlySet<string>>(new Set());
  const [menu, setMenu] = useState<CanvasMenuRequest>();
  const [viewer, setViewer] = useState<number>();
  const [confirmNew, setConfirmNew] = useState(false);
  const [stale] = useState(() => createStore<ReadonlySet<string>>(new Set()));
  const ranWorkflow = useStore(session.runs, (s) => (s.currentRunId ? s.workflows[s.currentRunId] : undefined));
  useEffect(() => stale.set(staleNodes(doc.workflow, ranWorkflow)), [stale, doc.workflow, ranWorkflow]);
  useEffect(() => {
    const save = () => writeAutosave({ workflow: doc.workflow, dirty, seedModes });
    const t = setTimeout(save, 300);
    // A reload or closed tab inside the debounce window must not lose the last edit.
    window.addEventListener('pagehide', save);
    return () => {
      clearTimeout(t);
      window.removeEventListener('pagehide', save);
    };
  }, [doc.workflow, dirty, seedModes]);
  useEffect(() => {
    document.title = `${dirty ? '• ' : ''}${doc.workflow.meta.name ?? 'untitled'} — sdflow`;
  }, [dirty, doc.workflow.meta.name]);

  const runState = useStore(session.runs, (s) => s);
  const [message, setMessage] = useState<string>();
  const [search, setSearch] = useState<NodeSearchRequest>();
  const [help, setHelp] = useState(false);
  const [batch, setBatch] = useState(1);
  const [openSignal, setOpenSignal] = useState(0);
  const [fitSignal, setFitSignal] = useState(restored && Object.keys(restored.workflow.nodes).length ? 1 : 0);
  const [examples, setExamples] = useState<Example[]>([]);
  useEffect(() => {
    loadExamples().then(setExamples, () => undefined);
  }, []);

  const fileInput = useRef<HTMLInputElement>(null);
  const pointer = useRef<{ x: number; y: number } | undefined>(undefined);

  const open = useCallback(
    (workflow: Workflow) => {
      dispatch({ type: 'edit', action: { type: 'load', workflow } });
      setSaved(workflow);
      session.forget();
      // Seed modes belong to the document they were set in: another workflow's node with the same id starts fixed.
      setSeedModes({});
      setPinned(new Set());
      setOpenSignal((n) => n + 1);
      setFitSignal((n) => n + 1);
    },
    [session],
  );

  useFirstOpen(restored === undefined, examples, open);

  const openFiles = useCallback(
    async (files: File[]) => {
      const file = files[0];
      if (!file) return;
      try {
        const opened = await openWorkflowFile(file);
        open(opened.workflow);
        setMessage(opened.notice);
      } catch (e) {
        setMessage(e instanceof Error ? e.message : String(e));
      }
    },
    [open],
  );

  // A gallery image (clicked "open its workflow", or dragged onto the canvas) opens as its PNG file would.
  const openOutput = useCallback(
    async (name: string) => {
      const res = await fetch(outputUrl(name)).catch(() => undefined);
      if (!res?.ok) return setMessage(`${name}: the runtime did not serve it (HTTP ${res?.status ?? 'error'})`);
      const blob = await res.blob();
      await openFiles([new File([blob], name, { type: blob.type || 'image/png' })]);
    },
    [openFiles],
  );

  // The document already holds the new state when the id is computed: ids come from the present workflow.
  const addNode = useCallback(
    (type: string, position: { x: number; y: number }, connectFrom?: NodeSearchRequest['from']) => {
      const id = nextNodeId(Object.keys(doc.workflow.nodes), type);
      const actions: DocAction[] = [{ type: 'addNode', id, nodeType: type, position }];
      const info = catalog.byType.get(type);
      if (connectFrom && info) {
        const fromInfo = catalog.byType.get(doc.workflow.nodes[connectFrom.node]?.type ?? '');
        const portType =
          connectFrom.side === 'source'
            ? fromInfo?.outputs[connectFrom.port]?.type
            : fromInfo?.inputs[connectFrom.port]?.type;
        const port =
          portType &&
          compatiblePort(info, { side: connectFrom.side === 'source' ? 'input' : 'output', type: portType });
        if (port) {
          actions.push({
            type: 'connect',
            connection:
              connectFrom.side === 'source'
                ? { source: connectFrom.node, output: connectFrom.port, target: id, input: port }
                : { source: id, output: port, target: connectFrom.node, input: connectFrom.port },
          });
        }
      }
      edit(actions.length === 1 ? actions[0]! : { type: 'batch', actions });
    },
    [catalog, doc.workflow.nodes, edit],
  );

  const viewCentre = () => {
    const el = document.querySelector('[data-testid="canvas"]')?.getBoundingClientRect();
    return flow.screenToFlowPosition({
      x: (el?.left ?? 0) + (el?.width ?? 800) / 2,
      y: (el?.top ?? 0) + (el?.height ?? 600) / 2,
    });
  };

  const copy = () => {
    if (doc.selection.nodes.length === 0) return;
    const clip = copyNodes(doc.workflow, doc.selection.nodes);
    localStorage.setItem(CLIP_KEY, JSON.stringify(clip));
    void navigator.clipboard?.writeText(JSON.stringify(clip)).catch(() => undefined);
  };
  const paste = (at: { x: number; y: number } | undefined = pointer.current) => {
    const raw = localStorage.getItem(CLIP_KEY);
    if (!raw) return;
    let clip: Clip;
    try {
      clip = JSON.parse(raw) as Clip;
    } catch {
      return;
    }
    const pos = Object.values(clip.ui);
    const minX = Math.min(...pos.map((p) => p.x));
    const minY = Math.min(...pos.map((p) => p.y));
    const offset = at && Number.isFinite(minX) ? { x: at.x - minX, y: at.y - minY } : { x: 40, y: 40 };
    edit({ type: 'paste', clip, offset });
  };

  const save = () => {
    const viewport = flow.getViewport();
    const workflow: Workflow = {
      ...doc.workflow,
      ui: { nodes: {}, groups: [], notes: [], ...doc.workflow.ui, viewport },
    };
    downloadWorkflow(workflow);
    setSaved(doc.workflow);
  };

  const run = async () => {
    setMessage(undefined);
    const result = await queueWithSeeds(doc.workflow, batch, seedModes, edit);
    session.dispatch({ type: 'problems', problems: result.problems });
    if (result.message) setMessage(result.message);
  };

  const runAgain = async (workflow: Workflow) => {
    const r = await queueRun(workflow).catch((e: unknown) => ({
      ok: false as const,
      problems: [],
      message: String(e),
    }));
    if (!r.ok) setMessage(r.message);
  };

  const newDocument = () => open({ version: 1, meta: {}, nodes: {}, ui: { nodes: {}, groups: [], notes: [] } });

  const { menuRequest, insertNode } = useCanvasMenu({
    menu,
    doc,
    catalog,
    pinned,
    edit,
    setPinned,
    setSearch,
    paste,
    fit: () => setFitSignal((n) => n + 1),
  });

  const images = runState.gallery.filter(isImage);

  // Stop ends the running run, or else cancels the next queued one.
  const runningId = Object.entries(runState.runs).find(([, r]) => r.status === 'running')?.[0];
  const stopId = runningId ?? Object.entries(runState.runs).find(([, r]) => r.status === 'queued')?.[0];

  useShortcuts((command) => {
    switch (command) {
      case 'undo':
        dispatch({ type: 'undo' });
        return true;
      case 'redo':
        dispatch({ type: 'redo' });
        return true;
      case 'copy':
        copy();
        return true;
      case 'cut':
        copy();
        edit({ type: 'removeSelection' });
        return true;
      case 'paste':
        paste(pointer.current);
        return true;
      case 'delete':
        edit({ type: 'removeSelection' });
        return true;
      case 'selectAll':
        edit({ type: 'selectAll' });
        return true;
      case 'duplicate':
        edit({ type: 'duplicate' });
        return true;
      case 'save':
        save();
        return true;
      case 'open':
        fileInput.current?.click();
        return true;
      case 'run':
        void run();
        return true;
      case 'fitView':
        setFitSignal((n) => n + 1);
        return true;
      case 'help':
        setHelp((h) => !h);
        return true;
      case 'search': {
        const c = viewCentre();
        setSearch({ screen: { x: 200, y: 80 }, flow: pointer.current ?? c });
        return true;
      }
      case 'escape':
        setSearch(undefined);
        setHelp(false);
        setMenu(undefined);
        return false;
    }
  });

  const api: EditorApi = useMemo(
    () => ({
      catalog,
      models,
      session,
      seedModes,
      stale,
      dispatch,
      setSeedMode: (key, mode) => setSeedModes((m) => ({ ...m, [key]: mode })),
    }),
    [catalog, models, session, seedModes, stale],
  );

  return (
    <EditorContext.Provider value={api}>
      <div
        className="app"
        onPointerMove={(e) => {
          pointer.current = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
        }}
      >
        <Toolbar
          name={doc.workflow.meta.name ?? ''}
          dirty={dirty}
          canUndo={canUndo(history)}
          canRedo={canRedo(history)}
          examples={examples}
          connection={runState.connection}
          queued={queuedRuns(runState)}
          batch={batch}
          running={runningId !== undefined}
          progress={<RunProgressView session={session} />}
          onRename={(name) => dispatch({ type: 'edit', group: 'rename', action: { type: 'rename', name } })}
          onNew={() => (dirty ? setConfirmNew(true) : newDocument())}
          onOpen={() => fileInput.current?.click()}
          onSave={save}
          onExample={(name) => {
            const ex = examples.find((x) => x.name === name);
            if (!ex) return;
            try {
              open(parseWorkflow(ex.workflow, name));
            } catch (e) {
              setMessage(e instanceof Error ? e.message : String(e));
            }
          }}
          onRun={() => void run()}
          onBatch={setBatch}
          onInterrupt={() => void interruptRun(stopId).catch((e: unknown) => setMessage(String(e)))}
          onUndo={() => dispatch({ type: 'undo' })}
          onRedo={() => dispatch({ type: 'redo' })}
          onFit={() => setFitSignal((n) => n + 1)}
          onHelp={() => setHelp(true)}
        />
        <div className="main">
          <Palette catalog={catalog} onAdd={(type) => addNode(type, viewCentre())} />
          <div className="canvas-wrap">
            <Canvas
              doc={doc}
              catalog={catalog}
              dispatch={dispatch}
              fitSignal={fitSignal}
              openSignal={openSignal}
              onSearch={setSearch}
              onAddNode={(type, position) => addNode(type, position)}
              onFiles={(files) => void openFiles(files)}
              onOutputDrop={(name) => void openOutput(name)}
              onMenu={setMenu}
              pinned={pinned}
            />
            {search && (
              <NodeSearch
                catalog={catalog}
                request={search}
                onClose={() => setSearch(undefined)}
                onPick={(type) => {
                  if (search.insert) insertNode(type, search.flow, search.insert);
                  else addNode(type, search.flow, search.from);
                  setSearch(undefined);
                }}
              />
            )}
            {menuRequest && <ContextMenu request={menuRequest} onClose={() => setMenu(undefined)} />}
            <Notices
              notice={doc.notice}
              message={message ?? runState.message ?? catalogError}
              problems={runState.problems}
              onDismiss={() => {
                edit({ type: 'dismissNotice' });
                setMessage(undefined);
                session.dispatch({ type: 'message' });
              }}
            />
          </div>
          <SidePanel
            runCount={pendingRuns(runState)}
            outputs={<Gallery files={images} onOpen={(name) => setViewer(images.indexOf(name))} />}
            runs={
              <RunsPanel
                runState={runState}
                onOpenWorkflow={open}
                onRunWorkflow={(wf) => void runAgain(wf)}
                onOpenImage={(name) => setViewer(Math.max(0, images.indexOf(name)))}
                onError={setMessage}
              />
            }
          />
        </div>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json,image/png"
          hidden
          data-testid="file-input"
          onChange={(e) => {
            void openFiles([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        {help && <ShortcutHelp onClose={() => setHelp(false)} />}
        {viewer !== undefined && (
          <ImageViewer
            files={images}
            index={viewer}
            onIndex={setViewer}
            onClose={() => setViewer(undefined)}
            onOpenWorkflow={(name) => {
              setViewer(undefined);
              void openOutput(name);
            }}
          />
        )}
        {confirmNew && (
          <ConfirmDialog
            message={`Discard the unsaved changes to “${doc.workflow.meta.name || 'untitled'}”?`}
            confirm="Discard and start new"
            onCancel={() => setConfirmNew(false)}
            onConfirm={() => {
              setConfirmNew(false);
              newDocument();
            }}
          />
        )}
      </div>
    </EditorContext.Provider>
  );
}
