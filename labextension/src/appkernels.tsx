import { Dialog, showDialog } from '@jupyterlab/apputils';
import { refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { Answer, requestAPI, Schema } from './api';
import { formatBytes, formatDuration } from './format';
import { notifyError, useRoom } from './polling';
import { RoomModel } from './room';
import { Section } from './section';

/** One app kernel, as `GET /mlapp/api/appkernels` lists it (app null: a warm kernel of the pool). */
export type IAppKernel = Schema<'AppKernel'>;

export type IAppKernelListing = Answer<'/appkernels'>;

/** What a row says of a kernel: whose page of which app, or the pool's. */
export function describeAppKernel(kernel: IAppKernel): string {
  if (kernel.state === 'pooled') {
    return 'warm, waiting for a page';
  }
  const page = kernel.state === 'closing' ? 'page closed' : 'page open';
  return `${kernel.user} · ${page} · ${formatDuration(kernel.age)}`;
}

/** Ask, then stop: the page of that kernel loses its kernel (a reload starts another). */
async function confirmStop(kernel: IAppKernel): Promise<boolean> {
  const whose = kernel.app
    ? `${kernel.user}'s page of ${kernel.app}`
    : 'this warm kernel of the pool';
  const result = await showDialog({
    title: 'Stop app kernel?',
    body: `Stop the kernel of ${whose}? The page stops responding until it is reloaded.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Stop' })]
  });
  if (!result.button.accept) {
    return false;
  }
  try {
    await requestAPI(`appkernels/${kernel.id}`, { method: 'DELETE' });
  } catch (reason) {
    notifyError('Stop app kernel', reason);
  }
  return true;
}

/**
 * For admins: the kernels of the Voila app pages open now (app, user, age, memory) and the warm
 * pool's, each with a stop button.
 */
export function AppKernelsSection(props: { model: RoomModel<IAppKernelListing> }): JSX.Element {
  const { data, error, refresh } = useRoom('App kernels', props.model);
  const kernels = data?.kernels ?? [];
  const total = kernels.reduce((sum, kernel) => sum + kernel.memory, 0);
  const stop = async (kernel: IAppKernel) => {
    if (await confirmStop(kernel)) {
      refresh();
    }
  };

  return (
    <Section
      id="appkernels"
      title="App kernels"
      count={kernels.length}
      polled={{ data, error }}
      empty="No app page is open."
      actions={[{ label: 'Refresh app kernels', icon: refreshIcon, onClick: refresh }]}
    >
      {kernels.length > 0 && data && (
        <li className="jp-MLApp-item jp-MLApp-appKernelsTotal" key="total">
          <div className="jp-MLApp-itemDetail">
            <span>{formatBytes(total)} in all</span>
            <span>
              at most {data.limits.total} pages, {data.limits.per_user} a user
            </span>
          </div>
        </li>
      )}
      {kernels.map(kernel => (
        <li className="jp-MLApp-item jp-MLApp-appKernel" key={kernel.id} data-kernel-id={kernel.id}>
          <div className="jp-MLApp-itemMain">
            <span className="jp-MLApp-itemName" title={kernel.id}>
              {kernel.app ?? 'Pool'}
            </span>
            <span className="jp-MLApp-itemMeta">{formatBytes(kernel.memory)}</span>
            <button
              className="jp-MLApp-iconButton"
              title={`Stop ${kernel.app ?? 'pooled kernel'}${kernel.user ? ` of ${kernel.user}` : ''}`}
              aria-label={`Stop app kernel ${kernel.id}`}
              onClick={() => void stop(kernel)}
            >
              <stopIcon.react tag="span" />
            </button>
          </div>
          <div className="jp-MLApp-itemDetail">
            <span>{describeAppKernel(kernel)}</span>
          </div>
        </li>
      ))}
    </Section>
  );
}
