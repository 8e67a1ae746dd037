"""The domain of the 2FA back office: plain Python services, no user interface."""
