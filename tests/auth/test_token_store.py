"""Token storage: keychain round trips, chunking, refusing unsafe backends, the opt-in file."""

from __future__ import annotations

import os
import stat
import sys

import keyring
import keyring.backend
import pytest
from keyring.backends import fail, null

from ikan_console.auth.token_store import (
    IDP_REFRESH_TOKEN,
    PLATFORM_REFRESH_TOKEN,
    SERVICE,
    FileTokenStore,
    KeyringTokenStore,
    TokenStoreUnavailable,
    open_token_store,
    probe_keyring,
)
from tests.auth.conftest import MemoryKeyring

WINDOWS_BLOB_LIMIT = 2_560


class WindowsLimitedKeyring(MemoryKeyring):
    """Refuses values over Windows' 2,560-byte UTF-16 credential blob, like CredWrite does."""

    def set_password(self, service: str, username: str, password: str) -> None:
        """Fail with error 1783 above the limit."""
        if len(password.encode("utf-16-le")) > WINDOWS_BLOB_LIMIT:
            raise OSError(1783, "CredWrite", "The stub received bad data.")
        super().set_password(service, username, password)


class PlaintextKeyring(MemoryKeyring):
    """Named and prioritised like keyrings.alt's PlaintextKeyring (base64 in a file)."""

    priority = 0.5  # type: ignore[assignment]


class LockedKeyring(MemoryKeyring):
    """A collection that stays locked."""

    def get_password(self, service: str, username: str) -> str | None:
        """Raise like SecretService does for a locked collection."""
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


def test_round_trip_in_the_os_keychain(memory_keyring) -> None:
    store = open_token_store()
    store.set("prod", PLATFORM_REFRESH_TOKEN, "rt-platform")
    store.set("prod", IDP_REFRESH_TOKEN, "rt-idp")

    assert store.get("prod", PLATFORM_REFRESH_TOKEN) == "rt-platform"
    assert store.get("prod", IDP_REFRESH_TOKEN) == "rt-idp"
    assert store.get("staging", PLATFORM_REFRESH_TOKEN) is None
    assert store.insecure is False
    assert all(service == SERVICE for service, _ in memory_keyring.entries)


def test_delete_forgets_and_missing_delete_is_fine(memory_keyring) -> None:
    store = open_token_store()
    store.set("prod", PLATFORM_REFRESH_TOKEN, "rt")
    store.delete("prod", PLATFORM_REFRESH_TOKEN)
    store.delete("prod", PLATFORM_REFRESH_TOKEN)
    assert store.get("prod", PLATFORM_REFRESH_TOKEN) is None
    assert memory_keyring.entries == {}


def test_oversized_value_round_trips_through_chunks_on_a_size_limited_backend() -> None:
    backend = WindowsLimitedKeyring()
    store = KeyringTokenStore(backend)
    big = "x" * 10_000 + "-end"

    store.set("prod", IDP_REFRESH_TOKEN, big)

    assert store.get("prod", IDP_REFRESH_TOKEN) == big
    assert len(backend.entries) == 12  # 11 chunks and a manifest
    assert all(len(v.encode("utf-16-le")) <= WINDOWS_BLOB_LIMIT for v in backend.entries.values())


def test_shrinking_value_removes_stale_chunks_and_delete_removes_all() -> None:
    backend = WindowsLimitedKeyring()
    store = KeyringTokenStore(backend)
    store.set("prod", IDP_REFRESH_TOKEN, "y" * 5_000)
    store.set("prod", IDP_REFRESH_TOKEN, "short")
    assert store.get("prod", IDP_REFRESH_TOKEN) == "short"
    assert len(backend.entries) == 1
    store.set("prod", IDP_REFRESH_TOKEN, "z" * 3_000)
    store.delete("prod", IDP_REFRESH_TOKEN)
    assert backend.entries == {}


