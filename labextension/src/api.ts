import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * An error answered by the jupyter-mlapp API: its `message` is the server's `error` field.
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
    const message =
      (data && typeof data === 'object' && (data.message ?? data.error)) ||
      `${response.status} ${response.statusText}`;
    throw new MLAppAPIError(message, response.status, data?.detail ?? null);
  }
  return data as T;
}

export interface IStatus {
  version: string;
  home: string;
  user: { username: string; name: string; role: string | null };
  rooms: string[];
}
