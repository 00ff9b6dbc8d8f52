import { Notification } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { RoomModel } from './room';

/**
 * Whether the panel can be seen, and when it is shown again: polls stand by while it is hidden
 * (collapsed sidebar, hidden browser tab), so a closed panel costs the server nothing, and
 * catch up at once when it opens.
 */
export interface IVisibility {
  visible: () => boolean;
  shown: ISignal<unknown, void>;
}

export const VisibleContext = React.createContext<IVisibility>({
  visible: () => true,
  shown: new Signal<unknown, void>({})
});

const notified = new Set<string>();

/** `Jobs: 500 Internal Server Error`: what failed, and why. */
export function describeError(context: string, error: unknown): string {
  return `${context}: ${(error as Error)?.message ?? String(error)}`;
}

/**
 * Show a server error as a JupyterLab notification once (not once a second while it lasts).
 */
export function notifyError(context: string, error: unknown): string {
  const message = describeError(context, error);
  if (!notified.has(message)) {
    notified.add(message);
    Notification.error(message, { autoClose: 8000 });
  }
  return message;
}

export function forgetError(context: string): void {
  for (const message of [...notified]) {
    if (message.startsWith(`${context}: `)) {
      notified.delete(message);
    }
  }
}

export interface IPolled<T> {
  data: T | null;
  error: string | null;
  refresh: () => void;
}

/**
 * A room model's data for a view: the view re-renders when the model changes, the model polls
 * while the panel is visible and catches up when it is shown again. An error goes to a
 * notification (once) and to `error`, never to a silently empty list.
 */
export function useRoom<T>(context: string, model: RoomModel<T>): IPolled<T> {
  const { visible, shown } = React.useContext(VisibleContext);
  const [, setVersion] = React.useState(0);

  React.useEffect(() => {
    const onChange = () => {
      if (model.error) {
        notifyError(context, model.error);
      } else {
        forgetError(context);
      }
      setVersion(version => version + 1);
    };
    model.changed.connect(onChange);
    const watching = model.watch({ visible });
    const catchUp = () => void model.refresh();
    shown.connect(catchUp);
    return () => {
      shown.disconnect(catchUp);
      watching.dispose();
      model.changed.disconnect(onChange);
    };
  }, [context, model]);

  const refresh = React.useCallback(() => void model.refresh(), [model]);
  return {
    data: model.data,
    error: model.error && describeError(context, model.error),
    refresh
  };
}
