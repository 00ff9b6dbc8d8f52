import { Notification } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

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

/**
 * Show a server error as a JupyterLab notification once (not once a second while it lasts).
 */
export function notifyError(context: string, error: unknown): string {
  const message = `${context}: ${(error as Error)?.message ?? String(error)}`;
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
 * Load `load()` now and then every `interval` ms while the panel is visible, backing off on
 * errors. Errors go to a notification and to `error`, never to a silently empty list.
 */
export function usePoll<T>(context: string, load: () => Promise<T>, interval: number): IPolled<T> {
  const { visible, shown } = React.useContext(VisibleContext);
  const [data, setData] = React.useState<T | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const pollRef = React.useRef<Poll | null>(null);
  const loadRef = React.useRef(load);
  loadRef.current = load;

  React.useEffect(() => {
    const poll = new Poll({
      factory: async () => {
        try {
          setData(await loadRef.current());
          setError(null);
          forgetError(context);
        } catch (reason) {
          setError(notifyError(context, reason));
          throw reason; // lets the poll back off
        }
      },
      frequency: { interval, backoff: true, max: 30 * 1000 },
      standby: () => !visible() || document.hidden,
      name: `mlapp:${context}`
    });
    pollRef.current = poll;
    void poll.start();
    const catchUp = () => void poll.refresh();
    shown.connect(catchUp);
    return () => {
      shown.disconnect(catchUp);
      poll.dispose();
    };
  }, [context, interval]);

  const refresh = React.useCallback(() => {
    void pollRef.current?.refresh();
  }, []);
  return { data, error, refresh };
}
