"""Local, honest simulators of the payment channels, for tests and offline development."""
