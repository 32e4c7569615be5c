"""Accounts: argon2 passwords, expiring API tokens, browser sessions and sign-in throttling.

Every edge uses these: the API resolves bearer tokens (`tokens.authenticate_token`), the CLI
creates users and revokes tokens, the pages sign in (`signin.sign_in`) and keep sessions
(`sessions`). Each change and each sign-in (or failure) is written to the audit log.
"""
