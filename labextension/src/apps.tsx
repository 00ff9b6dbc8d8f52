import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { closeIcon, launchIcon, refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { Answer, Body, requestAPI, Schema } from './api';
import { AUDIENCE_KEYS, describeAudience, formatAgo, IAudience, splitNames } from './format';
import { useRoom } from './polling';
import { RoomModel } from './room';
import { Section } from './section';

/** A published app, as `GET /mlapp/api/apps` answers (audience, files and publisher: to editors). */
export type IPublishedApp = Schema<'PublishedApp'>;

/** The fields of `POST /mlapp/api/apps` the publish dialog sends (the slug follows the path). */
export type IPublishRequest = Required<Omit<Body<'/apps'>, 'slug'>>;

function absoluteURL(path: string): string {
  return new URL(path, window.location.href).href;
}

export function galleryURL(): string {
  const { baseUrl } = ServerConnection.makeSettings();
  return URLExt.join(baseUrl, 'mlapp/apps');
}

/** The form of the "Publish as app" dialog, prefilled with how the notebook is published now. */
class PublishForm extends Widget implements Dialog.IBodyWidget<IPublishRequest> {
  constructor(
    private readonly path: string,
    current: Partial<IPublishRequest> | undefined
  ) {
    super({ node: document.createElement('form') });
    this.addClass('jp-MLApp-publishForm');
    const audience: IAudience = current?.audience ?? {};
    const everyone = !AUDIENCE_KEYS.some(key => (audience[key] ?? []).length > 0);
    const field = (name: string, label: string, value: string, hint = '') => `
      <label>${label}${hint ? ` <span class="jp-MLApp-fieldHint">${hint}</span>` : ''}
        <input class="jp-mod-styled" name="${name}" value="${escapeAttribute(value)}">
      </label>`;
    this.node.innerHTML = `
      <p class="jp-MLApp-fieldHint">${escapeText(path)}</p>
      ${field('title', 'Title', current?.title ?? titleFromPath(path))}
      <label>Description
        <textarea class="jp-mod-styled" name="description" rows="2" maxlength="500">${escapeText(current?.description ?? '')}</textarea>
      </label>
      <fieldset>
        <legend>Who may open it</legend>
        <label><input type="radio" name="audience" value="everyone" ${everyone ? 'checked' : ''}> Every signed-in user</label>
        <label><input type="radio" name="audience" value="some" ${everyone ? '' : 'checked'}> Only:</label>
        ${field('users', 'Users', (audience.users ?? []).join(', '), 'comma-separated')}
        ${field('roles', 'Roles', (audience.roles ?? []).join(', '), 'viewer, editor')}
        ${field('groups', 'Hub groups', (audience.groups ?? []).join(', '))}
      </fieldset>
      ${field('files', 'Public files', (current?.files ?? []).join(', '), 'files or folders viewers may read, e.g. a licence page')}
      ${field('thumbnail', 'Thumbnail', current?.thumbnail ?? '', 'an image of the workspace (optional)')}`;
    // Typing a name means "only these": no second click needed.
    for (const name of ['users', 'roles', 'groups']) {
      this.input(name).addEventListener('input', () => {
        (this.node.querySelector('input[value="some"]') as HTMLInputElement).checked = true;
      });
    }
  }

  private input(name: string): HTMLInputElement {
    return this.node.querySelector(`[name="${name}"]`) as HTMLInputElement;
  }

  getValue(): IPublishRequest {
    const some = (this.node.querySelector('input[value="some"]') as HTMLInputElement).checked;
    // Empty lists (every signed-in user) are what the server stores as no audience.
    const names = (key: keyof IAudience) => (some ? splitNames(this.input(key).value) : []);
    const audience = { users: names('users'), roles: names('roles'), groups: names('groups') };
    return {
      path: this.path,
      title: this.input('title').value,
      description: this.input('description').value,
      audience,
      files: splitNames(this.input('files').value),
      thumbnail: this.input('thumbnail').value.trim()
    };
  }
}

function escapeText(text: string): string {
  const span = document.createElement('span');
  span.textContent = text;
  return span.innerHTML;
}

function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;');
}

function titleFromPath(path: string): string {
  const stem = (path.split('/').pop() ?? path)
    .replace(/\.ipynb$/, '')
    .replace(/[_-]+/g, ' ')
    .trim();
  return stem.charAt(0).toUpperCase() + stem.slice(1);
}

