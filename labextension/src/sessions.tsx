import { Dialog, showDialog } from '@jupyterlab/apputils';
import { deleteIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { requestAPI } from './api';
import { formatAgo, formatBytes } from './format';
import { ISnapshot } from './models';
import { notifyError, useRoom } from './polling';
import { RoomModel } from './room';
import type { IAppWithSnapshots } from './rooms';
import { Section } from './section';

/**
 * The user's apps with saved state, and their snapshots (time, size), each deletable.
 */
export function SessionsSection(props: { model: RoomModel<IAppWithSnapshots[]> }): JSX.Element {
  const { data, error, refresh } = useRoom('Sessions', props.model);
  const apps = data ?? [];

  const remove = async (app: string, snapshot: ISnapshot) => {
    const result = await showDialog({
      title: 'Delete snapshot?',
      body: `Delete the snapshot "${snapshot.name}" of ${app}? This cannot be undone.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await requestAPI(
        `sessions/apps/${encodeURIComponent(app)}/snapshots/${encodeURIComponent(snapshot.name)}`,
        { method: 'DELETE' }
      );
    } catch (reason) {
      notifyError(`Delete snapshot ${snapshot.name}`, reason);
    }
    refresh();
  };

  return (
    <Section
      id="sessions"
      title="Sessions"
      count={apps.length}
      polled={{ data, error }}
      empty="No saved sessions yet: open an app; its state saves itself, and its session bar saves snapshots."
      actions={[{ label: 'Refresh sessions', icon: refreshIcon, onClick: refresh }]}
    >
      {apps.map(app => (
        <li className="jp-MLApp-item jp-MLApp-app" key={app.app} data-app={app.app}>
          <div className="jp-MLApp-itemMain">
            <span className="jp-MLApp-itemName">{app.app}</span>
            <span className="jp-MLApp-itemMeta">
              {app.keys} {app.keys === 1 ? 'value' : 'values'} · {formatBytes(app.size)} ·{' '}
              {formatAgo(app.updated)}
            </span>
          </div>
          {app.snapshotList.length > 0 && (
            <ul className="jp-MLApp-sublist">
              {app.snapshotList.map(snapshot => (
                <li
                  className="jp-MLApp-snapshot"
                  key={snapshot.name}
                  data-snapshot={snapshot.name}
                  title={snapshot.summary}
                >
                  <span className="jp-MLApp-itemName">{snapshot.name}</span>
                  <span className="jp-MLApp-itemMeta">
                    {formatAgo(snapshot.created)} · {formatBytes(snapshot.size)}
                  </span>
                  <button
                    className="jp-MLApp-iconButton"
                    title={`Delete snapshot ${snapshot.name}`}
                    aria-label={`Delete snapshot ${snapshot.name}`}
                    onClick={() => void remove(app.app, snapshot)}
                  >
                    <deleteIcon.react tag="span" />
                  </button>
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </Section>
  );
}
