import { notebookIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IEnvironment } from './models';
import { IPolled } from './polling';
import { Section } from './section';

/**
 * The conda and virtual environments the server found: kind, Python version, and a new
 * notebook on the environment's kernel, or the hint to make it one.
 */
export function EnvironmentsSection(props: {
  environments: IPolled<IEnvironment[]>;
  createNotebook: (env: IEnvironment) => void;
  refresh: () => void;
}): JSX.Element {
  const { data, error } = props.environments;
  const envs = data ?? [];
  return (
    <Section
      id="environments"
      title="Environments"
      count={envs.length}
      polled={{ data, error }}
      empty="No environments found: create one with `python -m venv .venv` in the workspace."
      actions={[
        { label: 'Look for environments again', icon: refreshIcon, onClick: props.refresh }
      ]}
    >
      {envs.map(env => (
        <li className="jp-MLApp-item jp-MLApp-env" key={env.path} data-env-name={env.name}>
          <div className="jp-MLApp-itemMain" title={env.path}>
            <span className={`jp-MLApp-kind jp-MLApp-kind-${env.kind}`}>{env.kind}</span>
            <span className="jp-MLApp-itemName">{env.name}</span>
            <span className="jp-MLApp-itemMeta">
              {env.python_version ? `Python ${env.python_version}` : 'Python ?'}
            </span>
            {env.kernel_name && (
              <button
                className="jp-MLApp-iconButton jp-MLApp-newNotebook"
                title={`New notebook in ${env.name}`}
                aria-label={`New notebook in ${env.name}`}
                onClick={() => props.createNotebook(env)}
              >
                <notebookIcon.react tag="span" />
              </button>
            )}
          </div>
          <div className="jp-MLApp-itemDetail">
            {env.kernel_name ? (
              <span className="jp-MLApp-kernel">kernel {env.kernel_name}</span>
            ) : (
              <span className="jp-MLApp-hint">{env.hint ?? env.error ?? 'no kernel'}</span>
            )}
          </div>
        </li>
      ))}
    </Section>
  );
}
