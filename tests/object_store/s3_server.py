"""A throwaway S3-protocol server on 127.0.0.1 for the object-storage lake tests.

moto's ``ThreadedMotoServer`` speaks the S3 REST protocol over HTTP, so the lake is reached exactly
as in production: s3fs (aiobotocore) signs real requests with credentials and an endpoint taken
from the standard ``AWS_*`` environment. The credentials are dummies and the endpoint is a free
port of 127.0.0.1. moto and s3fs are imported at the top: without them these tests fail, never
skip, since a skipped object-storage test would prove nothing.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import s3fs
from moto.server import ThreadedMotoServer

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    @property
    def environment(self) -> dict[str, str]:
        """What a process needs to reach the server: s3fs reads these itself (no secret is real;
        the empty config files keep a developer's own ~/.aws out of the tests)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "cdi-test-access-key",
            "AWS_SECRET_ACCESS_KEY": "cdi-test-secret-key",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def filesystem(self) -> s3fs.S3FileSystem:
        """A client of this server with no listing cache (the tests look at what is really there)."""
        return s3fs.S3FileSystem(endpoint_url=self.endpoint, key=self.environment["AWS_ACCESS_KEY_ID"],
                                 secret=self.environment["AWS_SECRET_ACCESS_KEY"], use_listings_cache=False,
                                 skip_instance_cache=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """Start the server, check it answers, yield it; stop it on exit."""
    port = free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://{HOST}:{port}"
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=START_TIMEOUT_SECONDS) as answer:
            assert answer.status == 200, f"the S3 server on {endpoint} answered {answer.status}"
        yield S3Server(endpoint)
    finally:
        server.stop()
