"""Login: user accounts with roles, the IdentityProvider and Authorizer of ``jupyter mlapp``.

- ``store.UserStore``: accounts (argon2 hashes, roles, disabled flag) in ``<home>/auth``.
- ``identity.MLAppIdentityProvider``: the server token (owner, admin), API tokens, login cookies.
- ``authorizer.MLAppAuthorizer``: role x resource x action for every route.
- ``kernels``: each kernel knows its user (``jupyter_mlapp.current_user()``).
- ``cli``: ``jupyter mlapp user add|remove|passwd|list|set-role|disable``.
"""
