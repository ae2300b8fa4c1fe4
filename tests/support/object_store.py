"""A real S3-compatible server on 127.0.0.1 (moto's ``ThreadedMotoServer``) and a catalog uploaded to it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # never ask an instance-metadata address for credentials
}


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # http://127.0.0.1:<port>

    def filesystem(self) -> Any:
        from pyarrow.fs import S3FileSystem

        return S3FileSystem(endpoint_override=self.endpoint, region="us-east-1", allow_bucket_creation=True)

    def upload(self, local_dir: Path, dest: str) -> None:
        """Copy the folder ``local_dir`` to ``dest`` (``bucket/prefix``), creating the bucket."""
        from pyarrow.fs import copy_files

        fs = self.filesystem()
        fs.create_dir(dest.split("/")[0])
        copy_files(str(local_dir), dest, destination_filesystem=fs)


@contextmanager
def s3_server(cache: Path) -> Iterator[S3Server]:
    """Start the server; point ``AWS_ENDPOINT_URL``, test credentials and the catalog cache; undo all at the end."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request lines on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in [*ENV, "AWS_ENDPOINT_URL", "SCALPER_CATALOG_CACHE"]}
    os.environ.update(ENV, AWS_ENDPOINT_URL=endpoint, SCALPER_CATALOG_CACHE=str(cache))
    try:
        yield S3Server(endpoint)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
