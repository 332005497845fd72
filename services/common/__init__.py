"""Infrastructure shared by every service: config, errors, servers, clients, storage, telemetry."""
