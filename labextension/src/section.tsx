import { caretDownIcon, caretRightIcon, LabIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

export interface ISectionAction {
  label: string;
  icon: LabIcon;
  onClick: () => void;
  disabled?: boolean;
}

/**
 * A collapsible section in the style of JupyterLab's Running panel: a header with a title,
 * a count and icon buttons, then the list, an error, or what to do when it is empty.
 */
export function Section(props: {
  id: string;
  title: string;
  count?: number;
  actions?: ISectionAction[];
  /** The room's data: an error is shown instead of the list, `Loading…` until the first answer. */
  polled: { data: unknown; error: string | null };
  empty?: string;
  children?: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(true);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const hasItems = React.Children.toArray(props.children).length > 0; // toArray drops false and null
  let body: React.ReactNode;
  const { data, error } = props.polled;
  if (error) {
    body = (
      <div className="jp-MLApp-message jp-MLApp-error" role="alert">
        {error}
      </div>
    );
  } else if (data === null) {
    body = <div className="jp-MLApp-message">Loading…</div>;
  } else if (!hasItems) {
    body = <div className="jp-MLApp-message jp-MLApp-empty">{props.empty}</div>;
  } else {
    body = <ul className="jp-MLApp-list">{props.children}</ul>;
  }
  return (
    <section className="jp-MLApp-section" data-section={props.id}>
      <header className="jp-MLApp-sectionHeader">
        <button
          className="jp-MLApp-sectionToggle"
          onClick={() => setOpen(!open)}
          aria-expanded={open}
          title={open ? `Collapse ${props.title}` : `Expand ${props.title}`}
        >
          <Caret.react tag="span" className="jp-MLApp-caret" />
          <span className="jp-MLApp-sectionTitle">{props.title}</span>
          {props.count !== undefined && <span className="jp-MLApp-count">{props.count}</span>}
        </button>
        <span className="jp-MLApp-sectionActions">
          {(props.actions ?? []).map(action => (
            <button
              key={action.label}
              className="jp-MLApp-iconButton"
              title={action.label}
              aria-label={action.label}
              disabled={action.disabled}
              onClick={action.onClick}
            >
              <action.icon.react tag="span" />
            </button>
          ))}
        </span>
      </header>
      {open && body}
    </section>
  );
}
