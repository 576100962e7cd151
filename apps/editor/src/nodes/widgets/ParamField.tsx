import { memo, useEffect, useState } from 'react';
import type { ParamSchema } from '../../catalog/catalog.ts';
import { seedKey, useEditor } from '../../editor-context.ts';
import { modelsFor } from '../../runtime/api.ts';
import { coerceNumber, randomSeed, type Widget, widgetFor } from '../param-widgets.ts';

// One param row: label plus the widget its JSON Schema asks for. Edits go through the document reducer;
// keystrokes in one field share an undo group that ends on blur.

interface Props {
  readonly nodeId: string;
  readonly name: string;
  readonly schema: ParamSchema;
  readonly value: unknown;
  readonly invalid?: string | undefined;
}

export const ParamField = memo(function ParamField({ nodeId, name, schema, value, invalid }: Props) {
  const widget = widgetFor(name, schema);
  const label = schema.title ?? name;
  return (
    <div
      className={`param param-${widget.kind}${invalid ? ' param-invalid' : ''}`}
      title={invalid ?? schema.description}
      data-testid={`param-${nodeId}-${name}`}
    >
      <span className="param-label" title={label}>
        {label}
      </span>
      <WidgetInput nodeId={nodeId} name={name} widget={widget} value={value} fallback={schema.default} />
    </div>
  );
});

function useParamSetter(nodeId: string, name: string) {
  const { dispatch } = useEditor();
  const group = `param:${nodeId}:${name}`;
  return {
    set: (value: unknown, grouped = true) =>
      dispatch(
        grouped
          ? { type: 'edit', group, action: { type: 'setParam', id: nodeId, param: name, value } }
          : { type: 'edit', action: { type: 'setParam', id: nodeId, param: name, value } },
      ),
    end: () => dispatch({ type: 'endGroup' }),
  };
}

