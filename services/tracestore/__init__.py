"""The local trace store: an OTLP/gRPC receiver keeping spans in the data directory.

``paymesh up`` starts it first and points every process and Envoy at it unless
OTEL_EXPORTER_OTLP_ENDPOINT names a real collector; ``paymesh trace`` reads what it keeps.
"""
