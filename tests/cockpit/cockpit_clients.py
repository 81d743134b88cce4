"""Signing test clients in: the first admin's API key, or new users with their own keys."""

from __future__ import annotations

from fastapi.testclient import TestClient


def as_admin(client: TestClient) -> TestClient:
    """``client`` (started, lifespan entered) acting as the first admin through an API key."""
    key = client.app.state.accounts.create_api_key("admin", "tests")  # type: ignore[attr-defined]
    client.headers["Authorization"] = f"Bearer {key.token}"
    return client
