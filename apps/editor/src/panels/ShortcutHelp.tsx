import { SHORTCUTS } from '../keyboard/shortcuts.ts';

export function ShortcutHelp({ onClose }: { onClose(): void }) {
  return (
    <div className="modal-backdrop" data-testid="shortcut-help">
      <div className="modal" role="dialog" aria-label="Keyboard shortcuts">
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.command}>
                <td>
                  <kbd>{s.keys}</kbd>
                </td>
                <td>{s.label}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">
          Drag a node type from the palette, or double-click the canvas to search. Drag from a port and drop on empty
          canvas to add a compatible node.
        </p>
        <button type="button" onClick={onClose} data-testid="btn-help-close">
          Close
        </button>
      </div>
    </div>
  );
}
