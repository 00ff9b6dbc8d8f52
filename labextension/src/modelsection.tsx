import { Clipboard, Notification } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { copyIcon, launchIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatAgo, formatBytes } from './format';
import { describeClasses, IModel } from './models';
import { useRoom } from './polling';
import { RoomModel } from './room';
import { Section } from './section';

/** The flagship app's Models page, where models are tested and client snippets copied. */
export const MODELS_PAGE = 'voila/render/notebooks/ml_app.ipynb?page=Models';

function absoluteURL(path: string): string {
  const { baseUrl } = ServerConnection.makeSettings();
  return new URL(URLExt.join(baseUrl, path), window.location.href).href;
}

/**
 * The model registry: each model with its weights versions and classes, its prediction URL to
 * copy, and a link to the app's Models page.
 */
export function ModelsSection(props: { model: RoomModel<IModel[]> }): JSX.Element {
  const { data, error, refresh } = useRoom('Models', props.model);
  const models = data ?? [];
  const predictURL = absoluteURL('mlapp/api/models/predict');

  const copy = (model: IModel) => {
    Clipboard.copyToSystem(predictURL);
    Notification.info(
      `Copied the prediction URL of ${model.name}: POST ${predictURL} with "algorithm": "${model.name}"`,
      {
        autoClose: 5000
      }
    );
  };

  return (
    <Section
      id="models"
      title="Models"
      count={models.length}
      polled={{ data, error }}
      empty="No models yet: save one from a notebook with jupyter_mlapp.models.save(model, name)."
      actions={[
        {
          label: 'Open the Models page of the app',
          icon: launchIcon,
          onClick: () => window.open(absoluteURL(MODELS_PAGE), '_blank')
        },
        { label: 'Refresh models', icon: refreshIcon, onClick: refresh }
      ]}
    >
      {models.map(model => (
        <li className="jp-MLApp-item jp-MLApp-model" key={model.name} data-model={model.name}>
          <div className="jp-MLApp-itemMain" title={`${model.task}, saved by ${model.saved_by}`}>
            <span
              className={`jp-MLApp-state jp-MLApp-state-${model.available ? 'succeeded' : 'failed'}`}
            />
            <span className="jp-MLApp-itemName">{model.name}</span>
            <span className="jp-MLApp-itemMeta">{formatBytes(model.size)}</span>
            <button
              className="jp-MLApp-iconButton"
              title={`Copy the prediction URL of ${model.name}`}
              aria-label={`Copy the prediction URL of ${model.name}`}
              onClick={() => copy(model)}
            >
              <copyIcon.react tag="span" />
            </button>
          </div>
          <div className="jp-MLApp-itemDetail">
            <span>weights {model.weights.join(', ')}</span>
            <span>{describeClasses(model.classes)}</span>
            <span>{formatAgo(model.saved_at)}</span>
          </div>
          {model.versions
            .filter(v => !v.available)
            .map(v => (
              <div className="jp-MLApp-hint" key={v.version}>
                {v.version}: {v.reason}
              </div>
            ))}
        </li>
      ))}
    </Section>
  );
}
