// Generated from openapi.json by scripts/generate-api.mjs before every build, lint and test:
// do not edit. The document is written by scripts/openapi.py from the rooms' OpenAPI.

export interface paths {
  '/status': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Server status: version, home folder, current user */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description status */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              version: string;
              home: string;
              user: components['schemas']['CurrentUser'];
              rooms: string[];
            };
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the OpenAPI document */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/login': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Sign in with username and password; sets the login cookie (send the _xsrf cookie value as X-XSRFToken) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            username: string;
            password: string;
          };
        };
      };
      responses: {
        /** @description signed in */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                username: string;
                display_name: string;
                role: string;
                /** @enum {string} */
                kind: 'account' | 'owner' | 'hub';
              };
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        429: components['responses']['TooManyAttempts'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/logout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Sign out: every login of the account ends, its app kernels and app session too */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description done */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              ok: boolean;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Who I am: username, display name, role */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the signed-in user */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                username: string;
                display_name: string;
                role: string;
                /** @enum {string} */
                kind: 'account' | 'owner' | 'hub';
              };
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/password': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Change my password; my other logins end */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            current_password: string;
            new_password: string;
          };
        };
      };
      responses: {
        /** @description done */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              ok: boolean;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        /** @description too many failed attempts */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** My API tokens (never their secrets) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description tokens */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
      };
    };
    put?: never;
    /** New API token for scripts (`Authorization: token <token>`); shown once */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            note?: string;
          };
        };
      };
      responses: {
        /** @description the token */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              id: string;
              note: string;
              token: string;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/tokens/{token_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Revoke one of my API tokens */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          token_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description revoked */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** All users (admins) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description users */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              users: components['schemas']['Account'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
      };
    };
    put?: never;
    /** Add a user (admins) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            username: string;
            password: string;
            display_name?: string;
            /** @enum {string} */
            role?: 'admin' | 'editor' | 'viewer';
          };
        };
      };
      responses: {
        /** @description added */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        409: components['responses']['AuthConflict'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/auth/users/{username}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One user (admins) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          username: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the user */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    /** Remove a user (admins) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          username: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description removed */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        404: components['responses']['NotFound'];
        409: components['responses']['AuthConflict'];
      };
    };
    options?: never;
    head?: never;
    /** Change role, display name, password or disabled (admins); disabling ends the user's logins and kernels at once */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          username: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            role?: 'admin' | 'editor' | 'viewer';
            display_name?: string;
            disabled?: boolean;
            password?: string;
          };
        };
      };
      responses: {
        /** @description the user */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['RoleRefused'];
        404: components['responses']['NotFound'];
        409: components['responses']['AuthConflict'];
      };
    };
    trace?: never;
  };
  '/sessions/apps': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your apps with saved state */
    get: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description apps */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              apps: components['schemas']['AppState'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/apps/{app}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The autosaved state of an app */
    get: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the state */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['AppState'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    /** Start a new session: forget the autosaved state (snapshots stay) */
    delete: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description cleared */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/apps/{app}/snapshots': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Snapshots of an app, newest first */
    get: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description snapshots */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              snapshots: components['schemas']['Snapshot'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    /** Save the autosaved state as a named snapshot */
    post: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            /** @default false */
            overwrite?: boolean;
          };
        };
      };
      responses: {
        /** @description saved */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Snapshot'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
        409: components['responses']['SnapshotExists'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/apps/{app}/snapshots/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One snapshot */
    get: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
          /** @description snapshot name: 1-128 characters, no / \ .. or control characters */
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the snapshot */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Snapshot'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    /** Delete a snapshot */
    delete: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
          /** @description snapshot name: 1-128 characters, no / \ .. or control characters */
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description deleted */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    /** Rename a snapshot */
    patch: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
          /** @description snapshot name: 1-128 characters, no / \ .. or control characters */
          name: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
          };
        };
      };
      responses: {
        /** @description renamed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Snapshot'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
        409: components['responses']['SnapshotNameTaken'];
      };
    };
    trace?: never;
  };
  '/sessions/apps/{app}/snapshots/{name}/load': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Make a snapshot the app's state (a running app shows it when reloaded) */
    post: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          app: string;
          /** @description snapshot name: 1-128 characters, no / \ .. or control characters */
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the new state */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['AppState'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/cache': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your cached results, and (editors and admins) those shared by an app's users */
    get: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description entries */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              entries: components['schemas']['CacheEntry'][];
              shared: components['schemas']['CacheEntry'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
      };
    };
    put?: never;
    post?: never;
    /** Clear your cache */
    delete: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description removed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              removed: number;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/cache/{key_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Forget one cached result */
    delete: {
      parameters: {
        query?: {
          /** @description admins only: whose sessions (default: yours) */
          user?: string;
        };
        header?: never;
        path: {
          key_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description removed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/cache/shared/{app}/{key_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Forget one result shared by an app's users (editors and admins) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          app: string;
          key_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description removed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OthersSessions'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller's jobs (an admin's: everyone's), oldest first */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description jobs */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              jobs: components['schemas']['Job'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    /** Start a background job (queued while the concurrency limit is reached) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            command: string[] | string;
            name?: string;
            /** @description relative to the server's root folder */
            cwd?: string;
            env?: {
              [key: string]: string;
            };
            /** @description name or path, see /envs */
            environment?: string;
            stdin?: string[] | string;
            /**
             * @description default: the server's
             * @enum {string}
             */
            backend?: 'local' | 'ray';
            resources?: components['schemas']['Resources'];
          };
        };
      };
      responses: {
        /** @description the job */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Job'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/kill-all': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Kill every queued and running job of the caller */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description what was done */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              killed: number;
              results: components['schemas']['KillResult'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/backends': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Where new jobs may run: this machine, and the server's Ray cluster when it has one */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the backends, and the one a job runs on unless it asks */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @enum {string} */
              default: 'local' | 'ray';
              backends: components['schemas']['Backend'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/clear-finished': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Remove the caller's finished jobs (an admin's: everyone's) with their logs */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: {
        content: {
          'application/json': {
            /** @description only jobs that ended more than this many seconds ago */
            older_than: number;
          };
        };
      };
      responses: {
        /** @description how many were removed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              removed: number;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/{job_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One job */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          job_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the job */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Job'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    /** Remove a finished job: its record and its log */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          job_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description removed */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
        409: components['responses']['JobActive'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/{job_id}/log': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A bounded piece of the job's log (stdout and stderr) */
    get: {
      parameters: {
        query?: {
          offset?: number;
          limit?: number;
          /** @description the last N bytes instead of reading from offset */
          tail?: number;
        };
        header?: never;
        path: {
          job_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description log text */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              text: string;
              offset: number;
              next_offset: number;
              size: number;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/{job_id}/kill': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** SIGTERM to the job's process group, SIGKILL after the grace period */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          job_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description what was done */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['KillResult'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/envs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Conda and virtual environments jobs and kernels can run in */
    get: {
      parameters: {
        query?: {
          refresh?: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description environments */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              environments: components['schemas']['Environment'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/{job_id}/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Metrics parsed from the job's log from byte offset 'since' (bounded: follow 'next') */
    get: {
      parameters: {
        query?: {
          /** @description byte offset to parse from: 0, or the 'next' of the previous answer */
          since?: number;
          /** @description 'carry.step' of the previous answer */
          step?: number;
          /** @description 'carry.epoch' of the previous answer */
          epoch?: number;
        };
        header?: never;
        path: {
          job_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description metrics */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              since: number;
              /** @description where parsing started (0 after a reset) */
              start: number;
              /** @description offset to ask for next time */
              next: number;
              /** @description size of the log in bytes */
              size: number;
              /** @description more is already waiting: ask again now */
              more: boolean;
              /** @description the log restarted: drop what you had */
              reset: boolean;
              /** @description the log does not exist (yet, or any more) */
              missing: boolean;
              lines: number;
              notes: string[];
              /** @description pass back as step and epoch next time */
              carry: {
                step: number | null;
                epoch: number | null;
              };
              series: {
                [key: string]: components['schemas']['MetricSeries'];
              };
              state: string;
              finished: boolean;
              /** @description where the training is, from the log's last lines (Epoch 3/10, a tqdm bar, step 30/100); null when it says nothing of it */
              progress: {
                fraction: number;
                label: string;
                /** @description seconds left at the pace so far (while running) */
                eta: number | null;
              } | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/jobs/{job_id}/log/download': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The job's whole log as a file download */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          job_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the log */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/plain': string;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/data/datasets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** pydataset's data sets, sorted by id; q keeps those whose id or title holds it */
    get: {
      parameters: {
        query?: {
          q?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the data sets */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              datasets: components['schemas']['Dataset'][];
            };
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/list': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The entries of a folder, folders first */
    get: {
      parameters: {
        query?: {
          /** @description relative to your root, '/'-separated; '' is the root */
          path?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description entries */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              path: string;
              entries: components['schemas']['FileEntry'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/tree': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A folder and its descendants */
    get: {
      parameters: {
        query?: {
          /** @description relative to your root, '/'-separated; '' is the root */
          path?: string;
          depth?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the tree (entries with 'children') */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['FileEntry'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/stat': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Size, type and modification time of one entry */
    get: {
      parameters: {
        query?: {
          /** @description relative to your root, '/'-separated; '' is the root */
          path?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the entry */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['FileEntry'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/content': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Download a file */
    get: {
      parameters: {
        query?: {
          /** @description relative to your root, '/'-separated; '' is the root */
          path?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the bytes */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/octet-stream': unknown;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
        /** @description too large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Upload a file (the raw body) */
    put: {
      parameters: {
        query?: {
          /** @description relative to your root, '/'-separated; '' is the root */
          path?: string;
          overwrite?: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/octet-stream': unknown;
        };
      };
      responses: {
        /** @description stored */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['FileEntry'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
        409: components['responses']['NameTaken'];
        /** @description too large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/mkdir': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create a folder */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path: string;
          };
        };
      };
      responses: {
        /** @description created */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['FileEntry'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
        409: components['responses']['NameTaken'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/create': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create a text file */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path: string;
            /** @default  */
            content?: string;
          };
        };
      };
      responses: {
        /** @description created */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['FileEntry'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
        409: components['responses']['NameTaken'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/rename': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Rename or move (never overwrites) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path: string;
            new_path: string;
          };
        };
      };
      responses: {
        /** @description the entry at its new path */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['FileEntry'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
        409: components['responses']['NameTaken'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Delete a file or folder (a non-empty folder needs recursive=true) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path: string;
            /** @default false */
            recursive?: boolean;
          };
        };
      };
      responses: {
        /** @description deleted */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              deleted: string;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['OutsideRoot'];
        404: components['responses']['NotFound'];
        409: components['responses']['NameTaken'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/models': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The algorithms (models) and their weights, classes and availability */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the models */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description the available models' names */
              algorithms: string[];
              models: components['schemas']['Model'][];
            };
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    /** One algorithm's weights (return_weights) or classes (return_classes) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            algorithm: string;
            Model_path?: string;
            /** @description the weights version, as Model_path (which wins when both are given) */
            version?: string;
            return_weights?: boolean | string;
            return_classes?: boolean | string;
          };
          'application/x-www-form-urlencoded': {
            algorithm: string;
            Model_path?: string;
            /** @description the weights version, as Model_path (which wins when both are given) */
            version?: string;
            return_weights?: boolean | string;
            return_classes?: boolean | string;
          };
        };
      };
      responses: {
        /** @description the weights and/or classes */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    /** Retire one weights version (its saver or an admin) */
    delete: {
      parameters: {
        query: {
          algorithm: string;
          /** @description required, or version */
          Model_path?: string;
          version?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description deleted */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        /** @description saved by someone else */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/configs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller's prediction config */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the config */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    /** Set the caller's prediction config from an uploaded JSON file (or a JSON body) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            algorithm: string;
            Model_path: string;
            DETECTION_MIN_CONFIDENCE: number;
            TOP_K: number;
          };
          'multipart/form-data': {
            /** Format: binary */
            file: string;
          };
        };
      };
      responses: {
        /** @description the stored config */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/base64': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** A zip of images -> the list of their base64 strings */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'multipart/form-data': {
            /** Format: binary */
            file: string;
          };
          'application/zip': string;
        };
      };
      responses: {
        /** @description base64 strings, in the zip's order */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': string[];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        /** @description too large (or a zip bomb) */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/predict': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Predict on images (base64), rows (records) or a CSV body */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            algorithm: string;
            Model_path: string;
            /** @description the weights version, as Model_path (which wins when both are given) */
            version: string;
            /** @description base64 images */
            images: string[];
            /** @description records {column: value} */
            rows: Record<string, never>[];
            create_images: boolean | string;
            /** @description algorithm, Model_path, DETECTION_MIN_CONFIDENCE (0-1), TOP_K, and any other settings */
            config: {
              algorithm: string;
              Model_path: string;
              DETECTION_MIN_CONFIDENCE: number;
              TOP_K: number;
            };
          };
          'application/x-www-form-urlencoded': {
            algorithm: string;
            Model_path: string;
            /** @description the weights version, as Model_path (which wins when both are given) */
            version: string;
            /** @description base64 images */
            images: string[];
            /** @description records {column: value} */
            rows: Record<string, never>[];
            create_images: boolean | string;
            /** @description algorithm, Model_path, DETECTION_MIN_CONFIDENCE (0-1), TOP_K, and any other settings */
            config: {
              algorithm: string;
              Model_path: string;
              DETECTION_MIN_CONFIDENCE: number;
              TOP_K: number;
            };
          };
          'text/csv': string;
        };
      };
      responses: {
        /** @description one [result, image] pair per input */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              Responses: (
                | (
                    | {
                        results: {
                          class_name: string[];
                          scores: number[];
                          'rois [y_min, x_min, y_max, x_max]': number[][];
                        };
                      }
                    | string
                  )
                | null
              )[][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
        /** @description the model is unavailable (its reason is given) */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description too many inputs or too large a body */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness, with the models that failed to load and why */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description healthy */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @enum {string} */
              status: 'ok';
              /** @description how many models the registry has */
              models: number;
              /** @description the weights versions that cannot serve the caller, and why */
              unavailable: {
                algorithm: string;
                Model_path: string;
                reason: string;
              }[];
              /** @description jupyter mlapp serve: its worker processes */
              workers?: unknown;
            };
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/version': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Server and API version */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description versions */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description jupyter-mlapp's */
              version: string;
              api: string;
            };
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/appkernels': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** App kernels: each open app page's and the warm pool's (admins) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description kernels and limits */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              kernels: components['schemas']['AppKernel'][];
              limits: {
                [key: string]: number;
              };
            };
          };
        };
        401: components['responses']['Unauthorized'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/appkernels/{kernel_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Stop an app kernel (its page shows the kernel gone; a reload starts another) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          kernel_id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description stopped */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        401: components['responses']['Unauthorized'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The published apps this user may open (editors also see unavailable ones); q searches */
    get: {
      parameters: {
        query?: {
          q?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the apps */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              apps: components['schemas']['PublishedApp'][];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['AppRefused'];
      };
    };
    put?: never;
    /** Publish a notebook as an app, or change how it is published (editors, admins) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path: string;
            title?: string;
            description?: string;
            thumbnail?: string;
            audience?: components['schemas']['Audience'];
            files?: string[];
            slug?: string;
          };
        };
      };
      responses: {
        /** @description changed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['PublishedApp'];
          };
        };
        /** @description published */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['PublishedApp'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['AppRefused'];
        404: components['responses']['NotFound'];
        409: components['responses']['SlugTaken'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{slug}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One app */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          slug: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description the app */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['PublishedApp'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['AppRefused'];
        404: components['responses']['NotFound'];
      };
    };
    put?: never;
    post?: never;
    /** Unpublish an app (editors, admins); the notebook stays */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          slug: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description unpublished */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['AppRefused'];
        404: components['responses']['NotFound'];
      };
    };
    options?: never;
    head?: never;
    /** Change an app's title, description, thumbnail, audience, files or slug (editors, admins) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          slug: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path: string;
            title: string;
            description: string;
            thumbnail: string;
            audience: components['schemas']['Audience'];
            files: string[];
            slug: string;
          };
        };
      };
      responses: {
        /** @description the app */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['PublishedApp'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['AppRefused'];
        404: components['responses']['NotFound'];
        409: components['responses']['SlugTaken'];
      };
    };
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    Account: {
      username: string;
      display_name: string;
      /** @enum {string} */
      role: 'admin' | 'editor' | 'viewer';
      created: number;
      last_login: number | null;
      disabled: boolean;
    };
    AppKernel: {
      id: string;
      /** @description the notebook; null for a pooled kernel */
      app: string | null;
      user: string | null;
      /** @enum {string} */
      state: 'open' | 'closing' | 'pooled';
      started: number | null;
      /** @description seconds since its page opened */
      age: number | null;
      /** @description bytes (RSS of the kernel and its children) */
      memory: number;
      execution_state: string | null;
    };
    AppState: {
      app: string;
      keys: number;
      size: number;
      updated?: string | null;
      snapshots: number;
      values?: {
        key: string;
        kind: string;
        size: number;
        updated?: string;
        summary?: string;
        /** @description the value itself, for plain (JSON) values up to 4 KB */
        value?: unknown;
      }[];
      warnings?: string[];
    };
    /** @description who may open the app besides admins and its publisher; empty: every signed-in user */
    Audience: {
      users: string[];
      roles: string[];
      groups: string[];
    };
    Backend: {
      /**
       * @description local: this machine
       * @enum {string}
       */
      name: 'local' | 'ray';
      /** @description whether it takes jobs now (Ray: answered lately) */
      available: boolean;
      /** @description the Ray cluster's dashboard URL */
      address: string | null;
      /** @description why it is not available */
      message: string | null;
    };
    CacheEntry: {
      id: string;
      key: string;
      kind: string;
      size: number;
      created: string;
      used: string;
      hits: number;
      seconds: number;
      expires: string;
      stale: boolean;
      /** @description the cached function (module.name), or '' for direct calls */
      namespace: string;
      version: string;
      /** @description the user whose call computed it */
      writer: string;
      /** @description the app whose users share it, or null */
      shared: string | null;
    };
    CurrentUser: {
      username: string;
      name: string;
      /** @description null: roles are not used */
      role: string | null;
    };
    Dataset: {
      /** @description the name pydataset knows it by */
      id: string;
      title: string;
      /** @description the R package it comes from */
      package: string;
      /** @description unique: the id, or package/id when two packages share an id */
      key: string;
      /** @description 'id — title', as the viewer's picker shows it */
      label: string;
    };
    Environment: {
      name: string;
      path: string;
      /** @enum {string} */
      kind: 'conda' | 'venv' | 'server';
      /** @description its interpreter */
      python: string;
      python_version: string | null;
      has_ipykernel: boolean;
      /** @description why it cannot be used */
      error: string | null;
      /** @description null: not a kernel (no ipykernel) */
      kernel_name: string | null;
      /** @description what to do to use it as a kernel */
      hint: string | null;
    };
    Error: {
      message: string;
      reason: string;
      detail?: unknown;
      /**
       * @deprecated
       * @description message, old name
       */
      error?: string;
    };
    FileEntry: {
      name: string;
      path: string;
      /** @enum {string} */
      type: 'file' | 'folder';
      size?: number | null;
      mtime: number;
    };
    Job: {
      id: string;
      name: string;
      user: string;
      command: string[];
      argv: string[];
      cwd: string;
      env_keys: string[];
      environment: string | null;
      environment_path: string | null;
      /** @enum {string} */
      state: 'queued' | 'running' | 'succeeded' | 'failed' | 'killed' | 'lost';
      created_at: number;
      started_at: number | null;
      ended_at: number | null;
      /** @description seconds */
      runtime: number | null;
      pid: number | null;
      exit_code: number | null;
      /** @description the signal that ended it, e.g. SIGKILL */
      signal: string | null;
      cpu_percent: number | null;
      /** @description resident bytes */
      memory: number | null;
      reason: string | null;
      log_path: string;
      grace: number;
      /** @description null: this machine; ray: the Ray cluster */
      backend: string | null;
      resources: components['schemas']['Resources'] | null;
      supervisor_pid: number | null;
      kill_requested_at: number | null;
      /** @description the role of the user who started it */
      role: string | null;
      /** @description the job template it was started from */
      template: string | null;
    };
    KillResult: {
      job: components['schemas']['Job'];
      message: string;
      killed: boolean;
    };
    /** @description one metric: its values and, per value, the step and epoch it was logged at (null when unknown). Non-finite values are the strings NaN, Infinity, -Infinity. */
    MetricSeries: {
      /** @description the chart it belongs on (loss for val_loss) */
      family: string;
      value: (number | string)[];
      step: (number | null)[];
      epoch: (number | null)[];
    };
    Model: {
      name: string;
      /** @enum {string} */
      kind: 'image' | 'tabular';
      /** @description classification, detection or regression */
      task: string;
      classes: string[];
      input_schema: Record<string, never>;
      /** @description its weights versions */
      weights: string[];
      /** @description the latest version's, which predictions use by default */
      default_weights: string;
      saved_by: string;
      saved_at: number;
      /** @description bytes, every version */
      size: number;
      /** @description whether a version can serve the caller */
      available: boolean;
      versions: components['schemas']['ModelVersion'][];
    };
    ModelVersion: {
      name: string;
      version: string;
      /**
       * @deprecated
       * @description version, old name
       */
      model_path?: string;
      format: string;
      /** @description bytes */
      size: number;
      sha256: string;
      /** @description classification, detection or regression */
      task: string;
      /** @enum {string} */
      kind: 'image' | 'tabular';
      classes: string[];
      input_schema: Record<string, never>;
      config: Record<string, never>;
      metrics: Record<string, never>;
      examples: Record<string, never>[];
      description: string;
      saved_by: string;
      saved_at: number;
      /** @description whether it can serve the caller */
      available: boolean;
      /** @description why it cannot */
      reason: string | null;
    };
    PublishedApp: {
      slug: string;
      path: string;
      title: string;
      description: string;
      thumbnail: string | null;
      audience?: components['schemas']['Audience'];
      /** @description workspace files (or folders) the app declares public */
      files?: string[];
      published_by?: string;
      published: number;
      updated: number;
      /** @description when the notebook last changed */
      last_updated: number;
      /** @description false: the notebook is gone from disk */
      available: boolean;
      /** @description /voila/render/<path> */
      url: string;
      /** @description the short link /mlapp/apps/<slug> */
      link: string;
    };
    /** @description asked of the Ray cluster (backend ray) */
    Resources: {
      cpus: number;
      gpus: number;
      /** @description bytes */
      memory: number;
    };
    Snapshot: {
      name: string;
      /** Format: date-time */
      created: string;
      size: number;
      keys: number;
      summary: string;
    };
  };
  responses: {
    /** @description refused */
    AppRefused: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description conflict (exists already, or the last admin) */
    AuthConflict: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description bad input */
    BadRequest: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description the job is queued or running: kill it first */
    JobActive: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description the name is taken, or the folder is not empty */
    NameTaken: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description no such thing */
    NotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description another user's sessions, and you are not an admin */
    OthersSessions: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description the path leaves your root */
    OutsideRoot: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description not allowed for your role */
    RoleRefused: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description the slug is taken */
    SlugTaken: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description a snapshot with that name exists */
    SnapshotExists: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description the new name is taken */
    SnapshotNameTaken: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description too many failed attempts; see Retry-After */
    TooManyAttempts: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description not logged in */
    Unauthorized: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
  };
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
