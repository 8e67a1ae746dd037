"""The faces of the 2FA back office: the `backoffice` CLI, the staff app, the account portal."""
