import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { components, paths } from './generated/api';

/**
 * An error answered by the jupyter-mlapp API, in Jupyter's shape (`message`, `reason`; `error`
 * is the old name of `message`, still read for an older server).
 */
export class MLAppAPIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly detail: unknown = null
  ) {
    super(message);
  }
}

/**
 * Call `/mlapp/api/<path>` through the lab's ServerConnection, which sends the token and the
 * XSRF header: no authentication is bypassed or re-implemented here.
 */
export async function requestAPI<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'mlapp/api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const body: Partial<components['schemas']['Error']> | null =
      data && typeof data === 'object' ? data : null;
    const message = body?.message || body?.error || `${response.status} ${response.statusText}`;
    throw new MLAppAPIError(message, response.status, body?.detail ?? null);
  }
  return data as T;
}

type Method = 'get' | 'post' | 'put' | 'delete';
type JSONOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/**
 * What `<method> /mlapp/api<path>` answers with (its 200 or 201 JSON), as the OpenAPI document
 * says: `Answer<'/jobs/{job_id}'>` is a job.
 */
export type Answer<P extends keyof paths, M extends Method = 'get'> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: infer OK }
    ? JSONOf<OK>
    : R extends { 201: infer Created }
      ? JSONOf<Created>
      : never
  : never;

/** The JSON body `<method> /mlapp/api<path>` takes, as the OpenAPI document says. */
export type Body<P extends keyof paths, M extends Method = 'post'> = paths[P][M] extends {
  requestBody: infer B;
}
  ? JSONOf<B>
  : never;

/** A schema the OpenAPI document names (`components/schemas`): `Schema<'Job'>` is a job. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];

export type IStatus = Answer<'/status'>;