function WidgetInput({
  nodeId,
  name,
  widget,
  value,
  fallback,
}: {
  nodeId: string;
  name: string;
  widget: Widget;
  value: unknown;
  fallback: unknown;
}) {
  const { set, end } = useParamSetter(nodeId, name);
  const testId = `input-${nodeId}-${name}`;
  switch (widget.kind) {
    case 'boolean':
      return (
        <input
          type="checkbox"
          className="nodrag"
          data-testid={testId}
          checked={value === true}
          onChange={(e) => set(e.target.checked, false)}
        />
      );
    case 'enum':
      return (
        <select
          className="nodrag"
          data-testid={testId}
          value={String(value ?? '')}
          onChange={(e) =>
            set(
              widget.options.find((o) => String(o) === e.target.value),
              false,
            )
          }
        >
          {value === undefined && <option value="">—</option>}
          {widget.options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    case 'text':
      return (
        <input
          type="text"
          className="nodrag"
          data-testid={testId}
          value={String(value ?? '')}
          onChange={(e) => set(e.target.value)}
          onBlur={end}
        />
      );
    case 'textarea':
      return (
        <textarea
          className="nodrag nowheel"
          rows={3}
          data-testid={testId}
          value={String(value ?? '')}
          onChange={(e) => set(e.target.value)}
          onBlur={end}
        />
      );
    case 'number':
      return (
        <NumberInput
          testId={testId}
          widget={widget}
          value={value}
          fallback={fallback}
          onCommit={(v) => set(v, false)}
        />
      );
    case 'slider': {
      const n = typeof value === 'number' ? value : Number(fallback ?? widget.min);
      return (
        <span className="slider">
          <input
            type="range"
            className="nodrag"
            data-testid={testId}
            min={widget.min}
            max={widget.max}
            step={widget.step}
            value={n}
            onChange={(e) => set(Number(e.target.value))}
            onPointerUp={end}
            onBlur={end}
          />
          <NumberInput
            testId={`${testId}-value`}
            widget={widget}
            value={value}
            fallback={fallback}
            onCommit={(v) => set(v, false)}
          />
        </span>
      );
    }
    case 'seed':
      return (
        <SeedInput
          nodeId={nodeId}
          name={name}
          testId={testId}
          widget={widget}
          value={value}
          fallback={fallback}
          onCommit={(v) => set(v, false)}
        />
      );
    case 'model':
      return (
        <ModelPicker
          testId={testId}
          source={widget.source}
          value={value}
          onPick={(v) => set(v, false)}
          onType={(v) => set(v)}
          onBlur={end}
        />
      );
    case 'json':
      return <code className="param-json">{JSON.stringify(value)}</code>;
  }
}

/** Keeps the typed text while editing; commits a clamped number on blur or Enter. */
function NumberInput({
  testId,
  widget,
  value,
  fallback,
  onCommit,
}: {
  testId: string;
  widget: { integer: boolean; min?: number; max?: number; step: number };
  value: unknown;
  fallback: unknown;
  onCommit(v: number): void;
}) {
  const shown = typeof value === 'number' ? String(value) : '';
  const [text, setText] = useState(shown);
  useEffect(() => setText(shown), [shown]);
  const commit = () => {
    const v = coerceNumber(Number(text), widget, typeof value === 'number' ? value : Number(fallback ?? 0));
    setText(String(v));
    if (v !== value) onCommit(v);
  };
  return (
    <input
      type="number"
      className="nodrag"
      data-testid={testId}
      min={widget.min}
      max={widget.max}
      step={widget.step}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
    />
  );
}

function SeedInput({
  nodeId,
  name,
  testId,
  widget,
  value,
  fallback,
  onCommit,
}: {
  nodeId: string;
  name: string;
  testId: string;
  widget: { min: number; max: number };
  value: unknown;
  fallback: unknown;
  onCommit(v: number): void;
}) {
  const { seedModes, setSeedMode } = useEditor();
  const key = seedKey(nodeId, name);
  const mode = seedModes[key] ?? 'fixed';
  return (
    <span className="seed">
      <NumberInput
        testId={testId}
        widget={{ integer: true, min: widget.min, max: widget.max, step: 1 }}
        value={value}
        fallback={fallback}
        onCommit={onCommit}
      />
      <button
        type="button"
        className="nodrag"
        title="New random seed"
        data-testid={`${testId}-dice`}
        onClick={() => onCommit(randomSeed(widget.max))}
      >
        ⟳
      </button>
      <button
        type="button"
        className={`nodrag seed-mode seed-${mode}`}
        title="Before each run: keep this seed (fixed) or draw a new one (random)"
        data-testid={`${testId}-mode`}
        data-mode={mode}
        onClick={() => setSeedMode(key, mode === 'fixed' ? 'randomize' : 'fixed')}
      >
        {mode === 'fixed' ? 'fixed' : 'random'}
      </button>
    </span>
  );
}

function ModelPicker({
  testId,
  source,
  value,
  onPick,
  onType,
  onBlur,
}: {
  testId: string;
  source: string;
  value: unknown;
  onPick(v: string): void;
  onType(v: string): void;
  onBlur(): void;
}) {
  const { models } = useEditor();
  const options = modelsFor(models, source);
  const current = String(value ?? '');
  if (options.length === 0) {
    return (
      <input
        type="text"
        className="nodrag"
        data-testid={testId}
        value={current}
        onChange={(e) => onType(e.target.value)}
        onBlur={onBlur}
      />
    );
  }
  const known = options.find((m) => m.id === current);
  return (
    <select
      className="nodrag"
      data-testid={testId}
      value={current}
      title={known?.label ?? current}
      onChange={(e) => onPick(e.target.value)}
    >
      {!known && <option value={current}>{current || '—'} (not found)</option>}
      {options.map((m) => (
        <option key={m.id} value={m.id}>
          {m.label}
        </option>
      ))}
    </select>
  );
}