/**
 * "Publish as app": a dialog with the title, description, audience and public files; publishing
 * again changes them, and "Unpublish" is offered once the notebook is published. The server
 * checks everything; its refusal is shown as it says it, and the dialog opens again to fix it.
 */
export async function publishDialog(path: string): Promise<void> {
  const apps = await requestAPI<Answer<'/apps'>>('apps').then(r => r.apps);
  const current = apps.find(app => app.path === path);
  let draft: Partial<IPublishRequest> | undefined = current && {
    ...current,
    thumbnail: current.thumbnail ?? ''
  };
  for (;;) {
    const buttons = [
      Dialog.cancelButton(),
      ...(current ? [Dialog.warnButton({ label: 'Unpublish', ariaLabel: 'Unpublish' })] : []),
      Dialog.okButton({ label: current ? 'Update' : 'Publish' })
    ];
    const body = new PublishForm(path, draft);
    const result = await showDialog({
      title: 'Publish as app',
      body,
      buttons,
      focusNodeSelector: 'input'
    });
    const unpublishing = current !== undefined && result.button.label === 'Unpublish';
    if (!result.button.accept && !unpublishing) {
      return;
    }
    try {
      if (current && unpublishing) {
        await requestAPI(`apps/${encodeURIComponent(current.slug)}`, { method: 'DELETE' });
        Notification.success(`${current.title} is no longer published.`, { autoClose: 5000 });
        return;
      }
      const app = await requestAPI<IPublishedApp>('apps', {
        method: 'POST',
        body: JSON.stringify(result.value)
      });
      Notification.success(
        `Published ${app.title} for ${describeAudience(app.audience)}: ${absoluteURL(app.link)}`,
        {
          autoClose: 8000,
          actions: [{ label: 'Open', callback: () => window.open(app.link, '_blank', 'noopener') }]
        }
      );
      return;
    } catch (reason) {
      Notification.error(`Could not publish ${path}: ${(reason as Error).message}`, {
        autoClose: 8000
      });
      draft = result.value ?? draft; // open again with what was typed, to fix it
    }
  }
}

/** The "Apps" section: the published apps with their audience; open, unpublish, the gallery. */
export function AppsSection(props: { model: RoomModel<IPublishedApp[]> }): JSX.Element {
  const { data, error, refresh } = useRoom('Apps', props.model);
  const apps = data ?? [];

  const unpublish = async (app: IPublishedApp) => {
    const answer = await showDialog({
      title: 'Unpublish app',
      body: `Unpublish ${app.title}? Viewers can no longer open it; the notebook ${app.path} stays.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Unpublish' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await requestAPI(`apps/${encodeURIComponent(app.slug)}`, { method: 'DELETE' });
    } catch (reason) {
      Notification.error(`Could not unpublish ${app.title}: ${(reason as Error).message}`, {
        autoClose: 8000
      });
    }
    refresh();
  };

  return (
    <Section
      id="apps"
      title="Apps"
      count={apps.length}
      polled={{ data, error }}
      empty="No published apps: open a notebook and click Publish in its toolbar."
      actions={[
        {
          label: 'Open the gallery',
          icon: launchIcon,
          onClick: () => window.open(galleryURL(), '_blank')
        },
        { label: 'Refresh apps', icon: refreshIcon, onClick: refresh }
      ]}
    >
      {apps.map(app => (
        <li className="jp-MLApp-item jp-MLApp-app" key={app.slug} data-app={app.slug}>
          <div className="jp-MLApp-itemMain" title={app.description || app.path}>
            <span
              className={`jp-MLApp-state jp-MLApp-state-${app.available ? 'succeeded' : 'failed'}`}
            />
            <a
              className="jp-MLApp-itemName"
              href={app.link}
              target="_blank"
              rel="noopener noreferrer"
            >
              {app.title}
            </a>
            <button
              className="jp-MLApp-iconButton"
              title={`Unpublish ${app.title}`}
              aria-label={`Unpublish ${app.title}`}
              onClick={() => void unpublish(app)}
            >
              <closeIcon.react tag="span" />
            </button>
          </div>
          <div className="jp-MLApp-itemDetail">
            <span className="jp-MLApp-audience">for {describeAudience(app.audience)}</span>
            <span>{app.available ? formatAgo(app.last_updated) : 'notebook missing'}</span>
          </div>
        </li>
      ))}
    </Section>
  );
}