@pytest.mark.parametrize(
    "damage",
    [
        lambda e: e.update({(SERVICE, "prod/idp-refresh-token"): "truncated-or-foreign"}),
        lambda e: e.pop((SERVICE, "prod/idp-refresh-token#1")),
        lambda e: e.update({(SERVICE, "prod/idp-refresh-token#0"): "tampered"}),
        lambda e: e.update({(SERVICE, "prod/idp-refresh-token"): "v1-chunks:999999:abc"}),
    ],
    ids=["unknown-format", "missing-chunk", "changed-chunk", "absurd-manifest"],
)
def test_corrupt_entry_reads_as_signed_out_not_a_crash(damage) -> None:
    backend = MemoryKeyring()
    store = KeyringTokenStore(backend)
    store.set("prod", IDP_REFRESH_TOKEN, "q" * 2_500)
    damage(backend.entries)
    assert store.get("prod", IDP_REFRESH_TOKEN) is None


def test_no_keyring_says_so_plainly_and_refuses_to_store() -> None:
    status = probe_keyring(fail.Keyring())
    assert not status.usable and "No OS keychain" in status.message
    with pytest.raises(TokenStoreUnavailable) as refused:
        open_token_store(backend=fail.Keyring())
    assert "IKAN_INSECURE_TOKEN_FILE=1" in str(refused.value)


def test_no_keyring_with_opt_in_uses_a_0600_file_in_a_0700_directory(tmp_path) -> None:
    directory = tmp_path / "ikan" / "insecure-tokens"
    store = open_token_store(backend=fail.Keyring(), allow_insecure_file=True, directory=directory)

    store.set("prod", PLATFORM_REFRESH_TOKEN, "rt-platform")

    assert isinstance(store, FileTokenStore) and store.insecure is True
    assert store.label == "file (less safe)"
    assert FileTokenStore(directory).get("prod", PLATFORM_REFRESH_TOKEN) == "rt-platform"
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_file_store_tightens_a_directory_someone_opened_up(tmp_path) -> None:
    directory = tmp_path / "tokens"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    store = FileTokenStore(directory)
    store.set("prod", PLATFORM_REFRESH_TOKEN, "rt")
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_corrupt_or_missing_token_file_reads_as_signed_out(tmp_path) -> None:
    store = FileTokenStore(tmp_path)
    assert store.get("prod", PLATFORM_REFRESH_TOKEN) is None
    store.path.write_text('{"version": 1, "entries": {"prod/platform-re', encoding="utf-8")
    assert store.get("prod", PLATFORM_REFRESH_TOKEN) is None
    store.set("prod", PLATFORM_REFRESH_TOKEN, "rt-new")  # and it recovers on the next write
    assert store.get("prod", PLATFORM_REFRESH_TOKEN) == "rt-new"


def test_null_backend_is_caught_by_reading_back() -> None:
    store = KeyringTokenStore(null.Keyring())
    with pytest.raises(TokenStoreUnavailable) as refused:
        store.set("prod", PLATFORM_REFRESH_TOKEN, "rt")
    assert "gave nothing back" in str(refused.value)


def test_null_backend_is_reported_as_disabled() -> None:
    status = probe_keyring(null.Keyring())
    assert not status.usable and "disabled" in status.message


def test_plaintext_keyring_is_reported_and_not_used_silently(tmp_path) -> None:
    status = probe_keyring(PlaintextKeyring())
    assert not status.usable and status.insecure
    assert "readable text" in status.message
    with pytest.raises(TokenStoreUnavailable):
        open_token_store(backend=PlaintextKeyring())
    opted_in = open_token_store(
        backend=PlaintextKeyring(), allow_insecure_file=True, directory=tmp_path
    )
    assert opted_in.insecure


def test_failing_write_is_a_plain_message_without_the_secret() -> None:
    class BrokenKeyring(MemoryKeyring):
        """Fails every write, quoting the secret in its error (as some backends do)."""

        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.PasswordSetError(f"cannot store {password}")

    with pytest.raises(TokenStoreUnavailable) as refused:
        KeyringTokenStore(BrokenKeyring()).set("prod", PLATFORM_REFRESH_TOKEN, "rt-very-secret")
    assert "rt-very-secret" not in str(refused.value)
    assert "PasswordSetError" in str(refused.value)


def test_locked_keychain_raises_a_plain_message_on_read() -> None:
    with pytest.raises(TokenStoreUnavailable, match="Unlock it"):
        KeyringTokenStore(LockedKeyring()).get("prod", PLATFORM_REFRESH_TOKEN)


def test_probe_of_a_real_keychain_is_usable() -> None:
    status = probe_keyring(MemoryKeyring())
    assert status.usable and not status.insecure
    assert status.backend.endswith("MemoryKeyring")
