// A yes/no question in the page (the browser's confirm() blocks and cannot be styled).

export function ConfirmDialog({
  message,
  confirm,
  onConfirm,
  onCancel,
}: {
  message: string;
  confirm: string;
  onConfirm(): void;
  onCancel(): void;
}) {
  return (
    <div className="modal-backdrop" data-testid="confirm-dialog">
      <div className="modal" role="alertdialog" aria-label={message}>
        <p>{message}</p>
        <div className="modal-actions">
          <button type="button" onClick={onCancel} data-testid="confirm-cancel">
            Cancel
          </button>
          <button type="button" className="danger" onClick={onConfirm} data-testid="confirm-ok">
            {confirm}
          </button>
        </div>
      </div>
    </div>
  );
}
