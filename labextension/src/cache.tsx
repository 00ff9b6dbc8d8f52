import { Dialog, showDialog } from '@jupyterlab/apputils';
import { clearIcon, deleteIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { requestAPI } from './api';
import { formatAgo, formatBytes, formatDuration } from './format';
import { describeCacheOwner, ICacheEntry, ICacheListing } from './models';
import { notifyError, useRoom } from './polling';
import { RoomModel } from './room';
import { Section } from './section';

/** Ask, then call: a cleared result is computed again at its next use. */
async function confirmClear(what: string, path: string): Promise<void> {
  const result = await showDialog({
    title: 'Clear cached result?',
    body: `Clear ${what}? It is computed again the next time it is used.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Clear' })]
  });
  if (!result.button.accept) {
    return;
  }
  try {
    await requestAPI(path, { method: 'DELETE' });
  } catch (reason) {
    notifyError('Clear cache', reason);
  }
}

/**
 * The explicit cache: the user's results (and, for editors and admins, those an app's users
 * share), each with its function, key, age and size, and a button to clear it.
 */
export function CacheSection(props: { model: RoomModel<ICacheListing> }): JSX.Element {
  const { data, error, refresh } = useRoom('Cache', props.model);
  const entries = data ? [...data.entries, ...data.shared] : [];

  const clear = async (entry: ICacheEntry) => {
    const path = entry.shared
      ? `sessions/cache/shared/${encodeURIComponent(entry.shared)}/${entry.id}`
      : `sessions/cache/${entry.id}`;
    await confirmClear(`"${entry.key}" of ${describeCacheOwner(entry)}`, path);
    refresh();
  };
  const clearAll = async () => {
    await confirmClear(`all ${data?.entries.length ?? 0} of your cached results`, 'sessions/cache');
    refresh();
  };

  return (
    <Section
      id="cache"
      title="Cache"
      count={entries.length}
      polled={{ data, error }}
      empty="Nothing cached yet: decorate a function with @cache(key=...) from jupyter_mlapp.sessions."
      actions={[
        {
          label: 'Clear all your cached results',
          icon: clearIcon,
          onClick: () => void clearAll(),
          disabled: !data?.entries.length
        },
        { label: 'Refresh cache', icon: refreshIcon, onClick: refresh }
      ]}
    >
      {entries.map(entry => (
        <li
          className="jp-MLApp-item jp-MLApp-cacheEntry"
          key={`${entry.shared ?? ''}/${entry.id}`}
          data-cache-key={entry.key}
          title={`${entry.namespace || 'get_or_compute'}: computed ${entry.created} by ${entry.writer}, expires ${entry.expires}`}
        >
          <div className="jp-MLApp-itemMain">
            <span className="jp-MLApp-itemName">{entry.key}</span>
            <span className="jp-MLApp-itemMeta">{formatBytes(entry.size)}</span>
            <button
              className="jp-MLApp-iconButton"
              title={`Clear ${entry.key}`}
              aria-label={`Clear ${entry.key}`}
              onClick={() => void clear(entry)}
            >
              <deleteIcon.react tag="span" />
            </button>
          </div>
          <div className="jp-MLApp-itemDetail">
            <span>{describeCacheOwner(entry)}</span>
            {entry.shared && <span>shared by the users of {entry.shared}</span>}
            <span>
              computed {formatAgo(entry.created)} in {formatDuration(entry.seconds)}
            </span>
            <span>
              {entry.hits} {entry.hits === 1 ? 'hit' : 'hits'}
              {entry.stale ? ' · stale' : ''}
            </span>
          </div>
        </li>
      ))}
    </Section>
  );
}
