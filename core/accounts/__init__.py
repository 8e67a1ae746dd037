"""Hub accounts: users and passwords, SSH public keys, personal access tokens."""
