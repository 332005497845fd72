"""The merchant service: merchants, apps and their secrets, channel configs and pay passages."""
