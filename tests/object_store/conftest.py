"""An S3-protocol server for the session, and a fresh bucket per test that needs one.

The session's process points s3fs at the server through the standard environment
(``AWS_ENDPOINT_URL`` and dummy keys), the way a deployment configures a lake on object storage;
child processes (the real ``cdi``) inherit it.
"""

from __future__ import annotations

import itertools
import os

import pytest

from tests.object_store.s3_server import running_s3_server

_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def s3_server():
    with running_s3_server() as server:
        saved = {name: os.environ.get(name) for name in server.environment}
        os.environ.update(server.environment)
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def s3(s3_server):
    """A client of the server, for looking at what the pipeline really wrote."""
    return s3_server.filesystem()


@pytest.fixture
def bucket(s3) -> str:
    """A new, empty bucket (names are unique within the session)."""
    name = f"cdi-lake-{os.getpid()}-{next(_bucket_numbers)}"
    s3.mkdir(name)
    return name
