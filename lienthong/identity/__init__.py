"""Identity and authorization: citizen login (OIDC + PKCE), service clients (OAuth2 client
credentials), staff accounts, and the one authorization policy used by every route."""
